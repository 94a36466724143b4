// Package emulator is a local stand-in for the Alibaba Cloud ECS RPC API
// (version 2014-05-26), limited to SSH key pairs and what they touch:
// CreateKeyPair, ImportKeyPair, DescribeKeyPairs, DeleteKeyPairs,
// AttachKeyPair, DetachKeyPair, DescribeRegions, DescribeInstances, and
// RebootInstances and RebootInstance, which make a key change take effect.
//
// It is as strict as the API documentation: requests must be signed, with
// signature v1 (HMAC-SHA1 parameters, as alibaba-cloud-sdk-go and the aliyun
// CLI sign) or v3 (ACS3-HMAC-SHA256 headers, the generated SDKs' default),
// and every documented rule is enforced with its documented error code and
// HTTP status. docs/emulator.md lists each rule's source and
// the choices made where the documentation is silent.
//
// An Emulator is an http.Handler; Start serves it on a loopback port, in the
// spirit of net/http/httptest; ExampleNew shows the whole round trip.
package emulator

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// DefaultKeyPairQuota is the documented number of key pairs a region holds.
const DefaultKeyPairQuota = 500

// Options configure an Emulator. Seed is required.
type Options struct {
	// Seed is the starting world: regions, resource groups, instances.
	Seed *Seed
	// StateDir, when set, keeps the state in that directory, shared safely
	// with other processes using the same directory. The seed is applied
	// only when the directory holds no state yet. Empty keeps state in memory.
	StateDir string
	// Credentials the emulator accepts. An empty AccessKeyID or
	// AccessKeySecret is replaced by a random one; read them back with
	// Emulator.Credentials. A non-empty SecurityToken must accompany every
	// request, as with STS credentials.
	Credentials Credentials
	// KeyPairQuota is the number of key pairs per region; 0 means
	// DefaultKeyPairQuota.
	KeyPairQuota int
	// FastKeys makes CreateKeyPair build its RSA keys from a fixed pool of
	// public primes: instant, but INSECURE. For tests and benchmarks only.
	FastKeys bool
	// Faults injects latency and failures.
	Faults FaultPlan
	// Now is the emulator's clock; nil means time.Now. Time stamps are
	// checked against it, and reboots progress by it.
	Now func() time.Time
	// RebootTime is how long a reboot (RebootInstances, RebootInstance)
	// takes, from the request until the instance is Running again: Stopping
	// for the first half, Starting for the second. 0 means
	// DefaultRebootTime; tests use milliseconds, or a fake clock.
	RebootTime time.Duration
	// Logger receives one line per request (action, status, code, duration,
	// request ID; never a parameter value). Nil discards.
	Logger *slog.Logger
}

// Credentials are what a client signs requests with.
type Credentials struct {
	AccessKeyID     string `json:"accessKeyId"`
	AccessKeySecret string `json:"accessKeySecret"`
	SecurityToken   string `json:"securityToken,omitempty"`
}

// Emulator serves the emulated ECS API. It is safe for concurrent use.
type Emulator struct {
	creds Credentials
	quota int
	// rebootTime is Options.RebootTime, defaulted.
	rebootTime time.Duration
	fast       *fastKeySource // nil: real keys
	now        func() time.Time
	log        *slog.Logger
	store      store
	faults     *faultInjector
	nonces     nonceCache
	actions    map[string]action
}

