package emulator

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	mathrand "math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"golang.org/x/crypto/ssh"
)

// maxPublicKeyBody is the largest ImportKeyPair PublicKeyBody accepted, in bytes.
// A 16384-bit RSA key, the largest ssh-keygen makes, is about 2.8 KiB of text.
const maxPublicKeyBody = 16 << 10 // bytes

// rsaKeyBits is the size of the RSA keys CreateKeyPair makes.
const rsaKeyBits = 2048

// acceptedKeyTypes are the key type words ImportKeyPair accepts.
var acceptedKeyTypes = map[string]bool{
	ssh.KeyAlgoRSA: true,
	// "ssh-dss": x/crypto/ssh names it InsecureKeyAlgoDSA and marks the
	// name deprecated, but the API documents it, so the emulator accepts it.
	"ssh-dss":           true,
	ssh.KeyAlgoECDSA256: true,
	ssh.KeyAlgoECDSA384: true,
	ssh.KeyAlgoECDSA521: true,
}

const (
	acceptedKeyTypesText = "ssh-rsa, ssh-dss or ecdsa-sha2-nistp256/384/521"
	publicKeyLineText    = `one OpenSSH public key line "<type> <base64> [comment]"`
)

// fingerprintMD5 returns the ECS fingerprint of an SSH public key: MD5 over the
// SSH wire-format public key blob, lower-case hex pairs joined by ':' (what
// `ssh-keygen -l -E md5` prints after "MD5:"). Created and imported keys are
// fingerprinted the same way.
func fingerprintMD5(pub ssh.PublicKey) string {
	return ssh.FingerprintLegacyMD5(pub)
}

// authorizedKey returns "<type> <base64>" for a public key: no comment, no
// trailing newline.
func authorizedKey(pub ssh.PublicKey) string {
	return strings.TrimSuffix(string(ssh.MarshalAuthorizedKey(pub)), "\n")
}

// parsePublicKeyBody parses an ImportKeyPair PublicKeyBody: one OpenSSH
// authorized_keys-style line "<type> <base64> [comment]"; white space around it
// (including a trailing newline or CRLF) is ignored. The accepted types are
// ssh-rsa, ssh-dss, ecdsa-sha2-nistp256, ecdsa-sha2-nistp384 and
// ecdsa-sha2-nistp521. Everything else is refused: other key types (ssh-ed25519,
// sk-* security keys, ...), certificates, RFC 4716 and PEM blocks (including
// private keys), authorized_keys option prefixes, several lines, key data that
// is not base64 or not a public key of the type the line names, an empty body
// and bodies longer than maxPublicKeyBody.
//
// It returns the parsed key and its canonical text "<type> <base64>" without
// the comment, which DescribeKeyPairs returns as PublicKey. Error messages are
// meant for the user: they say what is wrong and what is accepted, and quote at
// most the first 40 characters of any part of the input.
func parsePublicKeyBody(body string) (ssh.PublicKey, string, error) {
	if len(body) > maxPublicKeyBody {
		return nil, "", fmt.Errorf("the public key body is too long (%d bytes; at most %d bytes are accepted); expected %s",
			len(body), maxPublicKeyBody, publicKeyLineText)
	}
	line := strings.TrimSpace(body)
	if line == "" {
		return nil, "", fmt.Errorf("the public key body is empty; expected %s", publicKeyLineText)
	}
	switch {
	case strings.HasPrefix(line, "---- BEGIN SSH2 PUBLIC KEY"):
		return nil, "", fmt.Errorf(`the RFC 4716 format ("---- BEGIN SSH2 PUBLIC KEY ----") is not supported; `+
			"convert the key with `ssh-keygen -i -f FILE` to %s", publicKeyLineText)
	case strings.HasPrefix(line, "-----BEGIN"):
		first, _, _ := strings.Cut(line, "\n")
		if strings.Contains(first, "PRIVATE KEY") {
			return nil, "", fmt.Errorf("this is a private key, not a public key; never upload a private key. " +
				"Import the public half instead (the .pub file, or the output of `ssh-keygen -y -f FILE`)")
		}
		return nil, "", fmt.Errorf(`PEM blocks ("-----BEGIN ...") are not supported; expected %s`, publicKeyLineText)
	}
	if strings.ContainsAny(line, "\r\n") {
		return nil, "", fmt.Errorf("the public key body has several lines; expected exactly %s", publicKeyLineText)
	}

	fields := strings.Fields(line)
	keyType := fields[0]
	if !acceptedKeyTypes[keyType] {
		return nil, "", unsupportedKeyTypeError(fields)
	}
	if len(fields) < 2 {
		return nil, "", fmt.Errorf("the key data is missing after %q; expected %s", keyType, publicKeyLineText)
	}
	blob, err := base64.StdEncoding.DecodeString(fields[1])
	if err != nil {
		return nil, "", fmt.Errorf("the key data after %q is not valid base64; expected %s", keyType, publicKeyLineText)
	}
	inner, ok := blobKeyType(blob)
	if !ok {
		return nil, "", fmt.Errorf("the key data after %q is not an SSH public key", keyType)
	}
	if inner != keyType {
		return nil, "", fmt.Errorf("the key data holds a %s key but the line starts with %q; the type word must match the key",
			quoteClip(inner), keyType)
	}
	pub, err := ssh.ParsePublicKey(blob)
	if err != nil {
		return nil, "", fmt.Errorf("the key data is not a valid %s public key (%s)",
			keyType, clip(strings.TrimPrefix(err.Error(), "ssh: ")))
	}
	if pub.Type() != keyType { // cannot happen after the blobKeyType check
		return nil, "", fmt.Errorf("the key data holds a %s key but the line starts with %q", quoteClip(pub.Type()), keyType)
	}
	return pub, authorizedKey(pub), nil
}

