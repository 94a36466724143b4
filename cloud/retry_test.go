package cloud

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud/emulator"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
)

func TestBackoff(t *testing.T) {
	p := RetryPolicy{BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second,
		jitter: func(d time.Duration) time.Duration { return d }}.withDefaults()
	for n, want := range map[int]time.Duration{
		1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond,
		4: 800 * time.Millisecond, 5: time.Second, 40: time.Second,
	} {
		if got := p.backoff(n); got != want {
			t.Errorf("backoff(%d) = %s, want %s", n, got, want)
		}
	}
	// Full jitter: anywhere from zero to the ceiling.
	p.jitter = RetryPolicy{}.withDefaults().jitter
	for range 100 {
		if d := p.backoff(3); d < 0 || d > 400*time.Millisecond {
			t.Fatalf("backoff(3) = %s, outside [0, 400ms]", d)
		}
	}
}

// flaky answers the first failures requests of one action with a fault,
// then hands every request to the emulator.
type flaky struct {
	emu    http.Handler
	action string
	// "throttle", "503", "drop-before", "drop-after", and, applied first,
	// "500-after" (the API's InternalError) and "504-html-after" (a
	// gateway's page)
	fault    string
	failures int

	mu    sync.Mutex
	count map[string]int
}

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	action := r.URL.Query().Get("Action")
	f.mu.Lock()
	if f.count == nil {
		f.count = map[string]int{}
	}
	f.count[action]++
	fail := action == f.action && f.failures > 0
	if fail {
		f.failures--
	}
	f.mu.Unlock()
	if !fail {
		f.emu.ServeHTTP(w, r)
		return
	}
	body := func(status int, code string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"RequestId":"R-%s","HostId":"h","Code":%q,"Message":"injected","Recommend":""}`, code, code)
	}
	switch f.fault {
	case "throttle":
		body(400, "Throttling.User")
	case "503":
		body(503, "ServiceUnavailable")
	case "drop-after":
		f.emu.ServeHTTP(httptest.NewRecorder(), r)
		panic(http.ErrAbortHandler)
	case "500-after":
		f.emu.ServeHTTP(httptest.NewRecorder(), r)
		body(500, "InternalError")
	case "504-html-after":
		f.emu.ServeHTTP(httptest.NewRecorder(), r)
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(504)
		fmt.Fprint(w, "<html><body><h1>504 Gateway Time-out</h1></body></html>")
	case "drop-before":
		panic(http.ErrAbortHandler)
	}
}

func (f *flaky) requests(action string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.count[action]
}

// Every operation retries what certainly was not applied; create and
// import look up what may have been, and never apply twice.
func TestRetries(t *testing.T) {
	const region = "cn-hangzhou"
	rsa := readPublicKey(t, "rsa2048.pub")
	type outcome struct {
		code     string // "" for success
		requests int    // requests of the action reaching the server
		lookups  int    // DescribeKeyPairs requests
		exists   bool   // the key pair "kp" exists afterwards
	}
	create := func(c *Client) error {
		_, err := c.CreateKeyPair(bg, schema.CreateKeyPairInput{RegionID: region, KeyPairName: "kp"})
		return err
	}
	imp := func(c *Client) error {
		_, err := c.ImportKeyPair(bg, schema.ImportKeyPairInput{RegionID: region, KeyPairName: "kp", PublicKeyBody: rsa})
		return err
	}
	del := func(c *Client) error {
		res, err := c.DeleteKeyPairs(bg, region, []string{"gone"})
		if err == nil && res[0].Err != nil {
			err = res[0].Err
		}
		return err
	}
	read := func(c *Client) error {
		_, err := c.DescribeKeyPairs(bg, schema.DescribeKeyPairsInput{RegionID: region})
		return err
	}
	for _, tc := range []struct {
		name     string
		action   string
		call     func(*Client) error
		fault    string
		failures int
		want     outcome
	}{
		{"read throttled twice", "DescribeKeyPairs", read, "throttle", 2, outcome{"", 3, 3, false}},
		{"read throttled past the attempts", "DescribeKeyPairs", read, "throttle", 9, outcome{"Throttling.User", 4, 4, false}},
		{"read dropped", "DescribeKeyPairs", read, "drop-after", 1, outcome{"", 2, 2, false}},
		{"delete dropped after", "DeleteKeyPairs", del, "drop-after", 2, outcome{"", 3, 0, false}},
		{"create throttled", "CreateKeyPair", create, "throttle", 2, outcome{"", 3, 0, true}},
		// A 5xx may come after the work was done: looked up, found absent,
		// then sent again.
		{"create 503", "CreateKeyPair", create, "503", 1, outcome{"", 2, 1, true}},
		{"create applied, then 500", "CreateKeyPair", create, "500-after", 1, outcome{CodeCreatedWithoutPrivateKey, 1, 1, true}},
		{"create applied, then a gateway's 504 page", "CreateKeyPair", create, "504-html-after", 1, outcome{CodeCreatedWithoutPrivateKey, 1, 1, true}},
		{"import applied, then 500", "ImportKeyPair", imp, "500-after", 1, outcome{"", 1, 1, true}},
		{"import applied, then a gateway's 504 page", "ImportKeyPair", imp, "504-html-after", 1, outcome{"", 1, 1, true}},
		{"create dropped before", "CreateKeyPair", create, "drop-before", 2, outcome{"", 3, 2, true}},
		{"create dropped after", "CreateKeyPair", create, "drop-after", 1, outcome{CodeCreatedWithoutPrivateKey, 1, 1, true}},
		{"create dropped before, always", "CreateKeyPair", create, "drop-before", 9, outcome{CodeConnectionFailed, 4, 4, false}},
		{"import dropped after", "ImportKeyPair", imp, "drop-after", 1, outcome{"", 1, 1, true}},
		{"import dropped before", "ImportKeyPair", imp, "drop-before", 1, outcome{"", 2, 1, true}},
		{"import throttled", "ImportKeyPair", imp, "throttle", 3, outcome{"", 4, 0, true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			emu, err := emulator.New(emulator.Options{Seed: loadSeed(t), FastKeys: true})
			if err != nil {
				t.Fatal(err)
			}
			f := &flaky{emu: emu, action: tc.action, fault: tc.fault, failures: tc.failures}
			srv := httptest.NewServer(f)
			defer srv.Close()
			creds := emu.Credentials()
			c, err := New(Config{Endpoint: srv.URL, Retry: fastRetry,
				Credentials: &StaticCredentials{AccessKeyID: creds.AccessKeyID, AccessKeySecret: creds.AccessKeySecret}})
			if err != nil {
				t.Fatal(err)
			}
			err = tc.call(c)
			if tc.want.code == "" && err != nil {
				t.Fatalf("err = %v, want success", err)
			}
			if tc.want.code != "" {
				e := wantError(t, err, tc.want.code, 0)
				if e.Code == CodeConnectionFailed && (MaybeApplied(e) || !strings.Contains(e.Message, "does not exist, so nothing was changed")) {
					t.Errorf("checked as not applied, but: %+v", e)
				}
			}
			if got := f.requests(tc.action); got != tc.want.requests {
				t.Errorf("%s requests = %d, want %d", tc.action, got, tc.want.requests)
			}
			if got := f.requests("DescribeKeyPairs"); got != tc.want.lookups {
				t.Errorf("DescribeKeyPairs requests = %d, want %d", got, tc.want.lookups)
			}
			s, err := emu.Snapshot()
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, kp := range s.KeyPairs {
				if kp.KeyPairName == "kp" {
					n++
				}
			}
			if n != map[bool]int{true: 1, false: 0}[tc.want.exists] {
				t.Errorf("%d key pairs named kp, want exists=%v", n, tc.want.exists)
			}
		})
	}
}

// A retry never outlives the call: a wait that would end after ctx's
// deadline is not started.
func TestRetryStopsAtDeadline(t *testing.T) {
	env := newEnv(t, emulator.Options{Faults: emulator.FaultPlan{Default: emulator.Faults{ThrottleRate: 1}}})
	c := env.client(func(cfg *Config) { cfg.Retry = RetryPolicy{BaseDelay: time.Second, MaxAttempts: 10} })
	ctx, cancel := context.WithTimeout(bg, 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.DescribeRegions(ctx)
	if d := time.Since(start); d > 400*time.Millisecond {
		t.Errorf("returned after %s", d)
	}
	var e *Error
	if !errors.As(err, &e) || (e.Code != "Throttling" && e.Code != CodeRequestCanceled) {
		t.Fatalf("err = %v", err)
	}
}

// A create whose context ends while the request waits at the API is aborted
// and then looked up, so that the result says what happened.
func TestCreateCanceledIsLookedUp(t *testing.T) {
	env := newEnv(t, emulator.Options{Faults: emulator.FaultPlan{PerAction: map[string]emulator.Faults{
		"CreateKeyPair": {Latency: time.Second}}}})
	c := env.client()
	ctx, cancel := context.WithTimeout(bg, 100*time.Millisecond)
	defer cancel()
	_, err := c.CreateKeyPair(ctx, schema.CreateKeyPairInput{RegionID: "cn-hangzhou", KeyPairName: "slow"})
	e := wantError(t, err, CodeRequestTimeout, 0)
	if !errors.Is(err, context.DeadlineExceeded) || MaybeApplied(err) || !strings.Contains(e.Message, `"slow" does not exist`) {
		t.Errorf("err = %+v", e)
	}
	if n := env.cnt.count("DescribeKeyPairs"); n != 1 {
		t.Errorf("%d look-ups, want 1", n)
	}
	time.Sleep(1200 * time.Millisecond) // the aborted request never lands
	if len(env.snapshot().KeyPairs) != 0 {
		t.Errorf("the aborted create was applied")
	}
}

// Refused connections carried nothing: a create retries them.
func TestCreateConnectionRefused(t *testing.T) {
	env := newEnv(t, emulator.Options{})
	c := env.client()
	env.srv.Close()
	_, err := c.CreateKeyPair(bg, schema.CreateKeyPairInput{RegionID: "cn-hangzhou", KeyPairName: "kp"})
	e := wantError(t, err, CodeConnectionFailed, 0)
	if MaybeApplied(err) || !e.Retryable {
		t.Errorf("err = %+v", e)
	}
}

// An import whose answer was lost, and whose name now holds another key,
// changed nothing.
func TestImportLostAnswerOtherKey(t *testing.T) {
	emu, err := emulator.New(emulator.Options{Seed: loadSeed(t), FastKeys: true})
	if err != nil {
		t.Fatal(err)
	}
	f := &flaky{emu: emu, action: "ImportKeyPair", fault: "drop-before", failures: 1}
	srv := httptest.NewServer(f)
	defer srv.Close()
	creds := emu.Credentials()
	c, err := New(Config{Endpoint: srv.URL, Retry: fastRetry,
		Credentials: &StaticCredentials{AccessKeyID: creds.AccessKeyID, AccessKeySecret: creds.AccessKeySecret}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateKeyPair(bg, schema.CreateKeyPairInput{RegionID: "cn-hangzhou", KeyPairName: "taken"}); err != nil {
		t.Fatal(err)
	}
	_, err = c.ImportKeyPair(bg, schema.ImportKeyPairInput{RegionID: "cn-hangzhou", KeyPairName: "taken",
		PublicKeyBody: readPublicKey(t, "rsa2048.pub")})
	e := wantError(t, err, "KeyPair.AlreadyExist", 0)
	if !strings.Contains(e.Message, "another public key") {
		t.Errorf("err = %+v", e)
	}
}

func TestCreatedBefore(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 30, 20, 0, time.UTC)
	for _, tc := range []struct {
		creationTime string
		want         bool
	}{
		{"2026-03-01T12:30Z", false},
		{"2026-03-01T12:29Z", false}, // within the clock skew allowed
		{"2026-03-01T12:27Z", true},
		{"2026-03-01T12:27:00Z", true},
		{"yesterday", false},
	} {
		if got := createdBefore(tc.creationTime, now); got != tc.want {
			t.Errorf("createdBefore(%q) = %v, want %v", tc.creationTime, got, tc.want)
		}
	}
}

// Multi-request operations report each finished batch.
func TestProgress(t *testing.T) {
	env := newEnv(t, emulator.Options{})
	c := env.client()
	var mu sync.Mutex
	var got []string
	ctx := WithProgress(bg, func(action, _ string, done, total int) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, fmt.Sprintf("%s %d/%d", action, done, total))
	})
	names := make([]string, 250)
	for i := range names {
		names[i] = fmt.Sprintf("name-%03d", i)
	}
	if _, err := c.DeleteKeyPairs(ctx, "cn-hangzhou", names); err != nil {
		t.Fatal(err)
	}
	want := []string{"DeleteKeyPairs 1/3", "DeleteKeyPairs 2/3", "DeleteKeyPairs 3/3"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("progress %v, want %v", got, want)
	}
	got = nil
	if _, err := c.DeleteKeyPairs(ctx, "cn-hangzhou", names[:1]); err != nil || len(got) != 0 {
		t.Errorf("one request reported progress %v (%v)", got, err)
	}
}
