package emulator

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/url"
	"sort"
	"strings"
)

// percentEncoder turns url.QueryEscape's form encoding into RFC 3986
// percent-encoding, as signature v1 requires: space as %20, '*' as %2A, and
// '~' left as it is.
var percentEncoder = strings.NewReplacer("+", "%20", "*", "%2A", "%7E", "~")

func percentEncode(s string) string { return percentEncoder.Replace(url.QueryEscape(s)) }

// StringToSign returns the signature v1 string to sign for a request: the
// HTTP method, the encoded path "/", and the canonicalised parameters. Every
// parameter but Signature takes part, empty ones included (the SDK always
// sends an empty SignatureType).
func StringToSign(method string, params map[string]string) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if k != "Signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(percentEncode(k))
		b.WriteByte('=')
		b.WriteString(percentEncode(params[k]))
	}
	return method + "&" + percentEncode("/") + "&" + percentEncode(b.String())
}

// Sign returns the base64 HMAC-SHA1 signature of stringToSign under an
// AccessKey secret (the key is the secret followed by '&').
func Sign(stringToSign, secret string) string {
	mac := hmac.New(sha1.New, []byte(secret+"&"))
	mac.Write([]byte(stringToSign))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
