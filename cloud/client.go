// Package cloud is the only package that talks to Alibaba Cloud: it builds
// SDK clients (credential chain, profile, region endpoint, HTTPS, endpoint
// override), has one method per ECS operation taking and returning schema
// types, pages and batches, and maps every failure to one error type, *Error.
package cloud

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
)

// Defaults for Config.
const (
	DefaultTimeout = 30 * time.Second
	// DefaultConcurrency is enough for a full region's key pairs (the
	// quota of 500, ten pages of 50) in one wave of requests.
	DefaultConcurrency = schema.KeyPairQuota / schema.DescribeKeyPairsPageSize
)

const (
	// defaultRegion is the SDK client's own region: requests carry their
	// RegionId, which the SDK prefers for the endpoint and the parameter;
	// only DescribeRegions, which has no region, uses this one.
	defaultRegion = "cn-hangzhou"
	// maxConnectTimeout bounds the TCP connect (the SDK's default is 5 s).
	maxConnectTimeout = 5 * time.Second
	// deadlineMargin is added to a context's deadline for the HTTP timeout.
	deadlineMargin = 500 * time.Millisecond
	// abandonGrace bounds the wait for a request's outcome once its context
	// has ended; the transport aborts the request, so it is rarely needed.
	abandonGrace = time.Second
	// lookUpGrace is how far past the call's deadline the look-up after a
	// lost create or import may run: the call still answers within its
	// deadline plus abandonGrace and this, 3 s at most.
	lookUpGrace = 2 * time.Second
)

var getenv = os.Getenv

// Config configures a Client.
type Config struct {
	// Endpoint is "" for the region's public endpoint over HTTPS
	// (ecs.<region>.aliyuncs.com; ecs-cn-hangzhou.aliyuncs.com for
	// cn-hangzhou), or a URL every request goes to: https:// is required
	// unless the host is loopback (127.0.0.0/8, ::1, localhost), where
	// http:// is allowed.
	Endpoint string
	// Profile is a credentials profile name, looked up in the aliyun CLI
	// configuration (~/.aliyun/config.json) and then in the credentials file
	// (~/.alibabacloud/credentials). "" uses the SDK's default chain.
	Profile string
	// Credentials, when set, are used instead of the chain (the sandbox).
	Credentials *StaticCredentials
	// Timeout bounds each HTTP request; 0 means DefaultTimeout.
	Timeout time.Duration
	// Concurrency bounds the requests in flight at once of each listing
	// (its pages) or batched write (its batches); 0 means
	// DefaultConcurrency. Calls over many regions share one bound instead
	// (see WithRequestLimit).
	Concurrency int
	// Retry says how failed requests are tried again; the zero value is
	// the default policy.
	Retry RetryPolicy
	// PollInterval is WaitRunning's first wait before it polls instances'
	// status, each later wait 1.5 times longer, up to 5s; 0 means 250ms.
	// Tests whose emulated reboots take milliseconds shorten it.
	PollInterval time.Duration
	// Logger receives one debug line per request (action, region, status,
	// code, request ID, duration); never a parameter value or a secret.
	// Nil discards.
	Logger *slog.Logger

	// roundTripper replaces the HTTP transport (tests only).
	roundTripper http.RoundTripper
}

// Client calls the ECS API. It is safe for concurrent use: each request
// borrows an SDK client of its own from a pool.
type Client struct {
	scheme         string // "https", or "http" for a loopback endpoint
	domain         string // host[:port] of Config.Endpoint; "" lets the SDK pick the region's endpoint
	loopback       bool
	timeout        time.Duration
	connectTimeout time.Duration
	concurrency    int
	log            *slog.Logger
	creds          credentials.CredentialsProvider
	scrub          *scrubber
	rt             http.RoundTripper
	retry          RetryPolicy
	pollInterval   time.Duration
	pool           chan pooled
	pageHints      pageHints
	// regions caches the region list: regions change rarely.
	regions regionCache
}

// pooled is an idle SDK client and the transport it owns.
type pooled struct {
	cl *ecs.Client
	tr *boundTransport
}

// sdkMu serialises SDK client construction: ecs.NewClientWith* lazily
// builds the package-level ecs.EndpointMap, unguarded.
var sdkMu sync.Mutex

