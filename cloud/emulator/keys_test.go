package emulator

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// keyFixtures is testdata/keys (see regenerate.sh there).
var keyFixtures = filepath.Join("..", "..", "testdata", "keys")

// keyFixture returns the contents of testdata/keys/name.
func keyFixture(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(keyFixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// keygenMD5 returns the hex after "MD5:" in a line printed by
// `ssh-keygen -l -E md5`, e.g. "2048 MD5:ab:cd:... comment (RSA)".
func keygenMD5(t testing.TB, out string) string {
	t.Helper()
	for _, f := range strings.Fields(out) {
		if h, ok := strings.CutPrefix(f, "MD5:"); ok {
			return h
		}
	}
	t.Fatalf("no MD5: field in ssh-keygen output %q", out)
	return ""
}

// firstTwoFields returns "<type> <base64>" of a .pub line.
func firstTwoFields(t testing.TB, line string) string {
	t.Helper()
	f := strings.Fields(line)
	if len(f) < 2 {
		t.Fatalf("not a public key line: %q", line)
	}
	return f[0] + " " + f[1]
}

func TestParsePublicKeyBodyFixtures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		wantType string
		wantBits int // of the RSA modulus / DSA P / ECDSA curve
	}{
		{"rsa2048", "ssh-rsa", 2048},
		{"rsa4096", "ssh-rsa", 4096},
		{"dsa1024", "ssh-dss", 1024},
		{"ecdsa256", "ecdsa-sha2-nistp256", 256},
		{"ecdsa384", "ecdsa-sha2-nistp384", 384},
		{"ecdsa521", "ecdsa-sha2-nistp521", 521},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := keyFixture(t, tt.name+".pub")
			pub, canonical, err := parsePublicKeyBody(body)
			if err != nil {
				t.Fatalf("parsePublicKeyBody: %v", err)
			}
			if pub.Type() != tt.wantType {
				t.Errorf("type %q, want %q", pub.Type(), tt.wantType)
			}
			if want := firstTwoFields(t, body); canonical != want {
				t.Errorf("canonical text\n got %q\nwant %q", canonical, want)
			}
			if got := authorizedKey(pub); got != canonical {
				t.Errorf("authorizedKey %q differs from canonical %q", got, canonical)
			}
			want := keygenMD5(t, keyFixture(t, tt.name+".md5"))
			if got := fingerprintMD5(pub); got != want {
				t.Errorf("fingerprintMD5 %s, ssh-keygen says %s", got, want)
			}
			if bits := strings.Fields(keyFixture(t, tt.name+".md5"))[0]; bits != big.NewInt(int64(tt.wantBits)).String() {
				t.Errorf("fixture is a %s-bit key, want %d", bits, tt.wantBits)
			}
		})
	}
}

func TestParsePublicKeyBodyAcceptsVariations(t *testing.T) {
	t.Parallel()
	rsaLine := strings.TrimSpace(keyFixture(t, "rsa2048.pub"))
	rsaKey := firstTwoFields(t, rsaLine)
	ecLine := strings.TrimSpace(keyFixture(t, "ecdsa256.pub"))
	ecKey := firstTwoFields(t, ecLine)
	dsaKey := firstTwoFields(t, keyFixture(t, "dsa1024.pub"))
	tests := []struct {
		name, body, want string
	}{
		{"as is", rsaLine, rsaKey},
		{"trailing newline", rsaLine + "\n", rsaKey},
		{"CRLF", rsaLine + "\r\n", rsaKey},
		{"CRLF ecdsa", ecLine + "\r\n", ecKey},
		{"leading and trailing spaces", "   " + rsaLine + "  ", rsaKey},
		{"tabs and newlines around", "\t\n" + rsaLine + "\t\n\n", rsaKey},
		{"no comment", rsaKey, rsaKey},
		{"no comment dsa", dsaKey + "\n", dsaKey},
		{"comment with spaces", rsaKey + " my laptop  key (2024)", rsaKey},
		{"tab between fields", strings.Replace(rsaKey, " ", "\t", 1) + "\tcomment", rsaKey},
		{"exactly the size limit", rsaLine + strings.Repeat(" ", maxPublicKeyBody-len(rsaLine)), rsaKey},
	}
	want := keygenMD5(t, keyFixture(t, "rsa2048.md5"))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub, canonical, err := parsePublicKeyBody(tt.body)
			if err != nil {
				t.Fatalf("parsePublicKeyBody: %v", err)
			}
			if canonical != tt.want {
				t.Errorf("canonical text\n got %q\nwant %q", canonical, tt.want)
			}
			if tt.want == rsaKey && fingerprintMD5(pub) != want {
				t.Errorf("fingerprint %s, want %s", fingerprintMD5(pub), want)
			}
		})
	}
}

