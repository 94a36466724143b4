package emulator

import (
	"fmt"
	"strings"
)

// Signature v1 (HMAC-SHA1): the credentials, the time stamp, the nonce and
// the signature travel as request parameters, next to Action and Version.

// authenticateV1 does what the API gateway does before an action runs, for
// a request signed with signature v1.
func (e *Emulator) authenticateV1(method string, p params) *apiError {
	for _, name := range []string{"Action", "Version", "AccessKeyId", "Signature",
		"SignatureMethod", "SignatureVersion", "SignatureNonce", "Timestamp"} {
		if _, err := p.required(name); err != nil {
			return err
		}
	}
	if f := p.get("Format"); f != "" && !strings.EqualFold(f, "JSON") {
		return errInvalidParameter("Format", fmt.Sprintf("%q is not supported by the emulator; use JSON", f))
	}
	if m := p.get("SignatureMethod"); m != "HMAC-SHA1" {
		return errInvalidParameter("SignatureMethod", fmt.Sprintf("%q is not supported; use HMAC-SHA1", m))
	}
	if v := p.get("SignatureVersion"); v != "1.0" {
		return errInvalidParameter("SignatureVersion", fmt.Sprintf("%q is not supported; use 1.0", v))
	}
	if t := p.get("SignatureType"); t != "" {
		return errInvalidParameter("SignatureType", fmt.Sprintf("%q is not supported; leave it empty", t))
	}
	if v := p.get("Version"); v != apiVersion {
		return errInvalidVersion(v)
	}
	if p.get("AccessKeyId") != e.creds.AccessKeyID {
		return errAccessKeyNotFound()
	}
	if err := e.checkTime("Timestamp", p.get("Timestamp")); err != nil {
		return err
	}
	sts := StringToSign(method, p)
	if Sign(sts, e.creds.AccessKeySecret) != p.get("Signature") {
		return errSignatureMismatch(sts)
	}
	if err := e.checkSecurityToken(p.get("SecurityToken")); err != nil {
		return err
	}
	return e.checkNonce(p.get("SignatureNonce"))
}