// New returns an Emulator. With Options.StateDir it opens (or creates) the
// state directory, and fails with an error naming the file when the state
// there cannot be read.
func New(opts Options) (*Emulator, error) {
	if opts.Seed == nil {
		return nil, errors.New("emulator: Options.Seed is required")
	}
	if err := opts.Seed.check(); err != nil {
		return nil, fmt.Errorf("emulator: seed: %w", err)
	}
	if opts.KeyPairQuota < 0 {
		return nil, fmt.Errorf("emulator: KeyPairQuota %d is negative", opts.KeyPairQuota)
	}
	if opts.RebootTime < 0 {
		return nil, fmt.Errorf("emulator: RebootTime %v is negative", opts.RebootTime)
	}
	e := &Emulator{
		creds:  opts.Credentials,
		quota:  opts.KeyPairQuota,
		now:    opts.Now,
		log:    opts.Logger,
		faults: newFaultInjector(opts.Faults),
	}
	if opts.FastKeys {
		e.fast = newFastKeySource()
	}
	if e.quota == 0 {
		e.quota = DefaultKeyPairQuota
	}
	e.rebootTime = opts.RebootTime
	if e.rebootTime == 0 {
		e.rebootTime = DefaultRebootTime
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.creds.AccessKeyID == "" {
		e.creds.AccessKeyID = "LTAI" + randomString(20, upperAlnum)
	}
	if e.creds.AccessKeySecret == "" {
		e.creds.AccessKeySecret = randomString(30, mixedAlnum)
	}
	if opts.StateDir == "" {
		e.store = newMemoryStore(opts.Seed.state())
	} else {
		s, err := openDirStore(opts.StateDir, opts.Seed.state())
		if err != nil {
			return nil, err
		}
		e.store = s
	}
	e.actions = e.actionTable()
	return e, nil
}

// Credentials returns the credentials the emulator accepts.
func (e *Emulator) Credentials() Credentials { return e.creds }

// SetFaults replaces the fault plan; requests already waiting are unaffected.
func (e *Emulator) SetFaults(plan FaultPlan) { e.faults.set(plan) }

// Snapshot returns a deep copy of the current state, for tests to compare,
// with the statuses of rebooting instances as the emulator's clock has them.
func (e *Emulator) Snapshot() (*State, error) {
	var snap *State
	err := e.store.view(func(s *State) error {
		snap = s.clone()
		settleReboots(snap, e.now())
		return nil
	})
	return snap, err
}

// Close releases the store. The Emulator must not serve requests afterwards.
func (e *Emulator) Close() error { return e.store.close() }

// Server is an Emulator listening on a TCP address.
type Server struct {
	// URL is the endpoint, e.g. "http://127.0.0.1:40123".
	URL string
	// Host is host:port, what an SDK client takes as its endpoint or domain.
	Host string
	// Credentials are the ones the emulator accepts.
	Credentials Credentials

	srv *http.Server
	// done is closed when Serve has returned, with its error in serveErr,
	// so that Close and Shutdown may be called more than once.
	done     chan struct{}
	serveErr error
}

// Start serves the emulator on addr ("127.0.0.1:0" picks a free loopback
// port). It returns once the port is listening.
func (e *Emulator) Start(addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("emulator: listen: %w", err)
	}
	return e.Serve(ln), nil
}

// Serve serves the emulator on an existing listener.
func (e *Emulator) Serve(ln net.Listener) *Server {
	s := &Server{
		URL:         "http://" + ln.Addr().String(),
		Host:        ln.Addr().String(),
		Credentials: e.creds,
		srv: &http.Server{
			Handler:           e,
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          slog.NewLogLogger(e.log.Handler(), slog.LevelDebug),
		},
		done: make(chan struct{}),
	}
	go func() {
		err := s.srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.serveErr = err
		close(s.done)
	}()
	return s
}

// Shutdown stops accepting connections and waits for requests in flight to
// finish, or for ctx to end.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	<-s.done
	if err == nil {
		err = s.serveErr
	}
	return err
}

// Close stops the server at once, dropping requests in flight. Closing a
// closed server does nothing.
func (s *Server) Close() error {
	err := s.srv.Close()
	<-s.done
	if err == nil {
		err = s.serveErr
	}
	return err
}

// nonceCache remembers the SignatureNonce of every accepted request for the
// timestamp window, so that a replayed request is refused.
type nonceCache struct {
	mu     sync.Mutex
	seen   map[string]time.Time
	pruned time.Time
}

// use records nonce at time now and reports whether it was new.
func (c *nonceCache) use(nonce string, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen == nil {
		c.seen = map[string]time.Time{}
	}
	if now.Sub(c.pruned) > time.Minute {
		for n, t := range c.seen {
			if now.Sub(t) > 2*timestampWindow {
				delete(c.seen, n)
			}
		}
		c.pruned = now
	}
	if _, ok := c.seen[nonce]; ok {
		return false
	}
	// The nonce is a substring of the parsed request; a copy lets the
	// request itself be collected.
	c.seen[strings.Clone(nonce)] = now
	return true
}

const (
	upperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	lowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789"
	mixedAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

// randomString returns n characters drawn uniformly from alphabet.
func randomString(n int, alphabet string) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[randomIntN(len(alphabet))]
	}
	return string(b)
}

// hashChars is the characters from..to-1 of an ID derived from h: byte i of
// h (wrapping around) mapped onto lowerAlnum, for each i in [from, to).
func hashChars(h [32]byte, from, to int) string {
	b := make([]byte, 0, max(to-from, 0))
	for i := from; i < to; i++ {
		b = append(b, lowerAlnum[int(h[i%len(h)])%len(lowerAlnum)])
	}
	return string(b)
}

func randomIntN(n int) int {
	// Rejection sampling over crypto/rand bytes keeps the draw uniform.
	limit := 256 - 256%n
	var buf [1]byte
	for {
		if _, err := io.ReadFull(rand.Reader, buf[:]); err != nil {
			panic(err) // crypto/rand never fails on supported platforms
		}
		if int(buf[0]) < limit {
			return int(buf[0]) % n
		}
	}
}

// newRequestID returns an upper-case UUID, as the API's RequestId.
func newRequestID() string {
	var b [16]byte
	if _, err := io.ReadFull(rand.Reader, b[:]); err != nil {
		panic(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%X-%X-%X-%X-%X", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