func TestParsePublicKeyBodyRejects(t *testing.T) {
	t.Parallel()
	rsaLine := strings.TrimSpace(keyFixture(t, "rsa2048.pub"))
	rsaB64 := strings.Fields(rsaLine)[1]
	rsaBlob, err := base64.StdEncoding.DecodeString(rsaB64)
	if err != nil {
		t.Fatal(err)
	}
	ecLine := strings.TrimSpace(keyFixture(t, "ecdsa256.pub"))
	edLine := strings.TrimSpace(keyFixture(t, "ed25519.pub"))
	edB64 := strings.Fields(edLine)[1]
	certLine := strings.TrimSpace(keyFixture(t, "rsa2048.cert"))
	certB64 := strings.Fields(certLine)[1]
	fastKey, err := newRSAKey(newFastKeySource())
	if err != nil {
		t.Fatal(err)
	}
	privPEM := encodePrivateKeyPEM(fastKey)
	long := rsaLine + " " + strings.Repeat("c", maxPublicKeyBody)

	tests := []struct {
		name, body, want string
	}{
		{"ed25519", keyFixture(t, "ed25519.pub"), `key type "ssh-ed25519" is not supported; use ssh-rsa, ssh-dss or ecdsa-sha2-nistp256/384/521`},
		{"ed448", "ssh-ed448 AAAAC3NzaC1lZDQ0OAAAADk= x", `key type "ssh-ed448" is not supported`},
		{"sk ed25519", "sk-ssh-ed25519@openssh.com " + edB64, `security key (FIDO) type "sk-ssh-ed25519@openssh.com" is not supported`},
		{"sk ecdsa", "sk-ecdsa-sha2-nistp256@openssh.com " + edB64, "security key (FIDO)"},
		{"rsa certificate", keyFixture(t, "rsa2048.cert"), `OpenSSH certificates ("ssh-rsa-cert-v01@openssh.com") are not supported`},
		{"certificate blob under ssh-rsa", "ssh-rsa " + certB64, `holds a "ssh-rsa-cert-v01@openssh.com" key but the line starts with "ssh-rsa"`},
		{"RFC 4716", keyFixture(t, "rsa2048.rfc4716"), "RFC 4716 format"},
		{"options from", `from="10.0.0.1,192.168.1.0/24" ` + rsaLine, `authorized_keys options ("from=\"10.0.0.1,192.168.1.0/24\"") are not supported`},
		{"options no-pty", "no-pty " + rsaLine, `authorized_keys options ("no-pty")`},
		{"options restrict,command", `restrict,command="uptime" ` + rsaLine, "authorized_keys options"},
		{"options quoted space", `command="echo hi there",no-pty ` + ecLine, "authorized_keys options"},
		{"two lines", rsaLine + "\n" + ecLine + "\n", "several lines"},
		{"two lines CRLF", rsaLine + "\r\n" + ecLine, "several lines"},
		{"key split over lines", "ssh-rsa " + rsaB64[:100] + "\n" + rsaB64[100:], "several lines"},
		{"empty", "", "the public key body is empty"},
		{"white space only", " \t\r\n \n", "the public key body is empty"},
		{"type only", "ssh-rsa", `the key data is missing after "ssh-rsa"`},
		{"type only with newline", "ssh-dss\n", `the key data is missing after "ssh-dss"`},
		{"bad base64", "ssh-rsa AAAAB3Nza12345678qwertyuudsfsg", `the key data after "ssh-rsa" is not valid base64`},
		{"base64 with junk", "ssh-rsa " + rsaB64[:40] + "!!!" + rsaB64[40:], "not valid base64"},
		{"base64 not a key", "ssh-rsa " + base64.StdEncoding.EncodeToString([]byte("hello")), "is not an SSH public key"},
		{"truncated key", "ssh-rsa " + base64.StdEncoding.EncodeToString(rsaBlob[:len(rsaBlob)-10]), "the key data is not a valid ssh-rsa public key"},
		{"trailing junk in key", "ssh-rsa " + base64.StdEncoding.EncodeToString(append(bytes.Clone(rsaBlob), 0, 0, 0, 0)), "the key data is not a valid ssh-rsa public key"},
		{"type mismatch dss/rsa", "ssh-dss " + rsaB64 + " x", `the key data holds a "ssh-rsa" key but the line starts with "ssh-dss"`},
		{"type mismatch ecdsa curve", strings.Replace(ecLine, "nistp256", "nistp384", 1), `holds a "ecdsa-sha2-nistp256" key but the line starts with "ecdsa-sha2-nistp384"`},
		{"ed25519 blob under ssh-rsa", "ssh-rsa " + edB64, `holds a "ssh-ed25519" key`},
		{"missing type word", rsaB64 + " comment", "the key type word is missing"},
		{"PEM RSA private key", privPEM, "this is a private key, not a public key"},
		{"OpenSSH private key", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n", "this is a private key"},
		{"PEM public key", "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END PUBLIC KEY-----", "PEM blocks"},
		{"over-long body", long, fmt.Sprintf("the public key body is too long (%d bytes; at most 16384 bytes are accepted)", len(long))},
		{"unknown type", "ssh-mldsa-44 AAAA", `key type "ssh-mldsa-44" is not supported`},
		{"long garbage type", strings.Repeat("x", 1000) + " AAAA", `key type "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"... is not supported`},
		{"control characters", "\x1b[31mssh-rsa\x00 AAAA", `key type "\x1b[31mssh-rsa\x00" is not supported`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub, canonical, err := parsePublicKeyBody(tt.body)
			if err == nil {
				t.Fatalf("accepted as %q", canonical)
			}
			if pub != nil || canonical != "" {
				t.Errorf("error %v with key %v, canonical %q", err, pub, canonical)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) {
				t.Errorf("error %q\ndoes not contain %q", msg, tt.want)
			}
			// The message quotes at most 40 characters of the input: no
			// 41-character run of the body may appear in it.
			if len(msg) > 400 {
				t.Errorf("error message is %d bytes long", len(msg))
			}
			for i := 0; i+41 <= len(tt.body); i++ {
				if w := tt.body[i : i+41]; strings.Contains(msg, w) {
					t.Fatalf("error echoes %q from the input", w)
				}
			}
		})
	}
}

