package cloud

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud/emulator"
)

var testdata = filepath.Join("..", "testdata")

func loadSeed(t testing.TB) *emulator.Seed {
	t.Helper()
	seed, err := emulator.LoadSeed(filepath.Join(testdata, "seed.json"))
	if err != nil {
		t.Fatal(err)
	}
	return seed
}

func readPublicKey(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testdata, "keys", name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// counter wraps the emulator: it counts requests per action and records
// how many were in flight at once.
type counter struct {
	h           http.Handler
	mu          sync.Mutex
	byAction    map[string]int
	inFlight    int
	maxInFlight int
}

func (c *counter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	action := r.URL.Query().Get("Action")
	c.mu.Lock()
	if c.byAction == nil {
		c.byAction = map[string]int{}
	}
	c.byAction[action]++
	c.inFlight++
	c.maxInFlight = max(c.maxInFlight, c.inFlight)
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.inFlight--
		c.mu.Unlock()
	}()
	c.h.ServeHTTP(w, r)
}

func (c *counter) count(action string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byAction[action]
}

func (c *counter) maxConcurrent() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.maxInFlight
}

func (c *counter) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byAction = map[string]int{}
	c.maxInFlight = 0
}

// testEnv is an emulator behind a counting handler on a loopback port.
type testEnv struct {
	t     testing.TB
	emu   *emulator.Emulator
	srv   *httptest.Server
	cnt   *counter
	creds emulator.Credentials
	logs  *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newEnv(t testing.TB, opts emulator.Options) *testEnv {
	t.Helper()
	if opts.Seed == nil {
		opts.Seed = loadSeed(t)
	}
	opts.FastKeys = true
	emu, err := emulator.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	cnt := &counter{h: emu}
	srv := httptest.NewServer(cnt)
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
		emu.Close()
	})
	return &testEnv{t: t, emu: emu, srv: srv, cnt: cnt, creds: emu.Credentials(), logs: &syncBuffer{}}
}

// client returns a Client pointed at the emulator with its credentials,
// logging at debug level into e.logs.
func (e *testEnv) client(mod ...func(*Config)) *Client {
	e.t.Helper()
	cfg := Config{
		Endpoint: e.srv.URL,
		Credentials: &StaticCredentials{
			AccessKeyID:     e.creds.AccessKeyID,
			AccessKeySecret: e.creds.AccessKeySecret,
			SecurityToken:   e.creds.SecurityToken,
		},
		Logger: slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Retry:  fastRetry,
	}
	for _, m := range mod {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *testEnv) snapshot() *emulator.State {
	e.t.Helper()
	s, err := e.emu.Snapshot()
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// wantError asserts err is an *Error with the code (and status, when not 0).
func wantError(t testing.TB, err error, code string, status int) *Error {
	t.Helper()
	if err == nil {
		t.Fatalf("want error %s, got success", code)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("want *Error %s, got %T: %v", code, err, err)
	}
	if e.Code != code || (status != 0 && e.HTTPStatus != status) {
		t.Fatalf("want %s (HTTP %d), got %s (HTTP %d): %s", code, status, e.Code, e.HTTPStatus, e.Message)
	}
	return e
}

// recorder is an http.RoundTripper that records request URLs and fails
// every request, for tests without a network.
type recorder struct {
	mu   sync.Mutex
	urls []*url.URL
	// respond, when set, answers instead of failing.
	respond func(*http.Request) *http.Response
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.urls = append(r.urls, req.URL)
	r.mu.Unlock()
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	if r.respond != nil {
		return r.respond(req), nil
	}
	return nil, errors.New("offline: no network in this test")
}

func (r *recorder) last() *url.URL {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.urls) == 0 {
		return nil
	}
	return r.urls[len(r.urls)-1]
}

func jsonResponse(req *http.Request, status int, body string) *http.Response {
	return &http.Response{
		StatusCode: status,
		Status:     fmt.Sprintf("%d %s", status, http.StatusText(status)),
		Header:     http.Header{"Content-Type": []string{"application/json"}},
		Body:       io.NopCloser(strings.NewReader(body)),
		Request:    req,
		Proto:      "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
	}
}

// instanceSeed is a world with n Linux instances (Running and Stopped) and
// windows Windows instances in cn-hangzhou.
func instanceSeed(n, windows int) (*emulator.Seed, []string, []string) {
	seed := &emulator.Seed{
		Regions: []emulator.Region{{RegionID: "cn-hangzhou", LocalName: "China (Hangzhou)",
			RegionEndpoint: "ecs-cn-hangzhou.aliyuncs.com", Status: "available"}},
		ResourceGroups: []emulator.ResourceGroup{{ID: "rg-acfmdefault0001", Name: "default", Default: true}},
	}
	var linux, win []string
	for i := range n + windows {
		in := emulator.Instance{
			InstanceID:   fmt.Sprintf("i-bp1%017d", i),
			InstanceName: fmt.Sprintf("web-%03d", i),
			RegionID:     "cn-hangzhou",
			ZoneID:       "cn-hangzhou-h",
			Status:       "Running",
			OSType:       "linux",
			OSName:       "Alibaba Cloud Linux 3",
			InstanceType: "ecs.g7.large",
			ImageID:      "aliyun_3_x64_20G_alibase_20240819.vhd",
		}
		if i%3 == 1 {
			in.Status = "Stopped"
		}
		if i >= n {
			in.OSType, in.OSName = "windows", "Windows Server 2022"
			win = append(win, in.InstanceID)
		} else {
			linux = append(linux, in.InstanceID)
		}
		seed.Instances = append(seed.Instances, in)
	}
	return seed, linux, win
}

var bg = context.Background()

// fastRetry keeps the default number of attempts with waits short enough
// for tests.
var fastRetry = RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 4 * time.Millisecond, Settle: time.Millisecond}
