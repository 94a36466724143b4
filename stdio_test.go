package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud/emulator"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/tools"
)

// stdioSession is serveStdio on pipes, with a "slow" tool that takes
// 300 ms, or until its context ends.
type stdioSession struct {
	t      *testing.T
	in     *io.PipeWriter
	out    chan map[string]any
	done   chan error
	cancel context.CancelFunc // the signal
	// slowStarted receives once per call of the slow tool, as it starts.
	slowStarted chan struct{}
}

func startStdio(t *testing.T, cfg stdioConfig) *stdioSession {
	t.Helper()
	s := server.NewMCPServer("test", "0", server.WithToolCapabilities(false))
	started := make(chan struct{}, 100)
	s.AddTool(mcp.NewTool("slow"), func(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		select {
		case started <- struct{}{}:
		default: // nobody counts this session's starts
		}
		select {
		case <-time.After(300 * time.Millisecond):
			return mcp.NewToolResultText("slept"), nil
		case <-ctx.Done():
			return mcp.NewToolResultError("cancelled"), nil
		}
	})
	ss := startStdioWith(t, s, cfg)
	ss.slowStarted = started
	return ss
}

// slowRunning waits until n calls of the slow tool have started.
func (ss *stdioSession) slowRunning(n int) {
	ss.t.Helper()
	for range n {
		select {
		case <-ss.slowStarted:
		case <-time.After(5 * time.Second):
			ss.t.Fatal("the slow tool did not start")
		}
	}
}

// startStdioWith serves s with serveStdio on pipes, initialized.
func startStdioWith(t *testing.T, s *server.MCPServer, cfg stdioConfig) *stdioSession {
	t.Helper()
	return startStdioWithCaps(t, s, cfg, `{}`)
}

// startStdioWithCaps is startStdioWith for a client with these
// capabilities (JSON).
func startStdioWithCaps(t *testing.T, s *server.MCPServer, cfg stdioConfig, caps string) *stdioSession {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	ss := &stdioSession{t: t, in: inW, out: make(chan map[string]any, 100), done: make(chan error, 1), cancel: cancel}
	go func() {
		ss.done <- serveStdio(ctx, s, inR, outW, cfg)
		outW.Close()
	}()
	go func() {
		defer close(ss.out)
		sc := bufio.NewScanner(outR)
		sc.Buffer(nil, 4<<20)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Errorf("stdout line is not JSON: %q", sc.Text())
				continue
			}
			ss.out <- m
		}
		if err := sc.Err(); err != nil && !errors.Is(err, io.ErrClosedPipe) { // closed: the test is over
			t.Errorf("reading stdout: %v", err)
		}
	}()
	t.Cleanup(func() {
		cancel()
		inW.Close()
		outR.Close()
	})
	ss.send(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":` + caps + `,"clientInfo":{"name":"t","version":"0"}}}`)
	ss.next()
	ss.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	return ss
}

func (ss *stdioSession) send(line string) {
	ss.t.Helper()
	if _, err := io.WriteString(ss.in, line+"\n"); err != nil {
		ss.t.Fatal(err)
	}
}