func TestFingerprintMD5Format(t *testing.T) {
	t.Parallel()
	pub, _, err := parsePublicKeyBody(keyFixture(t, "rsa2048.pub"))
	if err != nil {
		t.Fatal(err)
	}
	fp := fingerprintMD5(pub)
	parts := strings.Split(fp, ":")
	if len(parts) != 16 {
		t.Fatalf("fingerprint %q has %d parts", fp, len(parts))
	}
	for _, p := range parts {
		if len(p) != 2 || strings.Trim(p, "0123456789abcdef") != "" {
			t.Fatalf("fingerprint %q: part %q is not two lower-case hex digits", fp, p)
		}
	}
}

// checkRSAKey checks that k is a valid 2048-bit RSA key with e = 65537.
func checkRSAKey(t testing.TB, k *rsa.PrivateKey) {
	t.Helper()
	if k.N.BitLen() != 2048 {
		t.Fatalf("modulus has %d bits", k.N.BitLen())
	}
	if k.E != 65537 {
		t.Fatalf("e = %d", k.E)
	}
	if len(k.Primes) != 2 {
		t.Fatalf("%d primes", len(k.Primes))
	}
	if err := k.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
}

func TestFastKeyPrimePool(t *testing.T) {
	t.Parallel()
	primes := fastPrimes()
	if len(primes) < 48 {
		t.Fatalf("pool has %d primes, want at least 48", len(primes))
	}
	seen := map[string]bool{}
	for i, p := range primes {
		if p.BitLen() != 1024 || p.Bit(1023) != 1 || p.Bit(1022) != 1 {
			t.Errorf("prime %d: %d bits, top bits %d%d", i, p.BitLen(), p.Bit(1023), p.Bit(1022))
		}
		if !p.ProbablyPrime(0) { // Baillie-PSW; the generator used 64 Miller-Rabin rounds too
			t.Errorf("prime %d is not prime", i)
		}
		if seen[p.String()] {
			t.Errorf("prime %d is a duplicate", i)
		}
		seen[p.String()] = true
	}

	// fastPrimePair enumerates every pair i < j exactly once, then stops.
	m := len(primes)
	total := m * (m - 1) / 2
	pairs := map[[2]int]bool{}
	for n := range total {
		i, j, ok := fastPrimePair(uint64(n), m)
		if !ok || i < 0 || i >= j || j >= m || pairs[[2]int{i, j}] {
			t.Fatalf("pair %d: (%d, %d, %v)", n, i, j, ok)
		}
		pairs[[2]int{i, j}] = true
	}
	if _, _, ok := fastPrimePair(uint64(total), m); ok {
		t.Errorf("pair %d exists past the end", total)
	}

	// Pairs make valid keys (newRSAKey would skip a bad one). All
	// pairs passed when the pool was made; checking them all takes seconds
	// under -race, so check every 7th pair (every 97th with -short).
	step := 7
	if testing.Short() {
		step = 97
	}
	for n := 0; n < total; n += step {
		i, j, _ := fastPrimePair(uint64(n), m)
		k, err := rsaKeyFromPrimes(new(big.Int).Set(primes[i]), new(big.Int).Set(primes[j]))
		if err != nil {
			t.Fatalf("pair (%d, %d): %v", i, j, err)
		}
		if k.N.BitLen() != 2048 {
			t.Fatalf("pair (%d, %d): %d bits", i, j, k.N.BitLen())
		}
	}
}

