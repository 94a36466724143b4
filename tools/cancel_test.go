package tools_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud/emulator"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/tools"
)

// wireRequest is one HTTP request the emulator was sent.
type wireRequest struct {
	action   string
	arrived  time.Time
	finished time.Time
	// aborted: the client went away (its request context ended) before
	// the answer was written.
	aborted bool
}

// recordingWire sits between the cloud client and the emulator and
// records every request. For the actions told to hold, it lets the
// emulator apply the request at once but keeps the answer back for the
// hold time, or until the client goes away: the answer is lost, the change
// is made.
type recordingWire struct {
	next http.Handler

	mu      sync.Mutex
	reqs    []*wireRequest
	holds   map[string]time.Duration
	arrived chan string // an action, once its request is being held or slowed
}

func newRecordingWire(next http.Handler) *recordingWire {
	return &recordingWire{next: next, holds: map[string]time.Duration{}, arrived: make(chan string, 1000)}
}

func (w *recordingWire) holdAnswers(action string, d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.holds[action] = d
}

func (w *recordingWire) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm() // the emulator's own ParseForm then finds the form parsed
	req := &wireRequest{action: r.Form.Get("Action"), arrived: time.Now()}
	w.mu.Lock()
	w.reqs = append(w.reqs, req)
	hold := w.holds[req.action]
	w.mu.Unlock()
	if hold > 0 {
		rec := httptest.NewRecorder()
		w.next.ServeHTTP(rec, r.WithContext(context.WithoutCancel(r.Context())))
		w.arrived <- req.action
		select {
		case <-time.After(hold):
			for k, v := range rec.Header() {
				rw.Header()[k] = v
			}
			rw.WriteHeader(rec.Code)
			rw.Write(rec.Body.Bytes())
		case <-r.Context().Done():
		}
	} else {
		w.arrived <- req.action
		w.next.ServeHTTP(rw, r)
	}
	// The server ends the request's context only after the handler
	// returns: ended now means the client went away.
	aborted := r.Context().Err() != nil
	w.mu.Lock()
	req.finished, req.aborted = time.Now(), aborted
	w.mu.Unlock()
}

// waitFor waits until n requests of action have reached the emulator.
func (w *recordingWire) waitFor(t *testing.T, action string, n int) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for n > 0 {
		select {
		case a := <-w.arrived:
			if a == action {
				n--
			}
		case <-timeout:
			t.Fatalf("%d more %s requests never reached the emulator", n, action)
		}
	}
}

// requests returns copies of the requests of action, in arrival order,
// once the emulator has finished with each (or within has passed).
func (w *recordingWire) requests(action string, within time.Duration) []wireRequest {
	deadline := time.Now().Add(within)
	for {
		w.mu.Lock()
		var out []wireRequest
		finished := true
		for _, r := range w.reqs {
			if r.action == action {
				out = append(out, *r)
				finished = finished && !r.finished.IsZero()
			}
		}
		w.mu.Unlock()
		if finished || time.Now().After(deadline) {
			return out
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// handlerCall is what one tool handler run saw: when it started, when its
// context ended, when it returned, and what it returned.
type handlerCall struct {
	started, ctxDone, returned time.Time
	res                        *mcp.CallToolResult
}

// text is the text of the result the handler returned, and whether it is
// an error.
func (c handlerCall) text() (string, bool) {
	if c.res == nil || len(c.res.Content) == 0 {
		return "", false
	}
	tc, _ := c.res.Content[0].(mcp.TextContent)
	return tc.Text, c.res.IsError
}

// handlerLog wraps tool handlers to time them.
type handlerLog struct {
	mu    sync.Mutex
	calls map[string][]*handlerCall
}

func (l *handlerLog) wrap(name string, next server.ToolHandlerFunc) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		c := &handlerCall{started: time.Now()}
		l.mu.Lock()
		l.calls[name] = append(l.calls[name], c)
		l.mu.Unlock()
		stop := context.AfterFunc(ctx, func() {
			l.mu.Lock()
			c.ctxDone = time.Now()
			l.mu.Unlock()
		})
		defer stop()
		res, err := next(ctx, req)
		l.mu.Lock()
		c.returned, c.res = time.Now(), res
		l.mu.Unlock()
		return res, err
	}
}

// returnedCall waits for the latest run of the tool to return, and
// returns its times.
func (l *handlerLog) returnedCall(t *testing.T, name string, within time.Duration) handlerCall {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		l.mu.Lock()
		var c handlerCall
		if calls := l.calls[name]; len(calls) > 0 {
			c = *calls[len(calls)-1]
		}
		l.mu.Unlock()
		if !c.returned.IsZero() {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: the handler did not return within %s", name, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// streamLog is one direction of the stdio stream: it passes every line
// on and keeps a copy of each message, in the order written.
type streamLog struct {
	mu    sync.Mutex
	w     io.WriteCloser
	buf   []byte
	lines []map[string]any
}

func (s *streamLog) Close() error { return s.w.Close() }

func (s *streamLog) Write(p []byte) (int, error) {
	s.mu.Lock()
	s.buf = append(s.buf, p...)
	for {
		i := bytes.IndexByte(s.buf, '\n')
		if i < 0 {
			break
		}
		var m map[string]any
		if err := json.Unmarshal(s.buf[:i], &m); err != nil {
			m = map[string]any{"unparsable": string(s.buf[:i])}
		}
		s.lines = append(s.lines, m)
		s.buf = s.buf[i+1:]
	}
	s.mu.Unlock()
	return s.w.Write(p)
}

func (s *streamLog) messages() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]map[string]any(nil), s.lines...)
}