// New validates cfg and returns a Client. It does not look for credentials
// or touch the network: without credentials it succeeds, and each call
// then fails with a CodeMissingCredentials error.
func New(cfg Config) (*Client, error) {
	c := &Client{
		scheme:      "https",
		timeout:     cfg.Timeout,
		concurrency: cfg.Concurrency,
		log:         cfg.Logger,
		scrub:       &scrubber{},
		rt:          cfg.roundTripper,
		retry:       cfg.Retry.withDefaults(),
	}
	if c.pollInterval = cfg.PollInterval; c.pollInterval <= 0 {
		c.pollInterval = pollFirst
	}
	if c.timeout < 0 {
		return nil, fmt.Errorf("cloud: timeout %s is negative", c.timeout)
	}
	if c.timeout == 0 {
		c.timeout = DefaultTimeout
	}
	c.connectTimeout = min(c.timeout, maxConnectTimeout)
	if c.concurrency < 0 {
		return nil, fmt.Errorf("cloud: concurrency %d is negative", c.concurrency)
	}
	if c.concurrency == 0 {
		c.concurrency = DefaultConcurrency
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if SDKDebugEnabled() {
		return nil, errors.New("cloud: the DEBUG environment variable includes \"sdk\", which makes the Alibaba Cloud SDK " +
			"print signed requests, security tokens and private keys to stdout; unset DEBUG or remove \"sdk\" from it")
	}
	if cfg.Endpoint != "" {
		scheme, host, loopback, err := parseEndpoint(cfg.Endpoint)
		if err != nil {
			return nil, err
		}
		c.scheme, c.domain, c.loopback = scheme, host, loopback
	}
	switch {
	case cfg.Credentials != nil:
		if cfg.Profile != "" {
			return nil, errors.New("cloud: give either static credentials or a profile, not both")
		}
		sc := cfg.Credentials
		if sc.AccessKeyID == "" || sc.AccessKeySecret == "" {
			return nil, errors.New("cloud: static credentials need an AccessKey ID and an AccessKey secret")
		}
		c.scrub.add(sc.AccessKeySecret, sc.SecurityToken)
		if sc.SecurityToken != "" {
			c.creds = credentials.NewStaticSTSCredentialsProvider(sc.AccessKeyID, sc.AccessKeySecret, sc.SecurityToken)
		} else {
			c.creds = credentials.NewStaticAKCredentialsProvider(sc.AccessKeyID, sc.AccessKeySecret)
		}
	default:
		c.creds = newChainProvider(cfg.Profile, c.scrub)
	}
	// Enough idle SDK clients for a few calls at full concurrency.
	c.pool = make(chan pooled, 2*c.concurrency)

	endpoint := "the region's public endpoint (https://ecs.<region>.aliyuncs.com)"
	if c.domain != "" {
		endpoint = c.scheme + "://" + c.domain
	}
	source := "the default credential chain"
	switch {
	case cfg.Credentials != nil:
		source = "static credentials"
	case cfg.Profile != "":
		source = fmt.Sprintf("profile %q", cfg.Profile)
	}
	c.log.Debug("ecs client ready", "endpoint", endpoint, "credentials", source,
		"timeout", c.timeout, "concurrency", c.concurrency)
	return c, nil
}

// CheckCredentials looks for the credentials without sending a request, so
// that a call that would fail for their lack fails before it changes
// anything on this machine.
func (c *Client) CheckCredentials() error {
	if _, err := c.creds.GetCredentials(); err != nil {
		return c.mapError("", err)
	}
	return nil
}

// SDKDebugEnabled reports DEBUG=...sdk..., which makes the SDK (reading
// it once, at start-up: sdk/utils/debug.go) print signed requests,
// security tokens and response bodies, private keys included, to
// os.Stdout. New refuses to build a client then; a program that owns its
// stdout can discard that output instead and go on.
func SDKDebugEnabled() bool {
	for _, part := range strings.Split(getenv("DEBUG"), ",") {
		if part == "sdk" {
			return true
		}
	}
	return false
}

// parseEndpoint checks an endpoint override: https://host[:port], or
// http://host[:port] for a loopback host.
func parseEndpoint(raw string) (scheme, host string, loopback bool, err error) {
	u, perr := url.Parse(raw)
	shown := raw
	if perr == nil && u.User != nil {
		shown = u.Redacted() // never echo a password
	}
	bad := func(why string) error {
		return fmt.Errorf("cloud: endpoint %q: %s (e.g. https://ecs.cn-hangzhou.aliyuncs.com, or http://127.0.0.1:8080 for a local emulator)", shown, why)
	}
	if perr != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", "", false, bad("must be a URL with the scheme https:// (or http:// for a loopback host)")
	}
	if u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", "", false, bad("must be only a scheme and a host[:port], with no user, path or query")
	}
	if port := u.Port(); port != "" {
		if _, err := net.LookupPort("tcp", port); err != nil {
			return "", "", false, bad("invalid port")
		}
	}
	loopback = IsLoopback(u.Hostname())
	if u.Scheme == "http" && !loopback {
		return "", "", false, bad("plain http:// is only allowed for a loopback host (127.0.0.1, ::1, localhost); use https://")
	}
	return u.Scheme, u.Host, loopback, nil
}