func TestNewRSAKeyFast(t *testing.T) {
	t.Parallel()
	const count = 1000
	src := newFastKeySource()
	start := time.Now()
	keys := make([]*rsa.PrivateKey, count)
	for i := range keys {
		k, err := newRSAKey(src)
		if err != nil {
			t.Fatal(err)
		}
		keys[i] = k
	}
	elapsed := time.Since(start)
	t.Logf("%d fast keys in %v (%v per key)", count, elapsed, elapsed/count)

	moduli := map[string]int{}
	for i, k := range keys {
		checkRSAKey(t, k)
		if j, dup := moduli[string(k.N.Bytes())]; dup {
			t.Fatalf("keys %d and %d have the same modulus", j, i)
		}
		moduli[string(k.N.Bytes())] = i
		// The key's own primes are not the pool's big.Ints.
		for _, p := range fastPrimes() {
			if k.Primes[0] == p || k.Primes[1] == p {
				t.Fatal("key shares a *big.Int with the prime pool")
			}
		}
	}
}

// TestFastKeySourceHandsOutEachPairOnce checks that a source walks every pair
// of the pool exactly once from its random start, then reports that it is
// done (newRSAKey then makes a real key), and that sources are independent.
func TestFastKeySourceHandsOutEachPairOnce(t *testing.T) {
	t.Parallel()
	const m = 9
	total := m * (m - 1) / 2
	for _, start := range []uint64{0, 1, uint64(total) - 1, 17} {
		src := &fastKeySource{start: start}
		seen := map[[2]int]bool{}
		for n := range total {
			i, j, ok := src.nextPair(m)
			if !ok || seen[[2]int{i, j}] {
				t.Fatalf("start %d, pair %d: (%d, %d, %v), seen before: %v", start, n, i, j, ok, seen[[2]int{i, j}])
			}
			seen[[2]int{i, j}] = true
		}
		if _, _, ok := src.nextPair(m); ok {
			t.Errorf("start %d: a pair past the end", start)
		}
	}
	// One exhausted source does not exhaust another.
	a, b := &fastKeySource{}, &fastKeySource{}
	for range total {
		a.nextPair(m)
	}
	if _, _, ok := b.nextPair(m); !ok {
		t.Error("a second source has no pairs after the first ran out")
	}
}

