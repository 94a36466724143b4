package tools_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud/emulator"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
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
	// faultRebootTime is how long a reboot takes in the fault mix, and
	// faultPoll the first wait of a reboot's polls: several polls fit in a
	// call's deadline, so that a wait whose polls get through sees the
	// instance Running again.
	faultRebootTime = 50 * time.Millisecond
	faultPoll       = 40 * time.Millisecond
)

// slowWire holds a share of the requests past the call's deadline before
// the emulator sees them. Like the emulator's own latency, a request whose
// client gave up meanwhile is not processed.
type slowWire struct {
	// next is the emulator; the soak test replaces it between rounds.
	next atomic.Pointer[emulator.Emulator]
	mu   sync.Mutex
	rng  *rand.Rand
	rate float64 // share of requests held: slowRate
	held int
	// dropAfter, when set, picks requests (by action) whose answer is
	// thrown away after the emulator handled them, the connection closed:
	// a test's own DropAfter, exactly where it wants one.
	dropAfter func(action string) bool
	// deletes counts the DeleteKeyPairs requests that reached the
	// emulator; carried lists each key pair one of them named while an
	// instance carried it ("name on instance"), as the emulator's state
	// showed when the request arrived.
	deletes int
	carried []string
}

func (s *slowWire) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	slow := s.rng.Float64() < s.rate
	if slow {
		s.held++
	}
	drop := s.dropAfter
	s.mu.Unlock()
	if slow {
		select {
		case <-time.After(slowLatency):
		case <-r.Context().Done():
			return
		}
	}
	emu := s.next.Load()
	if r.ParseForm() == nil {
		action := r.Form.Get("Action")
		if action == "DeleteKeyPairs" {
			s.checkDelete(emu, r.Form.Get("RegionId"), r.Form.Get("KeyPairNames"))
		}
		if drop != nil && drop(action) {
			emu.ServeHTTP(httptest.NewRecorder(), r)
			panic(http.ErrAbortHandler) // net/http closes the connection, silently
		}
	}
	emu.ServeHTTP(w, r)
}

