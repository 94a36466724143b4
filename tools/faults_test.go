package tools_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud/emulator"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/tools"
)

// The fault mix: 20% of requests fail, in five ways.
var faultMix = emulator.Faults{
	Jitter:          2 * time.Millisecond,
	ThrottleRate:    0.05, // HTTP 400 Throttling
	ServerErrorRate: 0.05, // HTTP 503 ServiceUnavailable or 500 InternalError
	DropRate:        0.03, // connection closed before the action runs
	DropAfterRate:   0.03, // the action runs, then the connection closes
}

const (
	slowRate     = 0.04                   // requests held past the call's deadline
	slowLatency  = 800 * time.Millisecond // how long
	callDeadline = 500 * time.Millisecond // --timeout of each call
)

// slowWire holds a share of the requests past the call's deadline before
// the emulator sees them. Like the emulator's own latency, a request whose
// client gave up meanwhile is not processed.
type slowWire struct {
	next http.Handler
	mu   sync.Mutex
	rng  *rand.Rand
	held int
}

func (s *slowWire) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	slow := s.rng.Float64() < slowRate
	if slow {
		s.held++
	}
	s.mu.Unlock()
	if slow {
		select {
		case <-time.After(slowLatency):
		case <-r.Context().Done():
			return
		}
	}
	s.next.ServeHTTP(w, r)
}

func (s *slowWire) heldCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.held
}

// faultHarness is the server in process, behind an MCP client, in front of
// a faulty emulator.
type faultHarness struct {
	*harness
	wire *slowWire
}

