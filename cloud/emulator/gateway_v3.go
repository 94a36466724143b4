package emulator

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Signature v3 (ACS3-HMAC-SHA256): the action, version, time, nonce and
// payload hash travel as x-acs-* headers, the credentials and the signature
// in the Authorization header:
//
//	Authorization: ACS3-HMAC-SHA256 Credential=<AccessKeyId>,SignedHeaders=host;x-acs-action;...,Signature=<hex>
//
// The signature is HMAC-SHA256, keyed with the AccessKey secret itself (v1
// appends '&'), over "ACS3-HMAC-SHA256\n" + hex(SHA-256(canonical request)).

// v3Algorithm names the signature; x-acs-date has v1's timestampLayout.
const v3Algorithm = "ACS3-HMAC-SHA256"

// v3RequiredHeaders are the common headers every v3 request carries and
// signs; x-acs-security-token joins them when the credentials are STS ones.
var v3RequiredHeaders = []string{"x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256"}

// v3Authorization is a parsed Authorization header.
type v3Authorization struct {
	credential    string
	signedHeaders []string // as sent: lower-cased by the parser, in the client's order
	signature     string
}

// parseV3Authorization splits "ALGORITHM Credential=...,SignedHeaders=...,Signature=...".
// Every part is required; a part given twice, an unknown part or an empty
// one makes the header malformed.
func parseV3Authorization(h string) (v3Authorization, *apiError) {
	var a v3Authorization
	alg, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	if alg != v3Algorithm {
		return a, errIncompleteSignature(fmt.Sprintf("the Authorization header starts with %s; the emulator verifies %s only", quoteClip(alg), v3Algorithm))
	}
	seen := map[string]bool{}
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || v == "" {
			return a, errIncompleteSignature(fmt.Sprintf("Authorization part %s is not Name=value", quoteClip(strings.TrimSpace(part))))
		}
		if seen[k] {
			return a, errIncompleteSignature(fmt.Sprintf("Authorization gives %s twice", k))
		}
		seen[k] = true
		switch k {
		case "Credential":
			a.credential = v
		case "SignedHeaders":
			for _, name := range strings.Split(v, ";") {
				a.signedHeaders = append(a.signedHeaders, strings.ToLower(strings.TrimSpace(name)))
			}
		case "Signature":
			a.signature = v
		default:
			return a, errIncompleteSignature(fmt.Sprintf("Authorization part %s is not Credential, SignedHeaders or Signature", quoteClip(k)))
		}
	}
	for _, k := range []string{"Credential", "SignedHeaders", "Signature"} {
		if !seen[k] {
			return a, errIncompleteSignature("the Authorization header has no " + k)
		}
	}
	return a, nil
}

// authenticateV3 does what the API gateway does before an action runs, for
// a request signed with signature v3. body is the request body as received;
// p holds the parameters from the query and the body.
func (e *Emulator) authenticateV3(r *http.Request, body []byte, p params) *apiError {
	if vs := r.Header.Values("Authorization"); len(vs) > 1 {
		return errIncompleteSignature("the request has several Authorization headers")
	}
	auth, err := parseV3Authorization(r.Header.Get("Authorization"))
	if err != nil {
		return err
	}
	for _, h := range v3RequiredHeaders {
		if r.Header.Get(h) == "" {
			return errMissingParameter(h)
		}
	}
	if v := r.Header.Get("x-acs-version"); v != apiVersion {
		return errInvalidVersion(v)
	}
	if auth.credential != e.creds.AccessKeyID {
		return errAccessKeyNotFound()
	}
	if err := e.checkTime("x-acs-date", r.Header.Get("x-acs-date")); err != nil {
		return err
	}
	if err := checkSignedHeaders(r, auth.signedHeaders); err != nil {
		return err
	}
	payload := sha256Hex(body)
	if got := r.Header.Get("x-acs-content-sha256"); got != payload {
		return errContentSHA256Mismatch(got)
	}
	canonical := canonicalRequestV3(r, auth.signedHeaders, payload)
	sts := stringToSignV3(canonical)
	if !hmac.Equal([]byte(signV3(sts, e.creds.AccessKeySecret)), []byte(auth.signature)) {
		return errSignatureMismatchV3(sts, redactCanonical(canonical))
	}
	if err := e.checkSecurityToken(r.Header.Get("x-acs-security-token")); err != nil {
		return err
	}
	return e.checkNonce(r.Header.Get("x-acs-signature-nonce"))
}

