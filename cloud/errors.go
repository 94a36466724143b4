package cloud

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"syscall"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
)

// Error codes this package produces itself. Errors returned by the ECS API
// keep the API's code (e.g. "KeyPair.AlreadyExist", "Throttling").
const (
	// CodeMissingCredentials: no usable credentials were found.
	CodeMissingCredentials = "MissingCredentials"
	// CodeConnectionFailed: the endpoint could not be reached, or the
	// connection broke before an answer arrived.
	CodeConnectionFailed = "ConnectionFailed"
	// CodeRequestTimeout: no answer within Config.Timeout, or the caller's
	// context passed its deadline (the Error then unwraps to
	// context.DeadlineExceeded).
	CodeRequestTimeout = "RequestTimeout"
	// CodeRequestCanceled: the caller's context was cancelled; the Error
	// unwraps to context.Canceled.
	CodeRequestCanceled = "RequestCanceled"
	// CodeTLSError: the endpoint's certificate could not be verified.
	CodeTLSError = "TLSError"
	// CodeInvalidResponse: the API answered with something unreadable.
	CodeInvalidResponse = "InvalidResponse"
	// CodeClientError: the request could not be built or sent for another
	// local reason.
	CodeClientError = "ClientError"
	// CodeMissingParameter: a required argument was empty (the API's own
	// code for the same mistake).
	CodeMissingParameter = "MissingParameter"
	// CodeInvalidParameter: an argument this package cannot send.
	CodeInvalidParameter = "InvalidParameter"
)

// Error is the one error type of this package for everything that went
// wrong with a request: an error answer of the ECS API, a transport failure,
// missing credentials or a cancelled context.
//
// Its text never contains an AccessKey secret, a security token, a request
// signature or a private key.
type Error struct {
	// Code is the API's error code (e.g. "KeyPair.AlreadyExist") or one of
	// the Code* constants of this package.
	Code string
	// Message says what went wrong and, where it helps, what to do.
	Message string
	// HTTPStatus is the API's HTTP status; 0 when no answer arrived.
	HTTPStatus int
	// RequestID is the API's request ID; empty when no answer arrived.
	RequestID string
	// Retryable reports a transient failure (throttling, a 5xx, a broken
	// connection, a timeout). Whether resending is safe also depends on the
	// operation: after a broken connection a write may have been applied.
	Retryable bool
	// Action is the API action that failed, e.g. "CreateKeyPair".
	Action string

	// maybeApplied is set when the request went out and what came back (if
	// anything) does not prove that it was refused: a write may or may not
	// have taken effect (see MaybeApplied).
	maybeApplied bool
	// apiAnswer is set when the error is the API's own JSON error body, as
	// opposed to a gateway's page, an empty body or no answer at all.
	apiAnswer bool

	// cause is only ever a context error, so that errors.Is(err,
	// context.Canceled) works; raw SDK errors are never kept, as their text
	// may hold signed URLs.
	cause error
}