func newFaultHarness(t *testing.T, seed uint64, logs *bytes.Buffer) *faultHarness {
	t.Helper()
	worldSeed, err := emulator.LoadSeed(filepath.Join(testdata, "seed.json"))
	if err != nil {
		t.Fatal(err)
	}
	emu, err := emulator.New(emulator.Options{Seed: worldSeed, FastKeys: true,
		Faults: emulator.FaultPlan{Default: faultMix, Seed: seed}})
	if err != nil {
		t.Fatal(err)
	}
	wire := &slowWire{next: emu, rng: rand.New(rand.NewPCG(seed, seed+1))}
	srv := httptest.NewServer(wire)
	creds := emu.Credentials()
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	c, err := cloud.New(cloud.Config{
		Endpoint:    srv.URL,
		Credentials: &cloud.StaticCredentials{AccessKeyID: creds.AccessKeyID, AccessKeySecret: creds.AccessKeySecret},
		Logger:      logger,
		Retry: cloud.RetryPolicy{BaseDelay: 2 * time.Millisecond, MaxDelay: 20 * time.Millisecond,
			Settle: 50 * time.Millisecond, VerifyTimeout: 5 * time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, emu: emu, srv: &emulator.Server{URL: srv.URL, Credentials: creds},
		keyDir: filepath.Join(t.TempDir(), "keys"), logs: logs, seen: &strings.Builder{}}
	s := server.NewMCPServer("test", "0", server.WithToolCapabilities(false), server.WithRecovery())
	tools.Register(s, tools.Deps{Cloud: c, PrivateKeyDir: h.keyDir, Logger: logger}, false)
	if h.client, err = client.NewInProcessClient(s); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := h.client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := h.client.Initialize(ctx, mcp.InitializeRequest{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		h.client.Close()
		srv.CloseClientConnections()
		srv.Close()
		emu.Close()
	})
	return &faultHarness{harness: h, wire: wire}
}

// outcome is one call's result: its error code, "" for success.
type outcome struct {
	code       string
	text       string
	structured json.RawMessage
}

var errorText = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*(\.[A-Za-z0-9]+)*: \S`)

// callOnce runs a tool with the call deadline; a call that does not end
// well after it is a hang.
func (h *faultHarness) callOnce(t *testing.T, name string, args any) outcome {
	ctx, cancel := context.WithTimeout(tools.WithCallTimeout(context.Background(), callDeadline), 15*time.Second)
	defer cancel()
	req := mcp.CallToolRequest{}
	req.Params.Name = name
	req.Params.Arguments = args
	res, err := h.client.CallTool(ctx, req)
	if err != nil {
		t.Fatalf("%s %v: protocol error or hang: %v", name, args, err)
	}
	var o outcome
	for _, c := range res.Content {
		if tc, ok := c.(mcp.TextContent); ok {
			o.text += tc.Text
		}
	}
	if strings.Contains(o.text, "PRIVATE KEY") {
		t.Fatalf("%s: a private key in the result", name)
	}
	if res.IsError {
		if !errorText.MatchString(o.text) {
			t.Fatalf("%s: an error without a code: %q", name, o.text)
		}
		o.code, _, _ = strings.Cut(o.text, ":")
		return o
	}
	if res.StructuredContent == nil {
		t.Fatalf("%s: success without structured content: %q", name, o.text)
	}
	o.structured, _ = json.Marshal(res.StructuredContent)
	return o
}

// keyState is what the results said of one key pair name.
type keyState int

const (
	absent   keyState = iota
	withKey           // created, its private key saved
	imported          // imported: no private key on this side
	keyLost           // created, and the result said its private key was lost
	present           // exists, as a listing showed after an open result
	unknown           // a result left it open (OutcomeUnknown, a failed delete)
)

// worker drives one share of the calls on names of its own, so that what
// its results say can be checked against the emulator without knowing
// the other workers' calls.
type worker struct {
	id     int
	region string
	rng    *rand.Rand
	names  []string
	state  map[string]keyState
	codes  map[string]int
}

// TestFaultInjection runs a seeded random mix of tool calls through the
// MCP client against an emulator that fails 20% of requests, then checks
// that the cloud holds exactly what the results reported.
func TestFaultInjection(t *testing.T) {
	const (
		workers        = 8
		callsPerWorker = 130
		seed           = 20260301
	)
	logs := &bytes.Buffer{}
	h := newFaultHarness(t, seed, logs)
	runFaultMix(t, h, "cn-hangzhou", workers, callsPerWorker, seed)
}

// runFaultMix makes workers*calls tool calls and checks the outcome; it
// returns the number of calls.
func runFaultMix(t *testing.T, h *faultHarness, region string, workers, calls int, seed uint64) int {
	rsa := fixture(t, "rsa2048.pub")
	ecdsa := fixture(t, "ecdsa256.pub")
	ws := make([]*worker, workers)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range ws {
		w := &worker{id: i, region: region, rng: rand.New(rand.NewPCG(seed, uint64(i))), state: map[string]keyState{}, codes: map[string]int{}}
		for j := range 6 {
			// Names differ per region: the key files share one directory.
			w.names = append(w.names, fmt.Sprintf("fault-%s-w%d-k%d", region, i, j))
		}
		ws[i] = w
		wg.Go(func() {
			for range calls {
				w.step(t, h, rsa, ecdsa)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)

	// The cloud holds exactly what the results reported.
	snap := h.snapshot()
	held := map[string]int{}
	for _, kp := range snap.KeyPairs {
		if kp.RegionID == region && strings.HasPrefix(kp.KeyPairName, "fault-") {
			held[kp.KeyPairName]++
		}
	}
	codes := map[string]int{}
	for _, w := range ws {
		for code, n := range w.codes {
			codes[code] += n
		}
		for _, name := range w.names {
			n := held[name]
			if n > 1 {
				t.Errorf("%s: %d key pairs under one name", name, n)
			}
			pem := filepath.Join(h.keyDir, name+".pem")
			info, statErr := os.Stat(pem)
			st := w.state[name]
			switch st {
			case absent:
				if n != 0 {
					t.Errorf("%s: a phantom key pair: the results said none exists", name)
				}
			case withKey:
				if n != 1 || statErr != nil || info.Size() == 0 {
					t.Errorf("%s: reported created with its key, but held=%d, key file %v", name, n, statErr)
				}
			case imported, keyLost, present:
				if n != 1 {
					t.Errorf("%s: reported existing (state %d), but held=%d", name, st, n)
				}
			}
			if statErr == nil && info.Size() == 0 {
				t.Errorf("%s: an empty private key file was left behind", name)
			}
			if statErr == nil && (st == keyLost || st == imported) {
				t.Errorf("%s: a key file, though the results said there is no private key (state %d)", name, st)
			}
		}
	}
	total := 0
	keys := make([]string, 0, len(codes))
	for code, n := range codes {
		keys = append(keys, code)
		total += n
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%d", k, codes[k])
	}
	t.Logf("%d calls in %s; outcomes:%s; requests held past the deadline: %d", total, elapsed.Round(time.Millisecond), b.String(), h.wire.heldCount())
	if strings.Contains(h.logs.String(), "PRIVATE KEY") {
		t.Error("a private key in the logs")
	}
	if codes["ok"] < total/2 {
		t.Errorf("only %d of %d calls succeeded", codes["ok"], total)
	}
	return total
}

// step makes one random call and records what its result says.
func (w *worker) step(t *testing.T, h *faultHarness, rsa, ecdsa string) {
	name := w.names[w.rng.IntN(len(w.names))]
	region := w.region
	var o outcome
	switch p := w.rng.Float64(); {
	case p < 0.30:
		o = h.callOnce(t, "create_key_pair", map[string]any{"regionId": region, "keyPairName": name})
		w.afterCreate(t, h, name, o)
	case p < 0.45:
		body := rsa
		if w.rng.IntN(2) == 0 {
			body = ecdsa
		}
		o = h.callOnce(t, "import_key_pair", map[string]any{"regionId": region, "keyPairName": name, "publicKeyBody": body})
		w.afterImport(name, o)
	case p < 0.65:
		o = h.callOnce(t, "delete_key_pairs", map[string]any{"regionId": region, "keyPairNames": []string{name}, "confirm": true})
		w.afterDelete(t, h, name, o)
	case p < 0.90:
		o = h.callOnce(t, "describe_key_pairs", map[string]any{"regionId": region, "keyPairName": fmt.Sprintf("fault-%s-w%d-*", region, w.id)})
		w.afterDescribe(t, o)
	default:
		o = h.callOnce(t, "describe_instances", map[string]any{"regionId": region})
	}
	if o.code == "" {
		w.codes["ok"]++
	} else {
		w.codes[o.code]++
	}
}

func (w *worker) afterCreate(t *testing.T, h *faultHarness, name string, o outcome) {
	pem := filepath.Join(h.keyDir, name+".pem")
	switch o.code {
	case "":
		w.state[name] = withKey
	case "PrivateKeyFile.AlreadyExists":
		// A key file from an earlier create: nothing was sent.
	case "KeyPair.AlreadyExist":
		if w.state[name] == absent {
			t.Errorf("create %s: KeyPair.AlreadyExist, but the results said it does not exist: %s", name, o.text)
		}
	case cloud.CodeCreatedWithoutPrivateKey:
		w.state[name] = keyLost
		if !strings.Contains(o.text, name) || !strings.Contains(o.text, "was removed") {
			t.Errorf("create %s: %s", name, o.text)
		}
	case cloud.CodeOutcomeUnknown:
		w.state[name] = unknown
	default:
		// Failed, and said so: nothing was created.
		if w.state[name] != absent {
			return // it existed before; a failed create leaves it
		}
		w.state[name] = absent
	}
	if o.code != "" && o.code != "PrivateKeyFile.AlreadyExists" {
		if _, err := os.Stat(pem); err == nil && w.state[name] != withKey {
			t.Errorf("create %s failed (%s) but left %s", name, o.code, pem)
		}
	}
}

func (w *worker) afterImport(name string, o outcome) {
	switch o.code {
	case "":
		if w.state[name] == absent || w.state[name] == unknown {
			w.state[name] = imported
		}
	case cloud.CodeOutcomeUnknown:
		w.state[name] = unknown
	}
	// Any other error changed nothing (KeyPair.AlreadyExist included).
}

func (w *worker) afterDelete(t *testing.T, h *faultHarness, name string, o outcome) {
	if o.code != "" {
		w.state[name] = unknown // batches may have run before the error
		return
	}
	var out struct {
		KeyPairs []struct{ KeyPairName, Outcome string }
	}
	if err := json.Unmarshal(o.structured, &out); err != nil || len(out.KeyPairs) != 1 {
		t.Fatalf("delete %s: %s", name, o.structured)
	}
	switch out.KeyPairs[0].Outcome {
	case "deleted", "not_found":
		w.state[name] = absent
		// Its key file stays: the tool never deletes private keys. Move
		// it away so that the name can be created again.
		pem := filepath.Join(h.keyDir, name+".pem")
		_ = os.Rename(pem, pem+".old")
	default:
		w.state[name] = unknown
	}
}

// afterDescribe checks a listing against what earlier results said.
func (w *worker) afterDescribe(t *testing.T, o outcome) {
	if o.code != "" {
		return
	}
	var out struct {
		KeyPairs []struct{ KeyPairName string }
	}
	if err := json.Unmarshal(o.structured, &out); err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, k := range out.KeyPairs {
		listed[k.KeyPairName] = true
	}
	for _, name := range w.names {
		switch st := w.state[name]; {
		case st == unknown:
			// A listing settles it.
			if listed[name] {
				w.state[name] = present
			} else {
				w.state[name] = absent
			}
		case (st != absent) != listed[name]:
			t.Errorf("describe: %s listed=%v, but the results said state %d", name, listed[name], st)
		}
	}
}
