package emulator

import "time"

// The gateway's checks common to both signature versions, which carry the
// values in parameters (v1) or headers (v3).

// checkTime refuses a time stamp that is not UTC yyyy-MM-ddTHH:mm:ssZ, or
// is more than timestampWindow from the server's clock either way.
func (e *Emulator) checkTime(name, value string) *apiError {
	when, err := time.Parse(timestampLayout, value)
	if err != nil {
		return errIllegalTimestamp(name, value)
	}
	if d := e.now().Sub(when); d > timestampWindow || d < -timestampWindow {
		return errTimestampExpired(name, value)
	}
	return nil
}

// checkSecurityToken requires the STS token, when the credentials are STS
// ones.
func (e *Emulator) checkSecurityToken(token string) *apiError {
	switch {
	case e.creds.SecurityToken == "":
		return nil
	case token == "":
		return errMissingSecurityToken()
	case token != e.creds.SecurityToken:
		return errInvalidSecurityToken()
	}
	return nil
}

// checkNonce refuses a replayed request: a signature nonce already used
// (see nonceCache).
func (e *Emulator) checkNonce(nonce string) *apiError {
	if !e.nonces.use(nonce, e.now()) {
		return errNonceUsed()
	}
	return nil
}