// checkSignedHeaders applies the documented rule that every common header a
// request carries (host, and each x-acs-* header) is signed, and refuses a
// signed header the request does not carry.
func checkSignedHeaders(r *http.Request, signed []string) *apiError {
	for _, name := range signed {
		if name == "" {
			return errIncompleteSignature("SignedHeaders names an empty header")
		}
		if name != "host" && len(r.Header.Values(name)) == 0 {
			return errIncompleteSignature(fmt.Sprintf("SignedHeaders names %s, which the request does not carry", quoteClip(name)))
		}
	}
	if !slices.Contains(signed, "host") {
		return errIncompleteSignature("SignedHeaders must include host")
	}
	var unsigned []string
	for name := range r.Header {
		if lower := strings.ToLower(name); strings.HasPrefix(lower, "x-acs-") && !slices.Contains(signed, lower) {
			unsigned = append(unsigned, lower)
		}
	}
	if len(unsigned) > 0 {
		slices.Sort(unsigned)
		return errIncompleteSignature(fmt.Sprintf("every x-acs-* header must be signed; SignedHeaders leaves out %s", strings.Join(unsigned, ", ")))
	}
	return nil
}

// canonicalRequestV3 builds the canonical request of a v3 signature:
//
//	METHOD \n CanonicalURI \n CanonicalQueryString \n CanonicalHeaders \n SignedHeaders \n HashedRequestPayload
//
// The canonical URI of an RPC API is "/". The query's names and values are
// RFC 3986 encoded and sorted by name, then by value for a name given twice.
// The canonical headers are the signed ones, lower-cased and sorted, each
// "name:value\n" with its values trimmed, sorted and joined by ','.
func canonicalRequestV3(r *http.Request, signed []string, payloadHash string) string {
	names := slices.Clone(signed)
	slices.Sort(names)
	names = slices.Compact(names)
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteString("\n/\n")
	b.WriteString(canonicalQueryV3(r.URL.Query()))
	b.WriteByte('\n')
	for _, name := range names {
		var values []string
		if name == "host" {
			values = []string{r.Host}
		} else {
			values = slices.Clone(r.Header.Values(name))
		}
		for i, v := range values {
			values[i] = strings.TrimSpace(v)
		}
		slices.Sort(values)
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(strings.Join(values, ","))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(names, ";"))
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String()
}

func canonicalQueryV3(q url.Values) string {
	type pair struct{ k, v string }
	var pairs []pair
	for k, vs := range q {
		for _, v := range vs {
			pairs = append(pairs, pair{k, v})
		}
	}
	slices.SortFunc(pairs, func(a, b pair) int {
		if c := strings.Compare(a.k, b.k); c != 0 {
			return c
		}
		return strings.Compare(a.v, b.v)
	})
	parts := make([]string, len(pairs))
	for i, p := range pairs {
		parts[i] = percentEncode(p.k) + "=" + percentEncode(p.v)
	}
	return strings.Join(parts, "&")
}

// stringToSignV3 is "ACS3-HMAC-SHA256\n" followed by the lower-case hex
// SHA-256 of the canonical request.
func stringToSignV3(canonicalRequest string) string {
	return v3Algorithm + "\n" + sha256Hex([]byte(canonicalRequest))
}

// signV3 is the lower-case hex HMAC-SHA256 of stringToSign keyed with the
// AccessKey secret.
func signV3(stringToSign, secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(stringToSign))
	return hex.EncodeToString(mac.Sum(nil))
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// redactCanonical hides the STS token in a canonical request quoted back in
// an error: it is a credential, and error bodies end up in logs.
func redactCanonical(canonical string) string {
	lines := strings.Split(canonical, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "x-acs-security-token:") {
			lines[i] = "x-acs-security-token:<redacted>"
		}
	}
	return strings.Join(lines, "\n")
}
