package cloud

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Transport errors are classified by kind; the signed URL in a *url.Error
// never reaches the message.
func TestMapTransportError(t *testing.T) {
	c := &Client{timeout: 7 * time.Second, scrub: &scrubber{}}
	const signed = "https://ecs.cn-beijing.aliyuncs.com/?AccessKeyId=LTAIxyz&Signature=c2lnbmF0dXJl&SecurityToken=CAIStoken"
	wrap := func(err error) error { return &url.Error{Op: "Post", URL: signed, Err: err} }
	opErr := func(err error) error {
		return &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", err)}
	}
	for _, tc := range []struct {
		name      string
		err       error
		code      string
		retryable bool
		say       string
	}{
		{"refused", wrap(opErr(syscall.ECONNREFUSED)), CodeConnectionFailed, true, "refused"},
		{"reset", wrap(&net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}), CodeConnectionFailed, true, "was reset"},
		{"eof", wrap(io.EOF), CodeConnectionFailed, true, "without an answer"},
		{"unexpected eof", wrap(io.ErrUnexpectedEOF), CodeConnectionFailed, true, "without an answer"},
		{"timeout", wrap(&timeoutErr{}), CodeRequestTimeout, true, "within 7s"},
		{"dns not found", wrap(&net.OpError{Op: "dial", Err: &net.DNSError{Name: "ecs.xx-nowhere-1.aliyuncs.com", Err: "no such host", IsNotFound: true}}), CodeConnectionFailed, false, "cannot resolve ecs.xx-nowhere-1.aliyuncs.com"},
		{"dns temporary", wrap(&net.DNSError{Name: "h", Err: "server misbehaving", IsTemporary: true}), CodeConnectionFailed, true, "cannot resolve"},
		{"unknown authority", wrap(x509.UnknownAuthorityError{}), CodeTLSError, false, "certificate"},
		{"hostname", wrap(x509.HostnameError{Certificate: &x509.Certificate{}, Host: "h"}), CodeTLSError, false, "certificate"},
		{"unreachable", wrap(opErr(syscall.ENETUNREACH)), CodeConnectionFailed, true, "unreachable"},
		{"other dial", wrap(opErr(syscall.EACCES)), CodeConnectionFailed, true, "dial failed"},
		{"opaque", wrap(errors.New("something " + signed)), CodeConnectionFailed, true, "failed"},
		{"proxy parse", &url.Error{Op: "parse", URL: "http://user:pw@proxy:bad", Err: errors.New("invalid port")}, CodeClientError, false, "proxy"},
		{"not http", fmt.Errorf("local trouble SecurityToken=abc"), CodeClientError, false, "local trouble"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := c.mapError("DescribeKeyPairs", tc.err)
			if e.Code != tc.code || e.Retryable != tc.retryable || !strings.Contains(e.Message, tc.say) {
				t.Errorf("got %+v; want %s retryable=%v saying %q", e, tc.code, tc.retryable, tc.say)
			}
			for _, bad := range []string{"Signature=", "c2lnbmF0dXJl", "CAIStoken", "LTAIxyz", "pw@", "abc"} {
				if strings.Contains(e.Error(), bad) {
					t.Errorf("%q in %v", bad, e)
				}
			}
			if e.Action != "DescribeKeyPairs" {
				t.Errorf("action = %q", e.Action)
			}
		})
	}
}

type timeoutErr struct{}

func (*timeoutErr) Error() string   { return "Client.Timeout exceeded while awaiting headers" }
func (*timeoutErr) Timeout() bool   { return true }
func (*timeoutErr) Temporary() bool { return true }

func TestErrorString(t *testing.T) {
	e := &Error{Code: "KeyPair.AlreadyExist", Message: "The key pair already exist.", RequestID: "R-1"}
	if got := e.Error(); got != "KeyPair.AlreadyExist: The key pair already exist. (request ID R-1)" {
		t.Errorf("Error() = %q", got)
	}
	e.RequestID = ""
	if got := e.Error(); got != "KeyPair.AlreadyExist: The key pair already exist." {
		t.Errorf("Error() = %q", got)
	}
	for code, want := range map[string]bool{"Throttling": true, "Throttling.User": true, "ServiceUnavailable": true,
		"InternalError": true, "KeyPair.AlreadyExist": false, "QuotaExceed.KeyPair": false} {
		if got := retryableServerError(code, 400); got != want {
			t.Errorf("retryable(%s) = %v", code, got)
		}
	}
	if !retryableServerError("Whatever", 502) {
		t.Errorf("5xx not retryable")
	}
}