// IsLoopback reports whether host (a name or an IP address, without a
// port) reaches this machine only: localhost, 127.0.0.0/8 or ::1. An empty
// host, which means every interface to a listener, is not loopback.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// sdkClient takes an SDK client from the pool or builds one. SDK clients
// are not safe for concurrent use (the SDK rewrites its http.Client's
// timeout and transport on every request), so each request has its own.
func (c *Client) sdkClient() (pooled, error) {
	select {
	case p := <-c.pool:
		return p, nil
	default:
	}
	conf := sdk.NewConfig()
	conf.Scheme = strings.ToUpper(c.scheme) // the SDK's default is HTTP
	conf.AutoRetry = false
	conf.Timeout = c.timeout
	// Not an *http.Transport, on purpose: the SDK then leaves it alone
	// (it rewrites an *http.Transport's dialer, TLS and proxy settings on
	// every request); newTransport sets them instead.
	tr := &boundTransport{base: c.newTransport()}
	conf.Transport = tr
	sdkMu.Lock()
	cl, err := ecs.NewClientWithOptions(defaultRegion, conf, c.creds)
	sdkMu.Unlock()
	if err != nil {
		return pooled{}, &Error{Code: CodeClientError, Message: c.scrub.clean("cannot create the SDK client: " + err.Error())}
	}
	cl.SetReadTimeout(c.timeout)
	cl.SetConnectTimeout(c.connectTimeout)
	// The SDK reads NO_PROXY as regexps on every request (sdk/client.go
	// DoActionWithSigner), and an invalid one fails the request. Its own
	// list, matching every host, replaces NO_PROXY: our transport's Proxy
	// applies Go's standard proxy rules instead, and never proxies a
	// loopback endpoint.
	cl.SetNoProxy(".*")
	cl.SetCloseTrace(true)
	return pooled{cl: cl, tr: tr}, nil
}

// release returns an SDK client to the pool, or drops it (and its idle
// connections) when the pool is full.
func (c *Client) release(p pooled) {
	select {
	case c.pool <- p:
	default:
		c.discard(p)
	}
}

func (c *Client) discard(p pooled) {
	if t, ok := p.tr.base.(*http.Transport); ok && p.tr.base != c.rt {
		t.CloseIdleConnections()
	}
}

// newTransport is one SDK client's HTTP transport.
func (c *Client) newTransport() http.RoundTripper {
	if c.rt != nil {
		return c.rt
	}
	t := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   10 * time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConns:          4,
		MaxIdleConnsPerHost:   2,
		ExpectContinueTimeout: time.Second,
		DialContext:           (&net.Dialer{Timeout: c.connectTimeout, KeepAlive: 30 * time.Second}).DialContext,
	}
	if c.loopback {
		t.Proxy = nil
	}
	return t
}

// send is the one place a request goes out. It sends req with sendOnce and
// tries again after a transient failure, as far as s allows, with backoff
// and within the retry budget (see RetryPolicy); it stops at once when ctx
// ends.
func send[R any](ctx context.Context, c *Client, s safety, action, region string, req requests.AcsRequest,
	call func(*ecs.Client) (R, string, error)) (R, error) {
	start := time.Now()
	for n := 1; ; n++ {
		resp, err := sendOnce(ctx, c, action, region, req, call)
		if err == nil || !retryable(err, s) {
			return resp, err
		}
		d, ok := c.retryWait(ctx, n, start)
		if !ok {
			return resp, err
		}
		c.log.Debug("ecs request retry", "action", action, "region", region, "attempt", n+1,
			"after", d.Round(time.Millisecond), "code", errorCode(err))
		if !wait(ctx, d) {
			// Nothing is in flight while waiting: the cancellation leaves
			// the request as the last failure did, not applied.
			return resp, canceledError(action, ctx.Err())
		}
	}
}

