package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud/emulator"
)

// serverProcess is the built server (or a command that runs it), serving
// MCP on its stdin and stdout as an MCP client runs it.
type serverProcess struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	msgs   chan map[string]any // every stdout line, decoded; closed at the end of stdout
	stderr *lockedBuffer
	exited chan struct{} // closed once the process has exited

	mu  sync.Mutex
	bad []string // stdout lines that are not JSON-RPC
}

// startServer starts the built server with env and args, and initializes
// the session.
func startServer(t *testing.T, env []string, args ...string) *serverProcess {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = env
	p := startProcess(t, cmd)
	p.send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"test","version":"0"}}}`)
	if m := p.next(); m["id"] != 1.0 || m["result"] == nil {
		t.Fatalf("initialize: %v; stderr:\n%s", m, p.stderr.String())
	}
	p.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	return p
}

// startProcess starts cmd, a server, with pipes on its stdin and stdout;
// the test's end kills it.
func startProcess(t *testing.T, cmd *exec.Cmd) *serverProcess {
	t.Helper()
	p := &serverProcess{t: t, cmd: cmd, msgs: make(chan map[string]any, 1000), stderr: &lockedBuffer{}, exited: make(chan struct{})}
	p.cmd.Stderr = p.stderr
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		lines := bufio.NewScanner(stdout)
		lines.Buffer(make([]byte, 1<<20), 1<<20)
		for lines.Scan() {
			var m map[string]any
			if err := json.Unmarshal(lines.Bytes(), &m); err != nil || m["jsonrpc"] != "2.0" {
				p.mu.Lock()
				p.bad = append(p.bad, lines.Text())
				p.mu.Unlock()
				continue
			}
			p.msgs <- m
		}
		close(p.msgs)
		p.cmd.Wait() // after the last read of stdout
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.exited
		if strings.Contains(p.stderr.String(), "PRIVATE KEY") {
			t.Error("stderr holds a private key")
		}
	})
	return p
}

func (p *serverProcess) send(line string) {
	p.t.Helper()
	if _, err := io.WriteString(p.stdin, line+"\n"); err != nil {
		p.t.Fatal(err)
	}
}

// next returns the next message on stdout, or fails after 10 s.
func (p *serverProcess) next() map[string]any {
	p.t.Helper()
	select {
	case m, ok := <-p.msgs:
		if !ok {
			p.t.Fatalf("stdout ended; stderr:\n%s", p.stderr.String())
		}
		return m
	case <-time.After(10 * time.Second):
		p.t.Fatalf("no message within 10 s; stderr:\n%s", p.stderr.String())
	}
	return nil
}

// exit waits for the process to end and returns what it wrote meanwhile
// and its exit status. within only stops a test that would hang: it is
// far above any time the server takes.
func (p *serverProcess) exit(within time.Duration) ([]map[string]any, int) {
	p.t.Helper()
	var got []map[string]any
	timeout := time.After(within)
	for {
		select {
		case m, ok := <-p.msgs:
			if ok {
				got = append(got, m)
				continue
			}
			<-p.exited
			p.mu.Lock()
			for _, line := range p.bad {
				p.t.Errorf("stdout line is not JSON-RPC: %q", line)
			}
			p.mu.Unlock()
			return got, p.cmd.ProcessState.ExitCode()
		case <-timeout:
			p.t.Fatalf("still running %s later; stderr:\n%s", within, p.stderr.String())
		}
	}
}

// arrivals is an emulator that says when a request of an action reaches it.
type arrivals struct {
	next    http.Handler
	arrived chan string
}

func (a *arrivals) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm() // the emulator's own ParseForm then finds the form parsed
	select {
	case a.arrived <- r.Form.Get("Action"):
	default:
	}
	a.next.ServeHTTP(w, r)
}

func (a *arrivals) waitFor(t *testing.T, action string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case got := <-a.arrived:
			if got == action {
				return
			}
		case <-timeout:
			t.Fatalf("no %s request reached the emulator", action)
		}
	}
}

// fakeCloud is an emulator of the test seed with faults, served on a
// loopback port through the handler front wraps around it, and the
// environment that gives the built server its credentials. All of it
// closes when the test ends.
func fakeCloud(t *testing.T, faults emulator.FaultPlan, front func(*emulator.Emulator) http.Handler) (*emulator.Emulator, *httptest.Server, []string) {
	t.Helper()
	seed, err := emulator.LoadSeed(filepath.Join("testdata", "seed.json"))
	if err != nil {
		t.Fatal(err)
	}
	emu, err := emulator.New(emulator.Options{Seed: seed, FastKeys: true, Faults: faults})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(front(emu))
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
		emu.Close()
	})
	creds := emu.Credentials()
	env := cleanEnv(t, // no profile, no ~/.aliyun
		"ALIBABA_CLOUD_ACCESS_KEY_ID="+creds.AccessKeyID,
		"ALIBABA_CLOUD_ACCESS_KEY_SECRET="+creds.AccessKeySecret)
	return emu, srv, env
}

// slowCloud is a fakeCloud whose action is slowed by latency, and that
// says when a request of an action arrives.
func slowCloud(t *testing.T, action string, latency time.Duration) (*emulator.Emulator, *httptest.Server, *arrivals, []string) {
	t.Helper()
	var a *arrivals
	emu, srv, env := fakeCloud(t, emulator.FaultPlan{PerAction: map[string]emulator.Faults{action: {Latency: latency}}},
		func(emu *emulator.Emulator) http.Handler {
			a = &arrivals{next: emu, arrived: make(chan string, 100)}
			return a
		})
	return emu, srv, a, env
}

// A client that stops the server (SIGTERM or SIGINT, as MCP clients do,
// or by closing its stdin) while a call is in flight still gets the
// call's response: the server stops reading, lets the call finish, writes
// the response, and exits with status 0. Stdout carries JSON-RPC only.
func TestStopWithACallInFlight(t *testing.T) {
	t.Parallel()
	// The cloud's answer is held back this long: the stop arrives while the
	// request is at the emulator (arrivals says when), well before it.
	const latency = 1500 * time.Millisecond
	for _, tc := range []struct {
		name    string
		stop    func(p *serverProcess)
		tool    string
		args    string
		slow    string
		timeout string // --timeout; "" for the default
		// want checks the call's result.
		wantError bool
		wantText  string
	}{
		{name: "SIGTERM, describe_key_pairs", stop: sendSignal(syscall.SIGTERM),
			tool: "describe_key_pairs", args: `{"regionId":"cn-hangzhou"}`, slow: "DescribeKeyPairs", wantText: `"keyPairs":[`},
		{name: "SIGINT, describe_instances", stop: sendSignal(syscall.SIGINT),
			tool: "describe_instances", args: `{"regionId":"cn-hangzhou"}`, slow: "DescribeInstances", wantText: `"instances":[`},
		{name: "stdin closed, describe_key_pairs", stop: closeStdin,
			tool: "describe_key_pairs", args: `{"regionId":"cn-hangzhou"}`, slow: "DescribeKeyPairs", wantText: `"keyPairs":[`},
		{name: "SIGTERM, create_key_pair", stop: sendSignal(syscall.SIGTERM),
			tool: "create_key_pair", args: `{"regionId":"cn-hangzhou","keyPairName":"late-key"}`, slow: "CreateKeyPair",
			wantText: `"privateKeyFile":`},
		{name: "SIGTERM, a call that outlasts its --timeout", stop: sendSignal(syscall.SIGTERM), timeout: "500ms",
			tool: "describe_key_pairs", args: `{"regionId":"cn-hangzhou"}`, slow: "DescribeKeyPairs",
			wantError: true, wantText: "RequestTimeout: the call did not finish within 500ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			emu, srv, cloud, env := slowCloud(t, tc.slow, latency)
			keys := filepath.Join(t.TempDir(), "keys")
			args := []string{"--endpoint", srv.URL, "--private-key-dir", keys, "--log-level", "debug"}
			if tc.timeout != "" {
				args = append(args, "--timeout", tc.timeout)
			}
			p := startServer(t, env, args...)
			p.send(fmt.Sprintf(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":%q,"arguments":%s}}`, tc.tool, tc.args))
			cloud.waitFor(t, tc.slow)

			tc.stop(p)
			got, status := p.exit(latency + 30*time.Second)
			if status != 0 {
				t.Errorf("exit status %d; stderr:\n%s", status, p.stderr.String())
			}
			var answer map[string]any
			for _, m := range got {
				if m["id"] == 2.0 {
					answer = m
				}
			}
			res, _ := answer["result"].(map[string]any)
			if res == nil {
				t.Fatalf("no result for the call in flight; stdout after the stop: %v; stderr:\n%s", got, p.stderr.String())
			}
			content, _ := res["content"].([]any)
			text := ""
			if len(content) > 0 {
				first, _ := content[0].(map[string]any)
				text, _ = first["text"].(string)
			}
			if strings.Contains(text, "PRIVATE KEY") {
				t.Fatal("the result holds a private key")
			}
			if (res["isError"] == true) != tc.wantError || !strings.Contains(text, tc.wantText) {
				t.Errorf("result isError=%v %q, want isError=%v and %q", res["isError"], text, tc.wantError, tc.wantText)
			}
			if strings.Contains(p.stderr.String(), emu.Credentials().AccessKeySecret) {
				t.Error("stderr shows the AccessKey secret")
			}
			if tc.tool == "create_key_pair" {
				info, err := os.Stat(filepath.Join(keys, "late-key.cn-hangzhou.pem"))
				if err != nil || info.Size() == 0 || info.Mode().Perm() != 0o600 {
					t.Errorf("the private key file after the stop: %v, %v", info, err)
				}
			}
		})
	}
}