// unsupportedKeyTypeError explains why a line whose first word is not an
// accepted key type is refused.
func unsupportedKeyTypeError(fields []string) error {
	word := fields[0]
	if strings.ContainsAny(word, `="`) || authorizedKeysOptions[strings.ToLower(word)] || laterFieldIsKeyType(fields) {
		return fmt.Errorf("authorized_keys options (%s) are not supported; remove them and provide only %s",
			quoteClip(word), publicKeyLineText)
	}
	if strings.Contains(word, "-cert-v0") {
		return fmt.Errorf("OpenSSH certificates (%s) are not supported; import the plain public key (the .pub file, not the -cert.pub), type %s",
			quoteClip(word), acceptedKeyTypesText)
	}
	if strings.HasPrefix(word, "sk-") {
		return fmt.Errorf("security key (FIDO) type %s is not supported; use %s", quoteClip(word), acceptedKeyTypesText)
	}
	if strings.HasPrefix(word, "AAAA") {
		if blob, err := base64.StdEncoding.DecodeString(word); err == nil {
			if _, ok := blobKeyType(blob); ok {
				return fmt.Errorf("the key type word is missing; expected %s with type %s", publicKeyLineText, acceptedKeyTypesText)
			}
		}
	}
	return fmt.Errorf("key type %s is not supported; use %s", quoteClip(word), acceptedKeyTypesText)
}

// authorizedKeysOptions are the authorized_keys options that take no value
// (see sshd(8), AUTHORIZED_KEYS FILE FORMAT).
var authorizedKeysOptions = map[string]bool{
	"agent-forwarding": true, "cert-authority": true, "no-agent-forwarding": true,
	"no-port-forwarding": true, "no-pty": true, "no-user-rc": true, "no-x11-forwarding": true,
	"port-forwarding": true, "pty": true, "restrict": true, "user-rc": true,
	"x11-forwarding": true, "no-touch-required": true, "verify-required": true,
}

// laterFieldIsKeyType reports whether a word after the first looks like a key
// type, as in `no-pty ssh-rsa AAAA...`.
func laterFieldIsKeyType(fields []string) bool {
	for _, f := range fields[1:] {
		if acceptedKeyTypes[f] || strings.HasPrefix(f, "ssh-") || strings.HasPrefix(f, "ecdsa-sha2-") ||
			strings.HasPrefix(f, "sk-ssh-") || strings.HasPrefix(f, "sk-ecdsa-") {
			return true
		}
	}
	return false
}

// blobKeyType returns the key type name that starts an SSH wire-format public
// key blob (a uint32 length and that many bytes).
func blobKeyType(blob []byte) (string, bool) {
	if len(blob) < 4 {
		return "", false
	}
	n := binary.BigEndian.Uint32(blob)
	if n == 0 || uint64(n) > uint64(len(blob)-4) {
		return "", false
	}
	return string(blob[4 : 4+n]), true
}

// clipRunes is how much of the user's input an error message may quote.
const clipRunes = 40

// clip returns s cut to clipRunes runes, with "..." appended when cut.
func clip(s string) string {
	if utf8.RuneCountInString(s) <= clipRunes {
		return s
	}
	n := 0
	for i := range s {
		if n == clipRunes {
			return s[:i] + "..."
		}
		n++
	}
	return s
}