// Error renders "Code: Message (request ID ...)".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Code)
	b.WriteString(": ")
	b.WriteString(e.Message)
	if e.RequestID != "" {
		b.WriteString(" (request ID ")
		b.WriteString(e.RequestID)
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap returns the context error behind a CodeRequestCanceled or
// CodeRequestTimeout error.
func (e *Error) Unwrap() error { return e.cause }

// ErrorCode returns Code: every error with a code a tool result shows has
// this method.
func (e *Error) ErrorCode() string { return e.Code }

// refused reports an answer that proves the request was not applied: the
// API's own JSON error body with a 4xx status. A 5xx may come after the
// work was done, and a body that is not the API's (a gateway's 502 or 504
// page) says nothing about whether the API got the request.
func (e *Error) refused() bool {
	return e.apiAnswer && e.HTTPStatus >= 400 && e.HTTPStatus < 500
}

// authCodes are failures that concern the credentials or the request
// signature: every request of a call fails the same way, so batch
// operations report them once, as the call's error.
var authCodes = map[string]bool{
	CodeMissingCredentials:           true,
	"SignatureDoesNotMatch":          true,
	"IncompleteSignature":            true,
	"InvalidAccessKeyId.NotFound":    true,
	"InvalidAccessKeyId.Inactive":    true,
	"Forbidden.AccessKeyDisabled":    true,
	"MissingSecurityToken":           true,
	"InvalidSecurityToken.Expired":   true,
	"InvalidSecurityToken.Mismatch":  true,
	"InvalidSecurityToken.Malformed": true,
	"InvalidTimeStamp.Expired":       true,
}

// callWide returns the error that stopped a whole batched call: when no
// batch succeeded and the first failure is one that no batch can escape
// (credentials, signature, an unknown region, a cancelled context). When
// some batch went through, the caller needs the per-item results instead.
func callWide(errs []error) error {
	for _, err := range errs {
		if err == nil {
			return nil
		}
	}
	if len(errs) == 0 {
		return nil
	}
	var e *Error
	if !errors.As(errs[0], &e) {
		return errs[0]
	}
	if authCodes[e.Code] || e.cause != nil || e.Code == "InvalidRegionId.NotFound" {
		return e
	}
	return nil
}

// retryableServerError reports API errors that are worth another try.
func retryableServerError(code string, status int) bool {
	switch {
	case strings.HasPrefix(code, "Throttling"), code == "Rejected.Throttling",
		code == "ServiceUnavailable", code == "InternalError", code == "RequestTimeout":
		return true
	}
	return status >= 500
}

// canceledError wraps a context error: CodeRequestTimeout when its deadline
// passed, CodeRequestCanceled when it was cancelled.
func canceledError(action string, err error) *Error {
	if errors.Is(err, context.DeadlineExceeded) {
		return &Error{Code: CodeRequestTimeout, Message: "the call's time ran out before an answer arrived", Action: action, cause: err}
	}
	return &Error{Code: CodeRequestCanceled, Message: "the request was cancelled", Action: action, cause: err}
}

const (
	stringToSignMarker = "server string to sign is:"
	maxMessageLen      = 600
)

// mapError turns whatever the SDK returned into an *Error, scrubbed of
// secrets. host is the endpoint host when known (for transport errors).
func (c *Client) mapError(action string, err error) *Error {
	if err == nil {
		return nil
	}
	var own *Error
	if errors.As(err, &own) {
		cp := *own
		if cp.Action == "" {
			cp.Action = action
		}
		return &cp
	}
	var se *sdkerrors.ServerError
	if errors.As(err, &se) {
		return c.mapServerError(action, se)
	}
	var ce *sdkerrors.ClientError
	if errors.As(err, &ce) {
		return c.mapClientError(action, ce)
	}
	return c.mapTransportError(action, err)
}

func (c *Client) mapServerError(action string, se *sdkerrors.ServerError) *Error {
	code := se.ErrorCode()
	msg := se.Message()
	if i := strings.Index(msg, stringToSignMarker); i >= 0 {
		msg = strings.TrimSpace(msg[:i])
	}
	switch code {
	case "SignatureDoesNotMatch", "IncompleteSignature":
		if msg == "" {
			msg = "The request signature does not match."
		}
		if strings.Contains(se.Recommend(), "InvalidAccessKeySecret") || code == "SignatureDoesNotMatch" {
			msg = strings.TrimRight(msg, ". ") + ". Check the AccessKey secret: it does not belong to this AccessKey ID " +
				"(ALIBABA_CLOUD_ACCESS_KEY_SECRET, or the secret in the credentials profile)."
		}
	case "InvalidAccessKeyId.NotFound":
		msg = strings.TrimRight(msg, ". ") + ". Check the AccessKey ID (ALIBABA_CLOUD_ACCESS_KEY_ID, or the credentials profile)."
	case "":
		// Not a JSON error body (a proxy's HTML page, a gateway's text):
		// name the status, and keep a short, scrubbed excerpt.
		code = fmt.Sprintf("HTTP%d", se.HttpStatus())
		excerpt := strings.Join(strings.Fields(msg), " ")
		if len(excerpt) > 200 {
			excerpt = excerpt[:200] + "..."
		}
		msg = fmt.Sprintf("the endpoint answered HTTP %d without an API error body", se.HttpStatus())
		if excerpt != "" {
			msg += ": " + excerpt
		}
	}
	return &Error{
		Code:       code,
		Message:    c.scrub.clean(msg),
		HTTPStatus: se.HttpStatus(),
		RequestID:  se.RequestId(),
		Retryable:  retryableServerError(code, se.HttpStatus()),
		Action:     action,
		apiAnswer:  se.ErrorCode() != "",
	}
}

func (c *Client) mapClientError(action string, ce *sdkerrors.ClientError) *Error {
	switch ce.ErrorCode() {
	case sdkerrors.TimeoutErrorCode:
		return &Error{Code: CodeRequestTimeout, Message: fmt.Sprintf("no answer from the ECS endpoint within %s", c.timeout),
			Retryable: true, Action: action}
	case sdkerrors.JsonUnmarshalErrorCode:
		return &Error{Code: CodeInvalidResponse, Message: "the ECS API answer could not be decoded", Action: action}
	}
	if origin := ce.OriginError(); origin != nil {
		if mapped := c.mapTransportError(action, origin); mapped.Code != CodeClientError {
			return mapped
		}
	}
	// ClientError messages are SDK-authored; scrub them anyway.
	return &Error{Code: CodeClientError, Message: c.scrub.clean(ce.ErrorCode() + ": " + ce.Message()), Action: action}
}

// mapTransportError classifies errors from the HTTP layer by their kind,
// never by passing their text on: a *url.Error's text holds the signed URL.
func (c *Client) mapTransportError(action string, err error) *Error {
	host := "the ECS endpoint"
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Op == "parse" {
			// url.Parse of a proxy setting (HTTP_PROXY / HTTPS_PROXY).
			return &Error{Code: CodeClientError, Message: "a proxy URL (HTTPS_PROXY/HTTP_PROXY) could not be parsed", Action: action}
		}
		if u, perr := url.Parse(ue.URL); perr == nil && u.Host != "" {
			host = u.Host
		}
	}
	e := &Error{Action: action, Code: CodeConnectionFailed, Retryable: true}
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostnameErr x509.HostnameError
	var invalidCert x509.CertificateInvalidError
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout()):
		e.Code = CodeRequestTimeout
		e.Message = fmt.Sprintf("no answer from %s within %s", host, c.timeout)
	case errors.As(err, &dnsErr):
		e.Message = fmt.Sprintf("cannot resolve %s (check the region ID and the network)", dnsErr.Name)
		e.Retryable = dnsErr.IsTemporary || dnsErr.IsTimeout
	case errors.As(err, &certErr), errors.As(err, &unknownAuth), errors.As(err, &hostnameErr), errors.As(err, &invalidCert):
		e.Code = CodeTLSError
		e.Message = fmt.Sprintf("the TLS certificate of %s could not be verified", host)
		e.Retryable = false
	case errors.Is(err, syscall.ECONNREFUSED):
		e.Message = fmt.Sprintf("%s refused the connection", host)
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		e.Message = fmt.Sprintf("the connection to %s was reset before an answer arrived", host)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		e.Message = fmt.Sprintf("%s closed the connection without an answer", host)
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		e.Message = fmt.Sprintf("%s is unreachable from this network", host)
	default:
		var opErr *net.OpError
		if errors.As(err, &opErr) {
			e.Message = fmt.Sprintf("cannot reach %s (%s failed)", host, opErr.Op)
			break
		}
		if ue == nil {
			// Not an HTTP error at all: something local. Its text is not
			// a URL, but scrub it all the same.
			e.Code = CodeClientError
			e.Retryable = false
			e.Message = c.scrub.clean(err.Error())
			break
		}
		e.Message = fmt.Sprintf("the request to %s failed", host)
	}
	return e
}