// Stopped while idle, the server exits at once with status 0: it does not
// wait out the drain time it gives calls in flight (--timeout plus 5 s,
// here ten minutes and more, which the test's bound on the exit would
// catch).
func TestStopWhileIdle(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		stop func(p *serverProcess)
	}{
		{"SIGTERM", sendSignal(syscall.SIGTERM)},
		{"SIGINT", sendSignal(syscall.SIGINT)},
		{"stdin closed", closeStdin},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			state := t.TempDir()
			p := startServer(t, cleanEnv(t), "--sandbox", "--state-dir", state, "--private-key-dir", filepath.Join(state, "keys"), "--timeout", "10m")
			p.send(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"describe_regions","arguments":{}}}`)
			if m := p.next(); m["id"] != 2.0 || m["result"] == nil {
				t.Fatalf("describe_regions: %v", m)
			}
			tc.stop(p)
			got, status := p.exit(30 * time.Second)
			if status != 0 || len(got) != 0 {
				t.Errorf("exit status %d, stdout after the stop %v; stderr:\n%s", status, got, p.stderr.String())
			}
		})
	}
}

func sendSignal(sig syscall.Signal) func(p *serverProcess) {
	return func(p *serverProcess) {
		if err := p.cmd.Process.Signal(sig); err != nil {
			p.t.Fatal(err)
		}
	}
}

func closeStdin(p *serverProcess) {
	if err := p.stdin.Close(); err != nil {
		p.t.Fatal(err)
	}
}