func (ss *stdioSession) callSlow(id int) {
	ss.send(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"slow","arguments":{}}}`, id))
}

// next returns the next message written, or fails after 5 s.
func (ss *stdioSession) next() map[string]any {
	ss.t.Helper()
	select {
	case m, ok := <-ss.out:
		if !ok {
			select {
			case err := <-ss.done:
				ss.t.Fatalf("stdout closed: serveStdio returned %v", err)
			case <-time.After(time.Second):
				ss.t.Fatal("stdout closed")
			}
		}
		return m
	case <-time.After(5 * time.Second):
		ss.t.Fatal("no message within 5 s")
	}
	return nil
}

// rest returns every message written until serveStdio returns, and its
// error.
func (ss *stdioSession) rest() ([]map[string]any, error) {
	ss.t.Helper()
	var got []map[string]any
	for m := range ss.out {
		got = append(got, m)
	}
	select {
	case err := <-ss.done:
		return got, err
	case <-time.After(5 * time.Second):
		ss.t.Fatal("serveStdio did not return")
	}
	return nil, nil
}

func errorCodeOf(m map[string]any) int {
	e, _ := m["error"].(map[string]any)
	code, _ := e["code"].(float64)
	return int(code)
}

// Bad input gets a JSON-RPC error, and the session goes on.
func TestStdioBadInput(t *testing.T) {
	ss := startStdio(t, stdioConfig{maxMessage: 64 << 10})
	big := strings.Repeat("x", 100<<10)
	for _, tc := range []struct {
		name string
		line string
		id   any // float64, or nil for null
		code int
	}{
		{"malformed JSON", `{"jsonrpc":"2.0","id":1,"method":`, nil, mcp.PARSE_ERROR},
		{"not JSON at all", `hello`, nil, mcp.PARSE_ERROR},
		{"unknown method", `{"jsonrpc":"2.0","id":2,"method":"no/such/method"}`, 2.0, mcp.METHOD_NOT_FOUND},
		{"unknown tool", `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"nope","arguments":{}}}`, 3.0, mcp.INVALID_PARAMS},
		{"oversized, id first", `{"jsonrpc":"2.0","id":4,"method":"ping","params":{"x":"` + big + `"}}`, 4.0, mcp.INVALID_REQUEST},
		{"oversized, id last", `{"method":"ping","params":{"x":"` + big + `"},"jsonrpc":"2.0","id":5}`, 5.0, mcp.INVALID_REQUEST},
		{"oversized, no id", big, nil, mcp.INVALID_REQUEST},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ss.t = t
			ss.send(tc.line)
			m := ss.next()
			if m["id"] != tc.id || errorCodeOf(m) != tc.code {
				t.Errorf("got %v, want id %v and error %d", m, tc.id, tc.code)
			}
			ss.send(`{"jsonrpc":"2.0","id":"after","method":"ping"}`)
			if m := ss.next(); m["id"] != "after" || m["result"] == nil {
				t.Errorf("the session did not go on: %v", m)
			}
		})
	}
}

// At the end of stdin, the calls in flight finish and every response is
// written before serveStdio returns.
func TestStdioEOFAnswersCallsInFlight(t *testing.T) {
	ss := startStdio(t, stdioConfig{})
	const calls = 12 // more than mcp-go's five workers: some wait in its queue
	for id := 1; id <= calls; id++ {
		ss.callSlow(id)
	}
	// A last line without a newline is a message too.
	if _, err := io.WriteString(ss.in, `{"jsonrpc":"2.0","id":99,"method":"ping"}`); err != nil {
		t.Fatal(err)
	}
	ss.in.Close()
	got, err := ss.rest()
	if err != nil {
		t.Fatalf("serveStdio: %v", err)
	}
	answered := map[float64]bool{}
	for _, m := range got {
		id, _ := m["id"].(float64)
		res, _ := m["result"].(map[string]any)
		if id != 99 && (res == nil || res["isError"] == true) {
			t.Errorf("call %v: %v", id, m)
		}
		answered[id] = true
	}
	if len(answered) != calls+1 {
		t.Errorf("%d of %d requests answered: %v", len(answered), calls+1, answered)
	}
}

// A signal stops the reading; the calls in flight still finish.
func TestStdioSignalDrains(t *testing.T) {
	ss := startStdio(t, stdioConfig{})
	ss.callSlow(1)
	ss.callSlow(2)
	ss.slowRunning(2)
	start := time.Now()
	ss.cancel()
	got, err := ss.rest()
	if err != nil {
		t.Fatalf("serveStdio: %v", err)
	}
	if len(got) != 2 || errorCodeOf(got[0]) != 0 || errorCodeOf(got[1]) != 0 {
		t.Errorf("responses: %v", got)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("drained in %s", d)
	}
}

// Calls that outlast the drain time are cancelled, and answered.
func TestStdioDrainTimeout(t *testing.T) {
	ss := startStdio(t, stdioConfig{drain: 50 * time.Millisecond})
	ss.callSlow(1)
	ss.slowRunning(1)
	ss.in.Close()
	got, err := ss.rest()
	if err != nil && err != context.Canceled {
		t.Fatalf("serveStdio: %v", err)
	}
	if len(got) != 1 {
		t.Fatalf("responses: %v", got)
	}
	if res, _ := got[0]["result"].(map[string]any); res["isError"] != true {
		t.Errorf("want the cancelled result, got %v", got[0])
	}
}

func TestLongLineID(t *testing.T) {
	for _, tc := range []struct {
		head, tail string
		want       string
	}{
		{`{"jsonrpc":"2.0","id":7,"method":"x","params":{"a":"aaa`, `aaa"}}`, `7`},
		{`{"id":"abc","params":{"a":"aaa`, `aaa"}}`, `"abc"`},
		{`{"method":"x","params":{"a":"aaa`, `aaa"},"jsonrpc":"2.0","id":-3}` + "\n", `-3`},
		{`{"method":"x","params":{"a":"aaa`, `aa","id":4}}`, `null`}, // an id inside the params
		{`[1,2,3`, `3]`, `null`},
		{`{"id":{"x":1},"params":"`, `"}`, `null`},
	} {
		l := &longLine{head: []byte(tc.head), tail: []byte(tc.tail)}
		if got := string(l.id()); got != tc.want {
			t.Errorf("id(%q ... %q) = %s, want %s", tc.head, tc.tail, got, tc.want)
		}
	}
}

// emulatedCloud is an emulator of the sandbox's world (with fast keys) on
// a loopback port, and a cloud client for it; both close when the test
// ends.
func emulatedCloud(t *testing.T) (*emulator.Emulator, *cloud.Client) {
	t.Helper()
	seed, err := loadSandboxSeed()
	if err != nil {
		t.Fatal(err)
	}
	emu, err := emulator.New(emulator.Options{Seed: seed, FastKeys: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	api, err := emu.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { api.Close() })
	c, err := cloud.New(cloud.Config{Endpoint: api.URL, Credentials: &cloud.StaticCredentials{
		AccessKeyID: api.Credentials.AccessKeyID, AccessKeySecret: api.Credentials.AccessKeySecret}})
	if err != nil {
		t.Fatal(err)
	}
	return emu, c
}

// Over stdio, every progress notification of a call is written before its
// response: after the response the token means nothing to the client (MCP:
// progress stops once the operation completes; the TypeScript SDK reports
// a notification for an unknown token as an error). mcp-go writes the
// notifications it is handed from a goroutine of its own, which nothing
// orders with the response; one thread, as a busy machine has at times,
// made the last one late in almost every call.
func TestStdioProgressBeforeResponse(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	const region, keyPairs, pages = "cn-hangzhou", 300, 6
	emu, c := emulatedCloud(t)
	if _, _, err := emu.Populate(region, keyPairs, 0); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	ss := startStdioWith(t, newMCPServer(tools.Deps{Cloud: c, PrivateKeyDir: t.TempDir(), Logger: logger}, false), stdioConfig{})

	for id := 1; id <= 10; id++ {
		token := fmt.Sprintf("call-%d", id)
		ss.send(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"describe_key_pairs",`+
			`"arguments":{"regionId":%q},"_meta":{"progressToken":%q}}}`, id, region, token))
		progress := 0
		for answered := false; !answered; {
			m := ss.next()
			params, _ := m["params"].(map[string]any)
			switch {
			case m["method"] == "notifications/progress" && params["progressToken"] == token:
				progress++
			case m["method"] == "notifications/progress":
				t.Fatalf("call %d: progress %v of an earlier call, after its response", id, params)
			case m["id"] == float64(id):
				if res, _ := m["result"].(map[string]any); res == nil || res["isError"] == true {
					t.Fatalf("call %d: %v", id, m)
				}
				answered = true
			default:
				t.Fatalf("call %d: unexpected message %v", id, m)
			}
		}
		if progress != pages {
			t.Errorf("call %d: %d progress notifications before the response, want one per page (%d)", id, progress, pages)
		}
	}
	ss.in.Close()
	rest, err := ss.rest()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range rest {
		t.Errorf("after the last response: %v", m)
	}
}
