package emulator

import (
	"fmt"
	"net/http"
	"strings"
	"time"
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
	ts := p.get("Timestamp")
	when, err := time.Parse(timestampLayout, ts)
	if err != nil {
		return newError(http.StatusBadRequest, "IllegalTimestamp",
			"The input parameter \"Timestamp\" that is mandatory for processing this request is not supplied correctly. (%q; use UTC yyyy-MM-ddTHH:mm:ssZ)", ts)
	}
	if d := e.now().Sub(when); d > timestampWindow || d < -timestampWindow {
		return errTimestampExpired(ts)
	}
	sts := StringToSign(method, p)
	if Sign(sts, e.creds.AccessKeySecret) != p.get("Signature") {
		return errSignatureMismatch(sts)
	}
	if e.creds.SecurityToken != "" {
		switch tok := p.get("SecurityToken"); {
		case tok == "":
			return errMissingSecurityToken()
		case tok != e.creds.SecurityToken:
			return errInvalidSecurityToken()
		}
	}
	if !e.nonces.use(p.get("SignatureNonce"), e.now()) {
		return errNonceUsed()
	}
	return nil
}