// scrubber removes secrets from text that came from outside this package.
type scrubber struct {
	mu      sync.RWMutex
	secrets map[string]bool
}

// sensitiveParam matches a sensitive parameter and its value, in a query
// string (plain or percent-encoded) or in JSON.
var sensitiveParam = regexp.MustCompile(`(?i)(SecurityToken|Signature|AccessKeyId|AccessKeySecret|access_key_id|access_key_secret|sts_token|BearerToken)("?\s*(?:=|%3D|:)\s*"?)[^&\s"',;]*`)

// add remembers a secret value to cut from any text later.
func (s *scrubber) add(values ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.secrets == nil {
		s.secrets = map[string]bool{}
	}
	for _, v := range values {
		if len(v) >= 4 && len(s.secrets) < 64 {
			s.secrets[v] = true
		}
	}
}

func (s *scrubber) clean(text string) string {
	if i := strings.Index(text, stringToSignMarker); i >= 0 {
		text = text[:i]
	}
	text = sensitiveParam.ReplaceAllString(text, "${1}${2}[REDACTED]")
	s.mu.RLock()
	for v := range s.secrets {
		text = strings.ReplaceAll(text, v, "[REDACTED]")
		if esc := url.QueryEscape(v); esc != v {
			text = strings.ReplaceAll(text, esc, "[REDACTED]")
		}
	}
	s.mu.RUnlock()
	if len(text) > maxMessageLen {
		text = text[:maxMessageLen] + "..."
	}
	return strings.TrimSpace(text)
}