func TestNewRSAKeySlow(t *testing.T) {
	t.Parallel()
	start := time.Now()
	k, err := newRSAKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("slow key in %v", time.Since(start))
	checkRSAKey(t, k)
}

func TestEncodePrivateKeyPEM(t *testing.T) {
	t.Parallel()
	k, err := newRSAKey(newFastKeySource())
	if err != nil {
		t.Fatal(err)
	}
	text := encodePrivateKeyPEM(k)
	// Never print text: it is a private key.
	if !strings.HasPrefix(text, "-----BEGIN RSA PRIVATE KEY-----\n") ||
		!strings.HasSuffix(text, "\n-----END RSA PRIVATE KEY-----\n") {
		t.Fatal("PrivateKeyBody is not an RSA PRIVATE KEY PEM block")
	}
	block, rest := pem.Decode([]byte(text))
	if block == nil || len(rest) != 0 || len(block.Headers) != 0 {
		t.Fatal("PrivateKeyBody is not exactly one PEM block")
	}
	parsed, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		t.Fatalf("x509.ParsePKCS1PrivateKey: %v", err)
	}
	if !parsed.Equal(k) {
		t.Error("x509.ParsePKCS1PrivateKey returned a different key")
	}
	raw, err := ssh.ParseRawPrivateKey([]byte(text))
	if err != nil {
		t.Fatalf("ssh.ParseRawPrivateKey: %v", err)
	}
	if rk, ok := raw.(*rsa.PrivateKey); !ok || !rk.Equal(k) {
		t.Errorf("ssh.ParseRawPrivateKey returned a %T that differs from the key", raw)
	}
	pub, err := ssh.NewPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if got := authorizedKey(pub); strings.HasSuffix(got, "\n") || !strings.HasPrefix(got, "ssh-rsa AAAAB3NzaC1yc2E") {
		t.Errorf("authorizedKey %q", got)
	}

	t.Run("ssh-keygen", func(t *testing.T) {
		keygen, err := exec.LookPath("ssh-keygen")
		if err != nil {
			t.Skip("ssh-keygen is not on PATH")
		}
		dir := t.TempDir()
		keyFile := filepath.Join(dir, "id_rsa")
		if err := os.WriteFile(keyFile, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(keygen, "-y", "-f", keyFile).Output()
		if err != nil {
			t.Fatalf("ssh-keygen -y: %v", exitDetail(err))
		}
		if got, want := firstTwoFields(t, string(out)), authorizedKey(pub); got != want {
			t.Errorf("ssh-keygen -y prints\n%q\nwant\n%q", got, want)
		}
		pubFile := filepath.Join(dir, "id_rsa.pub")
		if err := os.WriteFile(pubFile, out, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err = exec.Command(keygen, "-l", "-E", "md5", "-f", pubFile).Output()
		if err != nil {
			t.Fatalf("ssh-keygen -l: %v", exitDetail(err))
		}
		if got, want := fingerprintMD5(pub), keygenMD5(t, string(out)); got != want {
			t.Errorf("fingerprintMD5 %s, ssh-keygen says %s", got, want)
		}
		if !strings.HasPrefix(string(out), "2048 ") {
			t.Errorf("ssh-keygen -l: %q", out)
		}
	})
}

// exitDetail adds a command's stderr to its error.
func exitDetail(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return err.Error() + ": " + strings.TrimSpace(string(ee.Stderr))
	}
	return err.Error()
}

// BenchmarkNewRSAKeyFast measures newRSAKey with a fast source. A source
// has only so many fast keys; when one runs out the benchmark takes a new one
// with the timer stopped, so that it never measures the slow generator.
func BenchmarkNewRSAKeyFast(b *testing.B) {
	m := len(fastPrimes())
	total := m * (m - 1) / 2
	src, issued := newFastKeySource(), 0
	for b.Loop() {
		if issued == total {
			b.StopTimer()
			src, issued = newFastKeySource(), 0
			b.StartTimer()
		}
		if _, err := newRSAKey(src); err != nil {
			b.Fatal(err)
		}
		issued++
	}
}