// quoteClip quotes s (escaping control characters and invalid UTF-8) after
// cutting it to clipRunes runes.
func quoteClip(s string) string {
	c := clip(s)
	if c == s {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%q...", strings.TrimSuffix(c, "..."))
}

// encodePrivateKeyPEM renders an RSA private key the way the API returns
// PrivateKeyBody: PKCS#1 in a "-----BEGIN RSA PRIVATE KEY-----" PEM block
// (ending with a newline).
func encodePrivateKeyPEM(k *rsa.PrivateKey) string {
	return string(pem.EncodeToMemory(&pem.Block{
		Type:  "RSA PRIVATE KEY",
		Bytes: x509.MarshalPKCS1PrivateKey(k),
	}))
}

// newRSAKey returns a fresh 2048-bit RSA private key (e = 65537), validated and
// precomputed.
//
// With a nil fast source it calls rsa.GenerateKey(crypto/rand.Reader, 2048),
// which takes about 100-200 ms.
//
// With a fast source it takes about 0.2 ms (mostly crypto/rsa's own
// consistency checks in Precompute, which MarshalPKCS1PrivateKey would run
// anyway): it multiplies two distinct primes of the fixed pool in
// fastprimes.go, the next pair the source has not handed out, so that the keys
// of one source have distinct moduli. Once a source has used every pair it
// falls back to rsa.GenerateKey.
// FAST KEYS ARE INSECURE: their primes are published in the source and shared
// between keys, so anyone can factor them. They are for tests and benchmarks
// only and must never protect anything.
func newRSAKey(fast *fastKeySource) (*rsa.PrivateKey, error) {
	if fast != nil {
		primes := fastPrimes()
		for {
			i, j, ok := fast.nextPair(len(primes))
			if !ok {
				break
			}
			p, q := new(big.Int).Set(primes[i]), new(big.Int).Set(primes[j])
			if k, err := rsaKeyFromPrimes(p, q); err == nil {
				return k, nil
			}
			// An unusable pair (none in the pool as generated) is skipped.
		}
	}
	k, err := rsa.GenerateKey(rand.Reader, rsaKeyBits)
	if err != nil {
		return nil, err
	}
	k.Precompute()
	return k, nil
}

// fastKeySource hands out the pairs of the fast prime pool, each once. Every
// emulator has its own, so that no test or process can use up another's
// keys. A source starts at a random pair and wraps around, so that two
// emulators (or two runs) rarely issue the same keys. It is safe for
// concurrent use.
type fastKeySource struct {
	start uint64
	used  atomic.Uint64
}

func newFastKeySource() *fastKeySource {
	m := uint64(len(fastRSAPrimes))
	return &fastKeySource{start: mathrand.Uint64N(m * (m - 1) / 2)}
}

// nextPair returns the next unused pair of the m pool primes; ok is false
// once every pair has been handed out.
func (f *fastKeySource) nextPair(m int) (i, j int, ok bool) {
	total := uint64(m * (m - 1) / 2)
	n := f.used.Add(1) - 1
	if n >= total {
		return 0, 0, false
	}
	return fastPrimePair((f.start+n)%total, m)
}

// fastPrimes returns the pool of fastprimes.go, parsed once.
var fastPrimes = sync.OnceValue(func() []*big.Int {
	ps := make([]*big.Int, 0, len(fastRSAPrimes))
	for _, h := range fastRSAPrimes {
		p, ok := new(big.Int).SetString(h, 16)
		if !ok || p.BitLen() != rsaKeyBits/2 {
			panic("emulator: malformed prime in fastprimes.go")
		}
		ps = append(ps, p)
	}
	return ps
})

// fastPrimePair maps n = 0, 1, 2, ... to the pairs (i, j), i < j < m, in the
// order (0,1), (0,2), (1,2), (0,3), ...; ok is false once n exceeds the
// m*(m-1)/2 pairs.
func fastPrimePair(n uint64, m int) (i, j int, ok bool) {
	for hi := 1; hi < m; hi++ {
		if n < uint64(hi) {
			return int(n), hi, true
		}
		n -= uint64(hi)
	}
	return 0, 0, false
}

var (
	bigOne  = big.NewInt(1)
	rsaE    = 65537
	bigRSAE = big.NewInt(int64(rsaE))
)

// rsaKeyFromPrimes builds and validates the RSA key with primes p and q and
// e = 65537; d = e^-1 mod lcm(p-1, q-1), as crypto/rsa.GenerateKey makes it.
// The CRT values are filled in here so that Precompute only checks them
// (crypto/rsa would otherwise compute q^-1 mod p by a constant-time modular
// exponentiation, which costs far more than the rest).
func rsaKeyFromPrimes(p, q *big.Int) (*rsa.PrivateKey, error) {
	if p.Cmp(q) == 0 {
		return nil, errors.New("equal primes")
	}
	n := new(big.Int).Mul(p, q)
	if n.BitLen() != rsaKeyBits {
		return nil, fmt.Errorf("modulus has %d bits", n.BitLen())
	}
	pm1 := new(big.Int).Sub(p, bigOne)
	qm1 := new(big.Int).Sub(q, bigOne)
	g := new(big.Int).GCD(nil, nil, pm1, qm1)
	lambda := new(big.Int).Mul(pm1, qm1)
	lambda.Quo(lambda, g)
	d := new(big.Int).ModInverse(bigRSAE, lambda)
	if d == nil {
		return nil, errors.New("e is not invertible")
	}
	qInv := new(big.Int).ModInverse(q, p)
	if qInv == nil {
		return nil, errors.New("q is not invertible mod p")
	}
	k := &rsa.PrivateKey{
		PublicKey: rsa.PublicKey{N: n, E: rsaE},
		D:         d,
		Primes:    []*big.Int{p, q},
		Precomputed: rsa.PrecomputedValues{
			Dp:   new(big.Int).Mod(d, pm1),
			Dq:   new(big.Int).Mod(d, qm1),
			Qinv: qInv,
		},
	}
	k.Precompute()
	if err := k.Validate(); err != nil {
		return nil, err
	}
	return k, nil
}