// sendOnce makes one attempt: it points req at the endpoint, runs call on a
// pooled SDK client in a goroutine (the SDK takes no context; the client's
// transport ties the HTTP request to ctx instead, so that it is aborted when
// ctx ends) and returns when the call ends, or soon after ctx does. call
// returns the decoded answer and its request ID.
func sendOnce[R any](ctx context.Context, c *Client, action, region string, req requests.AcsRequest,
	call func(*ecs.Client) (R, string, error)) (R, error) {
	var zero R
	if err := ctx.Err(); err != nil {
		return zero, canceledError(action, err)
	}
	req.SetScheme(c.scheme)
	if c.domain != "" {
		req.SetDomain(c.domain)
	}
	// The HTTP timeout follows ctx's deadline, with a margin so that the
	// context, not the HTTP timeout, ends the call.
	timeout := c.timeout
	if dl, ok := ctx.Deadline(); ok {
		if left := time.Until(dl) + deadlineMargin; left < timeout {
			timeout = left
		}
	}
	req.SetReadTimeout(timeout)
	req.SetConnectTimeout(min(timeout, c.connectTimeout))

	slots, _ := ctx.Value(slotsKey{}).(chan struct{})
	if slots != nil {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return zero, canceledError(action, ctx.Err())
		}
	}
	release := func() {
		if slots != nil {
			<-slots
		}
	}
	p, err := c.sdkClient()
	if err != nil {
		release()
		return zero, c.mapError(action, err)
	}
	type outcome struct {
		resp R
		err  *Error
	}
	done := make(chan outcome, 1) // buffered: an abandoned request never blocks
	start := time.Now()
	p.tr.bind(ctx)
	go func() {
		var o outcome
		defer func() {
			// The slot is held until the request is over, also when the
			// caller stopped waiting for it.
			defer release()
			wrote := p.tr.unbind()
			if r := recover(); r != nil {
				// The SDK panics on some malformed answers (e.g. a
				// non-string error Code); the client may be in any state,
				// so it is not reused.
				o = outcome{err: &Error{Code: CodeInvalidResponse, Action: action,
					Message: "the ECS API answer could not be read (the SDK failed on it)"}}
				c.discard(p)
			} else {
				c.release(p)
			}
			if o.err != nil && wrote && !o.err.refused() {
				// The request went out and nothing proves it was refused:
				// the API may have applied it.
				o.err.maybeApplied = true
			}
			c.logResult(action, region, start, o.err)
			done <- o
		}()
		resp, requestID, err := call(p.cl)
		if err != nil {
			o.err = c.mapError(action, err)
			return
		}
		o.resp = resp
		c.log.Debug("ecs request", "action", action, "region", region, "requestId", requestID,
			"duration", time.Since(start).Round(time.Millisecond))
	}()
	var o outcome
	select {
	case o = <-done:
	case <-ctx.Done():
		// The transport aborts the request at once. Its outcome is still
		// awaited briefly: an answer that arrived meanwhile is kept (for a
		// create, it is the only copy of the private key).
		t := time.NewTimer(abandonGrace)
		defer t.Stop()
		select {
		case o = <-done:
		case <-t.C:
			c.log.Debug("ecs request abandoned", "action", action, "region", region, "reason", ctx.Err().Error())
			e := canceledError(action, ctx.Err())
			e.maybeApplied = true
			return zero, e
		}
	}
	if o.err == nil {
		return o.resp, nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil && o.err.HTTPStatus == 0 {
		// The request broke because the caller's context ended: the
		// context is the cause.
		e := canceledError(action, ctxErr)
		e.maybeApplied = o.err.maybeApplied
		return zero, e
	}
	return zero, o.err
}

func (c *Client) logResult(action, region string, start time.Time, e *Error) {
	if e == nil {
		return
	}
	c.log.Debug("ecs request failed", "action", action, "region", region, "code", e.Code,
		"status", e.HTTPStatus, "requestId", e.RequestID, "retryable", e.Retryable,
		"duration", time.Since(start).Round(time.Millisecond))
}

type slotsKey struct{}

// WithRequestLimit returns a context under which at most n requests are in
// flight at once, all operations together: a call over many regions is
// then as gentle with the API as a call over one. Without it, each
// operation (a listing, a batched write) bounds only its own requests
// (Config.Concurrency).
func WithRequestLimit(ctx context.Context, n int) context.Context {
	return context.WithValue(ctx, slotsKey{}, make(chan struct{}, n))
}

// forEach runs fn(i) for i in [0, n) with at most c.concurrency at once,
// and waits for all. fn must record its own result.
func (c *Client) forEach(n int, fn func(i int)) {
	if n == 1 {
		fn(0)
		return
	}
	sem := make(chan struct{}, c.concurrency)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			fn(i)
		}()
	}
	wg.Wait()
}

// chunk splits items into batches of at most size, in order.
func chunk[T any](items []T, size int) [][]T {
	var out [][]T
	for len(items) > size {
		out = append(out, items[:size:size])
		items = items[size:]
	}
	if len(items) > 0 {
		out = append(out, items)
	}
	return out
}

// requireRegion applies schema.CheckRegionID before anything is sent.
// Without an endpoint override the region becomes part of the host name
// (ecs.<region>.aliyuncs.com), so a malformed one could send a signed
// request, security token included, to another host.
func requireRegion(action, region string) error {
	if err := schema.CheckRegionID(region); err != nil {
		return &Error{Code: err.Code, Action: action, Message: err.Message}
	}
	return nil
}