// lockedWriter serialises writes (the logs of goroutines that may outlive
// a call).
type lockedWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// stdioHarness is the tools behind mcp-go's StdioServer, on pipes, with
// mcp-go's own stdio client in front: requests, notifications/cancelled
// and notifications/progress cross a real JSON-RPC stream, as with an MCP
// client that runs the server. Behind the tools, the emulator sits behind
// a recordingWire; write attempts go to an audit log unless it is built
// without. mcp-go's StdioServer keeps its session in a package variable:
// one stdioHarness at a time (no t.Parallel).
type stdioHarness struct {
	*harness
	wire      *recordingWire
	handlers  *handlerLog
	stream    *streamLog // what the server wrote
	sent      *streamLog // what the client wrote
	auditPath string
	logs      *lockedWriter
}

func newStdioHarness(t *testing.T) *stdioHarness {
	t.Helper()
	return newStdioHarnessWith(t, true)
}

// newStdioHarnessWith builds a stdioHarness, with or without the audit
// log (the default outside the sandbox is without).
func newStdioHarnessWith(t *testing.T, withAudit bool) *stdioHarness {
	t.Helper()
	emu := newEmulator(t, emulator.Options{})
	wire := newRecordingWire(emu)
	web := httptest.NewServer(wire)
	creds := emu.Credentials()
	logs := &lockedWriter{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := cloud.New(cloud.Config{
		Endpoint:    web.URL,
		Credentials: &cloud.StaticCredentials{AccessKeyID: creds.AccessKeyID, AccessKeySecret: creds.AccessKeySecret},
		Logger:      logger,
		Retry:       testRetry,
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	auditPath := ""
	var audit *tools.AuditLog
	if withAudit {
		auditPath = filepath.Join(dir, "audit.log")
		if audit, err = tools.OpenAuditLog(auditPath); err != nil {
			t.Fatal(err)
		}
	}
	h := &harness{t: t, emu: emu, srv: &emulator.Server{URL: web.URL, Host: strings.TrimPrefix(web.URL, "http://"), Credentials: creds},
		keyDir: filepath.Join(dir, "keys"), logs: &bytes.Buffer{}, seen: &strings.Builder{}}
	handlers := &handlerLog{calls: map[string][]*handlerCall{}}
	s := server.NewMCPServer("test", "0", server.WithToolCapabilities(false), server.WithRecovery())
	for _, tool := range tools.All(tools.Deps{Cloud: c, PrivateKeyDir: h.keyDir, Logger: logger, Audit: audit}) {
		s.AddTool(tool.Definition, handlers.wrap(tool.Definition.Name, tool.Handler))
	}

	toServerR, toServerW := io.Pipe()
	toClientR, toClientW := io.Pipe()
	stream := &streamLog{w: toClientW}
	stdio := server.NewStdioServer(s)
	stdio.SetErrorLogger(log.New(logs, "stdio: ", 0))
	stdio.SetContextFunc(func(ctx context.Context) context.Context { return tools.WithCallTimeout(ctx, 30*time.Second) })
	listening := make(chan error, 1)
	go func() {
		listening <- stdio.Listen(context.Background(), toServerR, stream)
		toClientW.Close()
	}()
	sent := &streamLog{w: toServerW}
	h.client = client.NewClient(transport.NewIO(toClientR, sent, io.NopCloser(strings.NewReader(""))))
	initialize(t, h.client)
	t.Cleanup(func() {
		h.client.Close() // the server's stdin ends
		select {
		case err := <-listening:
			if err != nil {
				t.Errorf("stdio server: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("the stdio server did not stop at the end of its input")
		}
		web.CloseClientConnections()
		web.Close()
		emu.Close()
		if audit != nil {
			audit.Close()
		}
		h.logs.WriteString(logs.String())
		h.sweepSecrets()
	})
	return &stdioHarness{harness: h, wire: wire, handlers: handlers, stream: stream, sent: sent, auditPath: auditPath, logs: logs}
}

// start runs a tool call in the background, under ctx.
func (h *stdioHarness) start(ctx context.Context, name string, args map[string]any) <-chan error {
	req := mcp.CallToolRequest{}
	req.Params.Name, req.Params.Arguments = name, args
	done := make(chan error, 1)
	go func() {
		res, err := h.client.CallTool(ctx, req)
		if err == nil {
			h.recordSeen(res)
		}
		done <- err
	}()
	return done
}

// recordSeen adds a result to what the model saw, for the secret sweep.
// It runs before the call's done channel is sent on, so it never races
// with the test's own calls.
func (h *stdioHarness) recordSeen(res *mcp.CallToolResult) {
	for _, c := range res.Content {
		if tc, ok := c.(mcp.TextContent); ok {
			h.seen.WriteString(tc.Text)
		}
	}
}

// cancelledCall checks that the client told the server, with
// notifications/cancelled, that it gave up on its tools/call of name.
func (h *stdioHarness) cancelledCall(t *testing.T, name string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		var id any
		for _, m := range h.sent.messages() {
			params, _ := m["params"].(map[string]any)
			switch {
			case m["method"] == "tools/call" && params["name"] == name:
				id = m["id"]
			case m["method"] == "notifications/cancelled" && id != nil && params["requestId"] == id:
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the client sent no notifications/cancelled for its %s call (id %v)", name, id)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A tool call cancelled by the client (mcp-go's client sends
// notifications/cancelled when the call's context ends, over stdio) stops
// on the server at once: the handler ends, and the HTTP request to the
// cloud, which would have taken 3 s, is aborted. The session goes on.
func TestCancelStopsTheCall(t *testing.T) {
	const latency = 3 * time.Second
	const region = "eu-central-1"
	for _, tc := range []struct {
		name string
		tool string
		args map[string]any
		// slow is the action held up; requests is how many of it are in
		// flight when the call is cancelled.
		slow     string
		requests int
	}{
		{"describe_regions", "describe_regions", map[string]any{}, "DescribeRegions", 1},
		{"describe_key_pairs, page 1", "describe_key_pairs", map[string]any{"regionId": region}, "DescribeKeyPairs", 1},
		{"describe_instances", "describe_instances", map[string]any{"regionId": "cn-hangzhou"}, "DescribeInstances", 1},
		{"delete_key_pairs, 3 batches", "delete_key_pairs",
			map[string]any{"regionId": region, "keyPairNames": bulkNames(250), "confirm": true}, "DeleteKeyPairs", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newStdioHarness(t)
			if _, _, err := h.emu.Populate(region, 300, 0); err != nil {
				t.Fatal(err)
			}
			h.emu.SetFaults(emulator.FaultPlan{PerAction: map[string]emulator.Faults{tc.slow: {Latency: latency}}})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := h.start(ctx, tc.tool, tc.args)
			h.wire.waitFor(t, tc.slow, tc.requests)

			cancelled := time.Now()
			cancel()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("CallTool after cancel: %v, want context.Canceled", err)
				}
			case <-time.After(time.Second):
				t.Fatal("CallTool did not return after its context was cancelled")
			}
			h.cancelledCall(t, tc.tool)
			call := h.handlers.returnedCall(t, tc.tool, 2*latency)
			if call.ctxDone.IsZero() || call.ctxDone.Sub(cancelled) > time.Second {
				t.Errorf("the handler's context ended %s after the cancel (zero: never), want under 1s", since(call.ctxDone, cancelled))
			}
			if d := call.returned.Sub(cancelled); d > time.Second {
				t.Errorf("the handler returned %s after the cancel, want under 1s", d)
			}
			reqs := h.wire.requests(tc.slow, 2*latency)
			if len(reqs) != tc.requests {
				t.Errorf("%d %s requests, want %d", len(reqs), tc.slow, tc.requests)
			}
			for i, r := range reqs {
				if !r.aborted || r.finished.Sub(cancelled) > time.Second {
					t.Errorf("%s request %d: aborted %v, ended %s after the cancel; want aborted within 1s",
						tc.slow, i, r.aborted, since(r.finished, cancelled))
				}
			}
			// What the handler returned goes nowhere (the transport holds
			// back the response to a cancelled request: stdio_test.go), but
			// it must not claim success.
			if text, isError := call.text(); !isError || !strings.HasPrefix(text, "RequestCanceled: ") {
				t.Errorf("the handler returned isError %v, %q", isError, text)
			}
			if tc.tool == "delete_key_pairs" {
				if n := len(h.snapshot().KeyPairs); n != 300 {
					t.Errorf("%d key pairs left of 300, though every delete was aborted before the emulator ran it", n)
				}
			}

			// The session goes on.
			h.emu.SetFaults(emulator.FaultPlan{})
			out, _ := ok[schema.DescribeRegionsOutput](h.harness, "describe_regions", map[string]any{})
			if len(out.Regions) == 0 {
				t.Error("no regions after the cancel")
			}
		})
	}
}

// A create cancelled while its CreateKeyPair request is in flight leaves
// no empty .pem behind. Either the cloud never ran it (no key pair), or it
// did and the answer, the private key, is lost: the key pair exists, and
// the result (which the client may never read, having cancelled) and the
// audit log say it exists without its private key.
func TestCancelledCreateKeyPair(t *testing.T) {
	const latency = 3 * time.Second
	for _, tc := range []struct {
		name string
		// applied: the cloud applies the request at once and only its
		// answer is held up; else the request itself is held up.
		applied    bool
		wantExists bool
		wantCode   string
		wantText   []string
	}{
		{"before the cloud ran it", false, false, cloud.CodeRequestCanceled,
			[]string{`key pair "cut" does not exist, so nothing was changed`}},
		{"after the cloud ran it", true, true, cloud.CodeCreatedWithoutPrivateKey,
			[]string{`key pair "cut" WAS CREATED`, "No private key was saved"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newStdioHarness(t)
			if tc.applied {
				h.wire.holdAnswers("CreateKeyPair", latency)
			} else {
				h.emu.SetFaults(emulator.FaultPlan{PerAction: map[string]emulator.Faults{"CreateKeyPair": {Latency: latency}}})
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := h.start(ctx, "create_key_pair", map[string]any{"regionId": "cn-hangzhou", "keyPairName": "cut"})
			h.wire.waitFor(t, "CreateKeyPair", 1)
			// The key file is reserved before the request goes out.
			if _, err := os.Lstat(filepath.Join(h.keyDir, "cut.cn-hangzhou.pem")); err != nil {
				t.Fatalf("no reserved key file while the request is in flight: %v", err)
			}

			cancelled := time.Now()
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Errorf("CallTool after cancel: %v", err)
			}
			h.cancelledCall(t, "create_key_pair")
			// The handler looks the name up after the lost answer (after
			// the retry policy's settle time): it ends well before the
			// request would have.
			call := h.handlers.returnedCall(t, "create_key_pair", 4*latency)
			if call.ctxDone.IsZero() || call.ctxDone.Sub(cancelled) > time.Second {
				t.Errorf("the handler's context ended %s after the cancel, want under 1s", since(call.ctxDone, cancelled))
			}
			if d := call.returned.Sub(cancelled); d > latency {
				t.Errorf("the handler returned %s after the cancel, want under %s", d, latency)
			}
			reqs := h.wire.requests("CreateKeyPair", 2*latency)
			if len(reqs) != 1 || !reqs[0].aborted || reqs[0].finished.Sub(cancelled) > time.Second {
				t.Errorf("%d CreateKeyPair requests; want one, aborted within 1s of the cancel", len(reqs))
				for _, r := range reqs {
					t.Logf("  aborted %v, ended %s after the cancel", r.aborted, since(r.finished, cancelled))
				}
			}

			entries, err := os.ReadDir(h.keyDir)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				t.Errorf("left in the private key directory: %s", e.Name())
			}
			exists := false
			for _, k := range h.snapshot().KeyPairs {
				exists = exists || k.KeyPairName == "cut"
			}
			if exists != tc.wantExists {
				t.Errorf("key pair exists: %v, want %v", exists, tc.wantExists)
			}
			// The intent went out before the request; the outcome says what
			// exists now: a key pair created without its private key is
			// executed.
			audit := readAudit(t, h.auditPath)
			if len(audit) != 2 || audit[0].Event != "intent" || audit[1].Event != "outcome" || audit[1].Tool != "create_key_pair" ||
				audit[1].Error != tc.wantCode || audit[1].Executed != tc.wantExists {
				t.Errorf("audit log %+v, want a create_key_pair intent and an outcome with error %s, executed %v", audit, tc.wantCode, tc.wantExists)
			}
			// The client no longer reads the result; the audit log and the
			// handler's result say what became of the create.
			text, isError := call.text()
			h.seen.WriteString(text)
			if !isError || !strings.HasPrefix(text, tc.wantCode+": ") {
				t.Errorf("the handler returned isError %v, %q, want %s", isError, text, tc.wantCode)
			}
			for _, want := range tc.wantText {
				if !strings.Contains(text, want) {
					t.Errorf("the handler's result %q does not say %q", text, want)
				}
			}
		})
	}
}

// Outside the sandbox there is no audit log unless --audit-log is given.
// A create cancelled after the cloud ran it then leaves a key pair whose
// private key is lost, and the result saying so goes to a client that has
// stopped listening: the server's log is the only place left to say it.
func TestCancelledCreateIsLoggedWithoutAuditLog(t *testing.T) {
	h := newStdioHarnessWith(t, false)
	h.wire.holdAnswers("CreateKeyPair", 3*time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := h.start(ctx, "create_key_pair", map[string]any{"regionId": "cn-hangzhou", "keyPairName": "cut"})
	h.wire.waitFor(t, "CreateKeyPair", 1)
	cancel()
	<-done
	h.handlers.returnedCall(t, "create_key_pair", 10*time.Second)
	if len(h.snapshot().KeyPairs) != 1 {
		t.Fatal("the create was not applied; the test holds only its answer back")
	}
	logged := false
	for _, line := range strings.Split(h.logs.String(), "\n") {
		if (strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR")) && strings.Contains(line, "cut") {
			logged = true
		}
	}
	if !logged {
		t.Errorf("key pair \"cut\" was created without its private key and the client cancelled; "+
			"nothing at warn or error level says so. The log:\n%s", h.logs.String())
	}
}

// Once the client has cancelled a call, its progress token is spent (MCP:
// progress notifications only for an active request), and a batch that
// the cancel aborted is not "done".
func TestNoProgressAfterCancel(t *testing.T) {
	const region = "eu-central-1"
	h := newStdioHarness(t)
	if _, _, err := h.emu.Populate(region, 300, 0); err != nil {
		t.Fatal(err)
	}
	h.emu.SetFaults(emulator.FaultPlan{PerAction: map[string]emulator.Faults{"DeleteKeyPairs": {Latency: 3 * time.Second}}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req := mcp.CallToolRequest{}
	req.Params.Name = "delete_key_pairs"
	req.Params.Arguments = map[string]any{"regionId": region, "keyPairNames": bulkNames(250), "confirm": true}
	req.Params.Meta = &mcp.Meta{ProgressToken: "c1"}
	go h.client.CallTool(ctx, req)
	h.wire.waitFor(t, "DeleteKeyPairs", 3)
	cancel()
	h.handlers.returnedCall(t, "delete_key_pairs", 5*time.Second)
	time.Sleep(300 * time.Millisecond) // notifications are written from a goroutine of their own
	if n := len(h.snapshot().KeyPairs); n != 300 {
		t.Fatalf("%d key pairs left of 300: the deletes were not all aborted", n)
	}
	for _, m := range h.stream.messages() {
		params, _ := m["params"].(map[string]any)
		if msg, _ := params["message"].(string); m["method"] == "notifications/progress" && strings.HasPrefix(msg, "DeleteKeyPairs") {
			t.Errorf("after the cancel: progress %v %q", params["progress"], msg)
		}
	}
}

func since(t, ref time.Time) any {
	if t.IsZero() {
		return "never"
	}
	return t.Sub(ref)
}