// checkDelete records a DeleteKeyPairs request, and each key pair it names
// that an instance carries as it arrives. The emulator refuses such a
// request; no tool may send one (each reads the carriers first, and only
// the worker that owns a name changes which instances carry it).
func (s *slowWire) checkDelete(emu *emulator.Emulator, region, list string) {
	var names []string
	_ = json.Unmarshal([]byte(list), &names)
	var carried []string
	if snap, err := emu.Snapshot(); err == nil {
		for _, in := range snap.Instances {
			if in.RegionID == region && in.KeyPairName != "" && slices.Contains(names, in.KeyPairName) {
				carried = append(carried, in.KeyPairName+" on "+in.InstanceID)
			}
		}
	} else {
		carried = append(carried, "(no snapshot: "+err.Error()+")")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deletes++
	s.carried = append(s.carried, carried...)
}

// takeDeletes returns, and resets, what checkDelete recorded.
func (s *slowWire) takeDeletes() (n int, carried []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, carried = s.deletes, s.carried
	s.deletes, s.carried = 0, nil
	return n, carried
}

// setDropAfter installs (or, with nil, removes) the dropAfter hook.
func (s *slowWire) setDropAfter(f func(action string) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropAfter = f
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
	http *httptest.Server // serves wire
}

func newFaultHarness(t *testing.T, seed uint64, logs *bytes.Buffer) *faultHarness {
	t.Helper()
	emu := newEmulator(t, emulator.Options{Faults: emulator.FaultPlan{Default: faultMix, Seed: seed}, RebootTime: faultRebootTime})
	wire := &slowWire{rng: rand.New(rand.NewPCG(seed, seed+1)), rate: slowRate}
	wire.next.Store(emu)
	srv := httptest.NewServer(wire)
	creds := emu.Credentials()
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	c, err := cloud.New(cloud.Config{
		Endpoint:    srv.URL,
		Credentials: &cloud.StaticCredentials{AccessKeyID: creds.AccessKeyID, AccessKeySecret: creds.AccessKeySecret},
		Logger:      logger,
		Retry: cloud.RetryPolicy{BaseDelay: 2 * time.Millisecond, MaxDelay: 20 * time.Millisecond,
			Settle: 50 * time.Millisecond, VerifyTimeout: 5 * time.Second},
		PollInterval: faultPoll,
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
	initialize(t, h.client)
	t.Cleanup(func() {
		h.client.Close()
		srv.CloseClientConnections()
		srv.Close()
		h.emu.Close()
	})
	return &faultHarness{harness: h, wire: wire, http: srv}
}

// freshEmulator replaces the emulator behind the endpoint with a new one,
// built from the seed, that accepts the same credentials: the cloud starts
// afresh while the server keeps running. The old emulator, and everything
// it remembers (the state, the nonce of every request), becomes garbage.
// No call may be in flight.
func (h *faultHarness) freshEmulator(t *testing.T, seed uint64) {
	t.Helper()
	emu := newEmulator(t, emulator.Options{Credentials: h.emu.Credentials(),
		Faults: emulator.FaultPlan{Default: faultMix, Seed: seed}, RebootTime: faultRebootTime})
	old := h.emu
	h.emu = emu
	h.wire.next.Store(emu)
	old.Close()
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

// unknownKey is what the results said of an instance's key pair when a
// result left it open (no key pair name starts with '?').
const unknownKey = "?"

// instancesPerWorker is the number of Linux instances each worker attaches
// key pairs to and detaches them from.
const instancesPerWorker = 4

// absorbable are the error codes of transient failures that the cloud
// client's retries absorb: with 4 attempts against a 16% rate of them, one
// that reaches a result is rare. RequestTimeout and RequestCanceled are not
// among them: a request held past the call's deadline ends the call.
var absorbable = map[string]bool{"Throttling": true, "ServiceUnavailable": true, "InternalError": true, cloud.CodeConnectionFailed: true}

// worker drives one share of the calls on names and instances of its own,
// so that what its results say can be checked against the emulator without
// knowing the other workers' calls.
type worker struct {
	id     int
	region string
	rng    *rand.Rand
	names  []string
	state  map[string]keyState
	codes  map[string]int
	// insts are the worker's own instances (Running, Linux); bound is the
	// key pair each carries as the results said ("" none, unknownKey).
	insts []string
	bound map[string]string
	// windows are the region's Windows instances, which every worker may
	// name: no call can change them.
	windows map[string]bool
	// binds counts attach and detach outcomes per instance, e.g.
	// "attach:attached" or "detach:failed:Throttling".
	binds map[string]int
	// rebootBy is, per instance, when every reboot the results left under
	// way (or possibly sent) is over: before then it may be Stopping or
	// Starting, after it Running. start is when the current call began.
	rebootBy map[string]time.Time
	start    time.Time
	// lifecycle counts reboot and rotation outcomes per item, e.g.
	// "reboot:rebooted" or "rotate.delete_old:kept".
	lifecycle map[string]int
	// calls and transient count, per tool, the calls and those whose result
	// carried a transient error that retries should have absorbed.
	calls, transient map[string]int
}

func (w *worker) own(id string) bool { return slices.Contains(w.insts, id) }

// TestFaultInjection runs a seeded random mix of tool calls (creates,
// imports, deletes, attaches, detaches, listings, reboots and rotations)
// through the MCP client against an emulator that fails 20% of requests,
// then checks that the cloud holds exactly what the results reported: the
// key pairs, the key pair each instance carries, every instance Running
// once its reboots are over, and no DeleteKeyPairs ever sent for a key
// pair an instance carried.
func TestFaultInjection(t *testing.T) {
	t.Parallel()
	const (
		workers        = 16
		callsPerWorker = 65
		seed           = 20260301
	)
	logs := &bytes.Buffer{}
	h := newFaultHarness(t, seed, logs)
	runFaultMix(t, h, "cn-hangzhou", workers, callsPerWorker, seed)
}

// runFaultMix makes workers*calls tool calls and checks the outcome; it
// returns the number of calls. It adds workers*instancesPerWorker instances
// to the region, which the emulator allows once per emulator.
func runFaultMix(t *testing.T, h *faultHarness, region string, workers, calls int, seed uint64) int {
	rsa := fixture(t, "rsa2048.pub")
	ecdsa := fixture(t, "ecdsa256.pub")
	_, ids, err := h.emu.Populate(region, 0, workers*instancesPerWorker)
	if err != nil {
		t.Fatal(err)
	}
	windows := map[string]bool{}
	windowsKey := map[string]string{}
	for _, in := range h.snapshot().Instances {
		if in.RegionID == region && in.OSType == "windows" {
			windows[in.InstanceID] = true
			windowsKey[in.InstanceID] = in.KeyPairName
		}
	}
	ws := make([]*worker, workers)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range ws {
		w := &worker{id: i, region: region, rng: rand.New(rand.NewPCG(seed, uint64(i))), state: map[string]keyState{},
			codes: map[string]int{}, bound: map[string]string{}, windows: windows, binds: map[string]int{},
			calls: map[string]int{}, transient: map[string]int{}, rebootBy: map[string]time.Time{}, lifecycle: map[string]int{}}
		for j := range 6 {
			// Names differ per region: the key files share one directory.
			w.names = append(w.names, fmt.Sprintf("fault-%s-w%d-k%d", region, i, j))
		}
		w.insts = ids[i*instancesPerWorker : (i+1)*instancesPerWorker]
		for _, id := range w.insts {
			w.bound[id] = ""
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

	// Every reboot the results left under way ends: then every instance is
	// Running, whatever the results said of its reboots.
	var settled time.Time
	for _, w := range ws {
		for _, by := range w.rebootBy {
			if by.After(settled) {
				settled = by
			}
		}
	}
	time.Sleep(time.Until(settled.Add(rebootSlack)))

	// The cloud holds exactly what the results reported.
	snap := h.snapshot()
	held := map[string]int{}
	for _, kp := range snap.KeyPairs {
		if kp.RegionID == region && strings.HasPrefix(kp.KeyPairName, "fault-") {
			held[kp.KeyPairName]++
		}
	}
	carries, status := map[string]string{}, map[string]string{}
	for _, in := range snap.Instances {
		carries[in.InstanceID] = in.KeyPairName
		status[in.InstanceID] = in.Status
	}
	codes, binds, perTool, transient, lifecycle := map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	known, open := 0, 0
	for _, w := range ws {
		for code, n := range w.codes {
			codes[code] += n
		}
		for k, n := range w.binds {
			binds[k] += n
		}
		for k, n := range w.calls {
			perTool[k] += n
		}
		for k, n := range w.transient {
			transient[k] += n
		}
		for k, n := range w.lifecycle {
			lifecycle[k] += n
		}
		for _, name := range w.names {
			n := held[name]
			if n > 1 {
				t.Errorf("%s: %d key pairs under one name", name, n)
			}
			pem := filepath.Join(h.keyDir, name+"."+region+".pem")
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
		for _, id := range w.insts {
			got, ok := carries[id]
			switch want := w.bound[id]; {
			case !ok:
				t.Errorf("%s: the instance is gone", id)
			case want == unknownKey:
				open++
			case got != want:
				t.Errorf("%s: carries key pair %q, but the results said %q", id, got, want)
			default:
				known++
			}
			if got != "" && !slices.Contains(w.names, got) {
				t.Errorf("%s: carries key pair %q, not one of worker %d's", id, got, w.id)
			}
			if got != "" && held[got] == 0 {
				t.Errorf("%s: carries key pair %q, which does not exist", id, got)
			}
			if ok && status[id] != "Running" {
				t.Errorf("%s: %s, after every reboot should have ended", id, status[id])
			}
		}
	}
	for id, want := range windowsKey {
		if carries[id] != want {
			t.Errorf("Windows instance %s: carries %q, had %q", id, carries[id], want)
		}
	}
	total := 0
	for _, n := range codes {
		total += n
	}
	t.Logf("%d calls in %s; outcomes:%s; requests held past the deadline: %d", total, elapsed.Round(time.Millisecond), tallies(codes), h.wire.heldCount())
	t.Logf("instance outcomes:%s; at the end %d instances as the results said, %d left open", tallies(binds), known, open)
	t.Logf("reboot and rotation outcomes:%s", tallies(lifecycle))
	deletes, carried := h.wire.takeDeletes()
	t.Logf("DeleteKeyPairs requests: %d, of which naming a key pair an instance carried: %d", deletes, len(carried))
	if len(carried) > 0 {
		t.Errorf("DeleteKeyPairs sent for key pairs instances carried: %v", carried)
	}
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(perTool)) {
		fmt.Fprintf(&b, " %s=%d/%d", k, transient[k], perTool[k])
		// Retries absorb nearly all of them: 5% would mean a tool that
		// does not retry.
		if perTool[k] >= 40 && transient[k]*20 > perTool[k] {
			t.Errorf("%s: %d of %d calls reported a transient error (%v) that retries should have absorbed", k, transient[k], perTool[k], slices.Sorted(maps.Keys(absorbable)))
		}
	}
	t.Logf("calls with a transient error in the result, per tool:%s", b.String())
	if strings.Contains(h.logs.String(), "PRIVATE KEY") {
		t.Error("a private key in the logs")
	}
	if codes["ok"] < total/2 {
		t.Errorf("only %d of %d calls succeeded", codes["ok"], total)
	}
	return total
}

// tallies formats counts as " key=n" in key order, for the log.
func tallies(counts map[string]int) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		fmt.Fprintf(&b, " %s=%d", k, counts[k])
	}
	return b.String()
}

// step makes one random call and records what its result says.
func (w *worker) step(t *testing.T, h *faultHarness, rsa, ecdsa string) {
	name := w.names[w.rng.IntN(len(w.names))]
	region := w.region
	var tool string
	var o outcome
	w.start = time.Now()
	switch p := w.rng.Float64(); {
	case p < 0.19:
		tool = "create_key_pair"
		o = h.callOnce(t, tool, map[string]any{"regionId": region, "keyPairName": name})
		w.afterCreate(t, h, name, o)
	case p < 0.28:
		body := rsa
		if w.rng.IntN(2) == 0 {
			body = ecdsa
		}
		tool = "import_key_pair"
		o = h.callOnce(t, tool, map[string]any{"regionId": region, "keyPairName": name, "publicKeyBody": body})
		w.afterImport(name, o)
	case p < 0.40:
		tool = "delete_key_pairs"
		o = h.callOnce(t, tool, map[string]any{"regionId": region, "keyPairNames": []string{name}, "confirm": true})
		w.afterDelete(t, h, name, o)
	case p < 0.53:
		tool, o = w.bind(t, h, true)
	case p < 0.64:
		tool, o = w.bind(t, h, false)
	case p < 0.75:
		tool = "describe_key_pairs"
		o = h.callOnce(t, tool, map[string]any{"regionId": region, "keyPairName": fmt.Sprintf("fault-%s-w%d-*", region, w.id)})
		w.afterDescribe(t, h, o)
	case p < 0.84:
		tool = "describe_instances"
		args := map[string]any{"regionId": region}
		if w.rng.IntN(2) == 0 {
			args["instanceIds"] = w.insts
		}
		o = h.callOnce(t, tool, args)
		w.afterDescribeInstances(t, o)
	case p < 0.92:
		tool, o = w.reboot(t, h)
	default:
		tool, o = w.rotate(t, h, rsa, ecdsa)
	}
	w.calls[tool]++
	if absorbable[o.code] {
		w.transient[tool]++
	}
	if o.code == "" {
		w.codes["ok"]++
	} else {
		w.codes[o.code]++
	}
}

// keyExists records that a result showed the key pair name to exist.
func (w *worker) keyExists(t *testing.T, name, how string) {
	switch w.state[name] {
	case absent:
		t.Errorf("%s: %s, but the results said it does not exist", name, how)
	case unknown:
		w.state[name] = present
	}
}

// keyAbsent records that a result showed the key pair name not to exist.
func (w *worker) keyAbsent(t *testing.T, h *faultHarness, name, how string) {
	switch st := w.state[name]; st {
	case absent:
	case unknown:
		w.state[name] = absent
		moveKeyFile(h, w.region, name)
	default:
		t.Errorf("%s: %s, but the results said it exists (state %d)", name, how, st)
	}
	for _, id := range w.insts {
		if w.bound[id] == name {
			t.Errorf("%s: %s, but the results said instance %s carries it", name, how, id)
		}
	}
}

// moveKeyFile moves a key file away once its key pair is gone. The tool
// never deletes private keys, and never overwrites one: the name can then
// be created again.
func moveKeyFile(h *faultHarness, region, name string) {
	pem := filepath.Join(h.keyDir, name+"."+region+".pem")
	_ = os.Rename(pem, pem+".old")
}

func (w *worker) afterCreate(t *testing.T, h *faultHarness, name string, o outcome) {
	pem := filepath.Join(h.keyDir, name+"."+w.region+".pem")
	switch o.code {
	case "":
		w.state[name] = withKey
	case "PrivateKeyFile.AlreadyExists":
		// A key file from an earlier create: nothing was sent.
	case "KeyPair.AlreadyExist":
		w.keyExists(t, name, "create said KeyPair.AlreadyExist")
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
	if o.code == "InvalidParameter.KeypairAlreadyAttachedInstance" {
		// The preview, which lists the instances, should have said bound
		// and sent nothing: no other call touches this worker's names.
		t.Errorf("delete %s: the cloud refused it as attached, but the preview did not see it attached: %s", name, o.text)
	}
	if o.code != "" {
		w.state[name] = unknown // batches may have run before the error
		return
	}
	var out schema.DeleteKeyPairsOutput
	if err := json.Unmarshal(o.structured, &out); err != nil || len(out.KeyPairs) != 1 || !out.Executed {
		t.Errorf("delete %s: %s", name, o.structured)
		return
	}
	switch r := out.KeyPairs[0]; r.Outcome {
	case "not_found":
		w.keyAbsent(t, h, name, "delete said not_found")
	case "deleted":
		w.keyExists(t, name, "delete deleted it")
		w.state[name] = absent
		w.keyAbsent(t, h, name, "delete deleted it")
		// Its key file stays: the tool never deletes private keys.
		moveKeyFile(h, w.region, name)
	case "bound":
		// Attached to instances: nothing was deleted.
		w.keyExists(t, name, "delete said bound")
		for _, id := range r.BoundInstances {
			switch {
			case !w.own(id):
				t.Errorf("delete %s: bound to %s, not one of worker %d's instances", name, id, w.id)
			case w.bound[id] == unknownKey:
				w.bound[id] = name
			case w.bound[id] != name:
				t.Errorf("delete %s: bound to %s, but the results said it carries %q", name, id, w.bound[id])
			}
		}
		for _, id := range w.insts {
			if w.bound[id] == name && !slices.Contains(r.BoundInstances, id) {
				t.Errorf("delete %s: bound to %v, but the results said %s carries it too", name, r.BoundInstances, id)
			}
		}
	default:
		w.state[name] = unknown
	}
}

// afterDescribe checks a listing against what earlier results said.
func (w *worker) afterDescribe(t *testing.T, h *faultHarness, o outcome) {
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
		if listed[name] {
			w.keyExists(t, name, "describe_key_pairs listed it")
		} else {
			w.keyAbsent(t, h, name, "describe_key_pairs did not list it")
		}
	}
}

// afterDescribeInstances checks the worker's instances in a listing
// against what earlier results said, and settles those left open.
func (w *worker) afterDescribeInstances(t *testing.T, o outcome) {
	if o.code != "" {
		return
	}
	var out schema.DescribeInstancesOutput
	if err := json.Unmarshal(o.structured, &out); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, in := range out.Instances {
		if !w.own(in.InstanceID) {
			continue
		}
		seen[in.InstanceID] = true
		w.observe(t, in.InstanceID, in.Status, "describe_instances")
		switch want := w.bound[in.InstanceID]; {
		case want == unknownKey:
			w.bound[in.InstanceID] = in.KeyPairName
		case want != in.KeyPairName:
			t.Errorf("describe_instances: %s carries %q, but the results said %q", in.InstanceID, in.KeyPairName, want)
		}
		if in.KeyPairName != "" {
			w.keyExists(t, in.KeyPairName, "describe_instances showed it on "+in.InstanceID)
		}
	}
	for _, id := range w.insts {
		if !seen[id] {
			t.Errorf("describe_instances: %s not listed", id)
		}
	}
}

// bind makes one attach_key_pair (attach) or detach_key_pair call, with
// confirm, on some of the worker's instances, and records what its result
// says. It returns the tool's name and the outcome.
func (w *worker) bind(t *testing.T, h *faultHarness, attach bool) (string, outcome) {
	tool, verb := "detach_key_pair", "detach"
	if attach {
		tool, verb = "attach_key_pair", "attach"
	}
	// Mostly a key pair that exists (attach) or is attached (detach), as far
	// as the results said; else any.
	var likely []string
	for _, name := range w.names {
		if attach && w.state[name] != absent || !attach && slices.Contains(slices.Collect(maps.Values(w.bound)), name) {
			likely = append(likely, name)
		}
	}
	name := w.names[w.rng.IntN(len(w.names))]
	if len(likely) > 0 && w.rng.IntN(5) > 0 {
		name = likely[w.rng.IntN(len(likely))]
	}
	var targets []string
	for _, id := range w.insts {
		if w.rng.IntN(2) == 0 || !attach && w.bound[id] == name {
			targets = append(targets, id)
		}
	}
	if len(targets) == 0 {
		targets = append(targets, w.insts[w.rng.IntN(len(w.insts))])
	}
	if w.rng.IntN(10) == 0 {
		targets = append(targets, fmt.Sprintf("i-nosuch%d", w.id))
	}
	if windows := slices.Sorted(maps.Keys(w.windows)); len(windows) > 0 && w.rng.IntN(10) == 0 {
		targets = append(targets, windows[w.rng.IntN(len(windows))])
	}
	w.rng.Shuffle(len(targets), func(i, j int) { targets[i], targets[j] = targets[j], targets[i] })
	o := h.callOnce(t, tool, map[string]any{"regionId": w.region, "keyPairName": name, "instanceIds": targets, "confirm": true})

	if o.code != "" {
		if o.code == "InvalidKeyPairName.NotFound" {
			// Checked before anything was sent.
			w.keyAbsent(t, h, name, verb+" said InvalidKeyPairName.NotFound")
			return tool, o
		}
		// The change may have run, or not. A detach leaves another key
		// pair in place.
		for _, id := range targets {
			if w.own(id) && (attach && w.bound[id] != name || !attach && (w.bound[id] == name || w.bound[id] == unknownKey)) {
				w.bound[id] = unknownKey
			}
		}
		return tool, o
	}
	var out schema.BindKeyPairOutput
	if err := json.Unmarshal(o.structured, &out); err != nil || len(out.Instances) != len(targets) || !out.Executed || out.KeyPairName != name {
		t.Errorf("%s %s %v: %s", verb, name, targets, o.structured)
		return tool, o
	}
	w.keyExists(t, name, verb+" found it")
	done := map[bool]string{true: "attached", false: "detached"}[attach]
	var changed []string
	sentTransient := false
	for i, r := range out.Instances {
		id := targets[i]
		key := verb + ":" + r.Outcome
		if r.Outcome == "failed" {
			key += ":" + r.Code
			if strings.HasPrefix(r.Message, "not sent: ") {
				key += ":not_sent"
			}
		}
		w.binds[key]++
		if r.InstanceID != id {
			t.Errorf("%s %s: instances[%d] is %s, want %s", verb, name, i, r.InstanceID, id)
			continue
		}
		switch {
		case w.windows[id]:
			if r.Outcome != "failed" || r.Code != "DependencyViolation.WindowsInstance" {
				t.Errorf("%s %s: Windows instance %s: outcome %s %s", verb, name, id, r.Outcome, r.Code)
			}
		case !w.own(id):
			if r.Outcome != "not_found" {
				t.Errorf("%s %s: no such instance %s: outcome %s", verb, name, id, r.Outcome)
			}
		default:
			w.observe(t, id, r.Status, verb+"'s preview")
			prev := w.bound[id]
			if prev != unknownKey && r.CurrentKeyPairName != prev {
				t.Errorf("%s %s: %s carried %q, as the results said, but the preview saw %q", verb, name, id, prev, r.CurrentKeyPairName)
			}
			switch r.Outcome {
			case done:
				changed = append(changed, id)
				if attach {
					w.bound[id] = name
				} else {
					if r.CurrentKeyPairName != name {
						t.Errorf("detach %s: detached from %s, which carried %q", name, id, r.CurrentKeyPairName)
					}
					w.bound[id] = ""
				}
			case "unchanged":
				if attach != (r.CurrentKeyPairName == name) {
					t.Errorf("%s %s: %s unchanged, though it carries %q", verb, name, id, r.CurrentKeyPairName)
				}
				w.bound[id] = r.CurrentKeyPairName
			case "failed":
				if strings.HasPrefix(r.Message, "not sent: ") {
					// The preview saw it rebooting: nothing was sent, and
					// it carries what the preview saw.
					if r.Code != "IncorrectInstanceStatus" {
						t.Errorf("%s %s: %s not sent, code %s: %s", verb, name, id, r.Code, r.Message)
					}
					w.bound[id] = r.CurrentKeyPairName
					break
				}
				// Sent, and failed as the results say; whether the change
				// ran is open (an answer lost after it ran, then retries).
				w.bound[id] = unknownKey
				if absorbable[r.Code] {
					sentTransient = true
				}
			default:
				t.Errorf("%s %s: %s: outcome %q %s", verb, name, id, r.Outcome, r.Code)
			}
		}
	}
	if sentTransient {
		w.transient[tool]++
	}
	// All the worker's instances run: each change needs a reboot.
	if !slices.Equal(out.RebootRequired, changed) || len(out.TakesEffectOnStart) != 0 {
		t.Errorf("%s %s: rebootRequired %v, takesEffectOnStart %v; %s: %v", verb, name, out.RebootRequired, out.TakesEffectOnStart, done, changed)
	}
	return tool, o
}
