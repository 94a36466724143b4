package cloud

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"
	"time"
)

// RetryPolicy says how a failed request is tried again. A zero field takes
// its default.
type RetryPolicy struct {
	// MaxAttempts bounds the attempts of one request, the first included
	// (default 4); 1 turns retries off.
	MaxAttempts int
	// BaseDelay and MaxDelay shape the backoff. Before attempt n+1 the wait
	// is uniformly random in [0, min(MaxDelay, BaseDelay*2^(n-1))] ("full
	// jitter"), so that clients throttled together do not come back
	// together. Defaults: 200ms and 5s.
	BaseDelay time.Duration
	MaxDelay  time.Duration
	// Budget bounds the time one request spends on all its attempts and
	// waits (default 20s): no wait starts that would end after it.
	Budget time.Duration
	// Settle is the pause, after a create or import failed without an
	// answer, before looking whether it was applied: a request still on its
	// way to the API lands first (default 1s).
	Settle time.Duration
	// VerifyTimeout bounds that look (default 10s). It runs even when the
	// call's context has ended: its answer decides whether a key pair was
	// left behind without its private key.
	VerifyTimeout time.Duration

	// jitter returns a random duration in [0, d]; tests fix it.
	jitter func(d time.Duration) time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 4
	}
	def(&p.BaseDelay, 200*time.Millisecond)
	def(&p.MaxDelay, 5*time.Second)
	def(&p.Budget, 20*time.Second)
	def(&p.Settle, time.Second)
	def(&p.VerifyTimeout, 10*time.Second)
	if p.jitter == nil {
		p.jitter = func(d time.Duration) time.Duration { return time.Duration(rand.Int64N(int64(d) + 1)) }
	}
	return p
}

// backoff is the wait after the n-th failed attempt (n >= 1).
func (p RetryPolicy) backoff(n int) time.Duration {
	ceiling := p.BaseDelay
	for i := 1; i < n && ceiling < p.MaxDelay; i++ {
		ceiling *= 2
	}
	return p.jitter(min(ceiling, p.MaxDelay))
}

// safety says when a request may be sent again.
type safety int

const (
	// idempotent requests (reads, delete, attach, detach) reach the same
	// end state when repeated: any transient failure is retried.
	idempotent safety = iota
	// once requests (create, import, reboot) are retried only after a
	// failure that certainly left nothing applied: the API's own refusal (a
	// 4xx error answer, such as Throttling), or a connection that never
	// carried the request. A 5xx or a gateway's page may come after the
	// work was done, so it is not retried blindly: after it, as after any
	// other failure, create and import find out what happened (see
	// sendWrite) and reboot reports that it may have been applied.
	once
)

// retryable reports whether err may be followed by another attempt of a
// request of the given safety. The end of the caller's context is never
// Retryable (see canceledError).
func retryable(err error, s safety) bool {
	var e *Error
	if !errors.As(err, &e) || !e.Retryable {
		return false
	}
	return s == idempotent || !e.maybeApplied
}

// MaybeApplied reports whether err leaves open whether the request took
// effect: it went out, and what came back (if anything) does not prove it
// was refused.
func MaybeApplied(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.maybeApplied
}

// wait sleeps for d, or until ctx ends; it reports whether it slept fully.
func wait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// retryWait returns how long to wait before attempt n+1 of a request that
// started at start, and false when no further attempt fits the attempts, the
// budget or ctx's deadline.
func (c *Client) retryWait(ctx context.Context, n int, start time.Time) (time.Duration, bool) {
	if n >= c.retry.MaxAttempts {
		return 0, false
	}
	d := c.retry.backoff(n)
	next := time.Now().Add(d)
	if next.After(start.Add(c.retry.Budget)) {
		return 0, false
	}
	if dl, ok := ctx.Deadline(); ok && next.After(dl) {
		return 0, false
	}
	return d, true
}

// boundTransport ties each HTTP request of one pooled SDK client to the
// context of the call that borrowed it, since the SDK takes no context: a
// cancelled call aborts its request at once. It also records whether the
// request was written, which tells a failure that certainly left nothing
// applied from one that may have. A pooled client serves one request at a
// time, so its fields need no lock: bind, RoundTrip and unbind run in turn.
type boundTransport struct {
	base    http.RoundTripper
	ctx     context.Context
	release func()
	wrote   atomic.Bool // set from the transport's write loop
}

func (t *boundTransport) bind(ctx context.Context) {
	t.ctx = ctx
	t.wrote.Store(false)
}

// unbind ends the request's tie to the call and reports whether the
// request was written.
func (t *boundTransport) unbind() bool {
	if t.release != nil {
		t.release()
		t.release = nil
	}
	t.ctx = nil
	return t.wrote.Load()
}

func (t *boundTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if t.ctx == nil {
		return t.base.RoundTrip(r)
	}
	// Derived from the request's own context, which carries the
	// http.Client's timeout, and cancelled also when the call ends. The
	// response body is read after RoundTrip returns, so the context lives
	// until unbind.
	ctx, cancel := context.WithCancel(r.Context())
	stop := context.AfterFunc(t.ctx, cancel)
	t.release = func() { stop(); cancel() }
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				t.wrote.Store(true)
			}
		},
	})
	return t.base.RoundTrip(r.WithContext(ctx))
}
