package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
)

// binary is the ecs-keypair-mcp command, built once for the tests that run
// it as users do.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ecs-keypair-mcp-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "ecs-keypair-mcp")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the command:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// cleanEnv is an environment for the built command that reads nothing of
// the machine's: its own empty home, no credentials, no ECS metadata
// service, no ECS_KEYPAIR_MCP_* variables; extra comes last.
func cleanEnv(t *testing.T, extra ...string) []string {
	return append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + t.TempDir(),
		"ALIBABA_CLOUD_ECS_METADATA_DISABLED=true",
	}, extra...)
}

// runBinary runs the built command to its end.
func runBinary(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = env
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		if _, exited := err.(*exec.ExitError); !exited {
			t.Fatalf("running %v: %v", args, err)
		}
	}
	return out.String(), errOut.String(), cmd.ProcessState.ExitCode()
}

// emulatorProcess is a running `ecs-keypair-mcp emulator`.
type emulatorProcess struct {
	cmd    *exec.Cmd
	info   struct{ Endpoint, AccessKeyID, AccessKeySecret string }
	stderr *lockedBuffer
	done   chan error
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func startEmulator(t *testing.T, args ...string) *emulatorProcess {
	t.Helper()
	p := &emulatorProcess{stderr: &lockedBuffer{}, done: make(chan error, 1)}
	p.cmd = exec.Command(binary, append([]string{"emulator"}, args...)...)
	p.cmd.Stderr = p.stderr
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() { p.cmd.Process.Kill(); <-p.done })

	lines := bufio.NewReader(stdout)
	line, err := lines.ReadString('\n')
	if err != nil {
		t.Fatalf("reading the first stdout line: %v; stderr:\n%s", err, p.stderr.String())
	}
	var raw map[string]string
	if err := json.Unmarshal([]byte(line), &raw); err != nil {
		t.Fatalf("first stdout line %q is not a JSON object: %v", line, err)
	}
	p.info.Endpoint, p.info.AccessKeyID, p.info.AccessKeySecret = raw["endpoint"], raw["accessKeyId"], raw["accessKeySecret"]
	if !strings.HasPrefix(p.info.Endpoint, "http://127.0.0.1:") || p.info.AccessKeyID == "" || p.info.AccessKeySecret == "" || len(raw) != 3 {
		t.Fatalf("first stdout line %q", line)
	}
	// Nothing else may appear on stdout.
	go func() {
		rest, _ := io.ReadAll(lines)
		if len(rest) > 0 {
			t.Errorf("stdout after the first line: %q", rest)
		}
	}()
	return p
}

func (p *emulatorProcess) client(t *testing.T) *ecs.Client {
	t.Helper()
	c, err := ecs.NewClientWithAccessKey("cn-hangzhou", p.info.AccessKeyID, p.info.AccessKeySecret)
	if err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(p.info.Endpoint, "http://")
	c.Domain = host
	c.SetNoProxy("^" + regexp.QuoteMeta(host) + "$")
	return c
}

func countKeyPairs(t *testing.T, c *ecs.Client, region string) (int, []string) {
	t.Helper()
	var names []string
	for page := 1; ; page++ {
		req := ecs.CreateDescribeKeyPairsRequest()
		req.RegionId, req.PageSize, req.PageNumber = region, requests.NewInteger(50), requests.NewInteger(page)
		resp, err := c.DescribeKeyPairs(req)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range resp.KeyPairs.KeyPair {
			names = append(names, k.KeyPairName)
		}
		if len(names) >= resp.TotalCount || len(resp.KeyPairs.KeyPair) == 0 {
			return resp.TotalCount, names
		}
	}
}

func TestEmulatorCommandSharedStateDir(t *testing.T) {
	dir := t.TempDir()
	a := startEmulator(t, "--state-dir", dir, "--log-level", "warn")
	b := startEmulator(t, "--state-dir", dir, "--log-level", "warn")

	var wg sync.WaitGroup
	errs := make(chan error, 2)
	// Clients are made here, not in the goroutines: building SDK clients
	// concurrently races on the SDK's lazily filled endpoint map.
	for i, c := range []*ecs.Client{a.client(t), b.client(t)} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 100; k++ {
				req := ecs.CreateCreateKeyPairRequest()
				req.RegionId, req.KeyPairName = "cn-beijing", fmt.Sprintf("proc%d-key%03d", i, k)
				if _, err := c.CreateKeyPair(req); err != nil {
					errs <- fmt.Errorf("process %d key %d: %w", i, k, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, p := range []*emulatorProcess{a, b} {
		total, names := countKeyPairs(t, p.client(t), "cn-beijing")
		if total != 200 || len(names) != 200 {
			t.Errorf("%s sees %d key pairs (%d listed), want 200", p.info.Endpoint, total, len(names))
		}
	}

	// SIGTERM stops it cleanly.
	for _, p := range []*emulatorProcess{a, b} {
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-p.done:
			p.done <- err // for the cleanup
			if err != nil {
				t.Errorf("exit after SIGTERM: %v; stderr:\n%s", err, p.stderr.String())
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no exit 10s after SIGTERM")
		}
		if !strings.Contains(p.stderr.String(), "stopped") {
			t.Errorf("stderr does not say it stopped:\n%s", p.stderr.String())
		}
	}
}

// TestEmulatorCommandSurvivesSIGKILL kills a writing emulator at random
// moments; every restart must load the state, and no acknowledged create
// may be lost.
func TestEmulatorCommandSurvivesSIGKILL(t *testing.T) {
	dir := t.TempDir()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	acknowledged := 0
	for round := 0; round < 8; round++ {
		p := startEmulator(t, "--state-dir", dir, "--log-level", "warn")
		c := p.client(t)
		total, _ := countKeyPairs(t, c, "us-west-1")
		if total < acknowledged {
			t.Fatalf("round %d: %d key pairs after restart, but %d creates were acknowledged", round, total, acknowledged)
		}
		acknowledged = total
		stop := make(chan struct{})
		done := make(chan int)
		go func() {
			n := 0
			for k := 0; ; k++ {
				select {
				case <-stop:
					done <- n
					return
				default:
				}
				req := ecs.CreateCreateKeyPairRequest()
				req.RegionId, req.KeyPairName = "us-west-1", fmt.Sprintf("r%d-k%d", round, k)
				if _, err := c.CreateKeyPair(req); err != nil {
					done <- n // the process died under us
					return
				}
				n++
			}
		}()
		time.Sleep(time.Duration(20+rng.IntN(80)) * time.Millisecond)
		p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
		p.done <- nil
		close(stop)
		acknowledged += <-done
	}
	p := startEmulator(t, "--state-dir", dir, "--log-level", "warn")
	if total, _ := countKeyPairs(t, p.client(t), "us-west-1"); total < acknowledged {
		t.Fatalf("final: %d key pairs, %d acknowledged", total, acknowledged)
	}
}

func TestEmulatorCommandRefusals(t *testing.T) {
	corrupt := t.TempDir()
	if err := os.WriteFile(filepath.Join(corrupt, "state.json"), []byte("{\"format\": 1,"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		args   []string
		status int
		stderr string
	}{
		{"non-loopback without --allow-remote", []string{"--listen", "0.0.0.0:0"}, 2, "--allow-remote"},
		{"all interfaces", []string{"--listen", ":0"}, 2, "--allow-remote"},
		{"id without secret", []string{"--access-key-id", "x"}, 2, "go together"},
		{"bad log level", []string{"--log-level", "loud"}, 2, "--log-level"},
		{"stray argument", []string{"now"}, 2, "unexpected argument"},
		{"corrupt state", []string{"--state-dir", corrupt}, 1, filepath.Join(corrupt, "state.json")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(binary, append([]string{"emulator"}, tc.args...)...)
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			if code := cmd.ProcessState.ExitCode(); code != tc.status {
				t.Fatalf("exit %d (%v), want %d; stderr:\n%s", code, err, tc.status, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.stderr) {
				t.Errorf("stderr %q does not mention %q", stderr.String(), tc.stderr)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout %q, want nothing", stdout.String())
			}
		})
	}
	// The corrupt file is left as it was.
	if b, _ := os.ReadFile(filepath.Join(corrupt, "state.json")); string(b) != "{\"format\": 1," {
		t.Errorf("corrupt state was rewritten: %q", b)
	}
}

func TestEmulatorCommandFixedCredentials(t *testing.T) {
	p := startEmulator(t, "--access-key-id", "LTAIfixed", "--access-key-secret", "fixed-secret", "--log-level", "error")
	if p.info.AccessKeyID != "LTAIfixed" || p.info.AccessKeySecret != "fixed-secret" {
		t.Fatalf("credentials %+v", p.info)
	}
	if _, err := p.client(t).DescribeRegions(ecs.CreateDescribeRegionsRequest()); err != nil {
		t.Fatal(err)
	}
	// The secret is on stdout for scripts, never on stderr.
	if strings.Contains(p.stderr.String(), "fixed-secret") {
		t.Errorf("stderr shows the secret:\n%s", p.stderr.String())
	}
}

func TestVersion(t *testing.T) {
	out, err := exec.Command(binary, "version").Output()
	if err != nil || !strings.HasPrefix(string(out), "ecs-keypair-mcp ") {
		t.Fatalf("version: %q %v", out, err)
	}
}

// TestStdioCarriesOnlyJSONRPC runs the built server as an MCP client would,
// with the SDK's debug output switched on, and checks that every line on
// stdout is a JSON-RPC message: anything else would break the client.
func TestStdioCarriesOnlyJSONRPC(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  []string
	}{
		{"plain", nil},
		{"SDK debug on", []string{"DEBUG=sdk,signer,request", "ALIBABA_CLOUD_LOG=debug"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			state := t.TempDir()
			cmd := exec.Command(binary, "--sandbox", "--state-dir", state, "--log-level", "debug")
			cmd.Env = append(os.Environ(), tc.env...)
			stdin, _ := cmd.StdinPipe()
			stdout, _ := cmd.StdoutPipe()
			stderr := &lockedBuffer{}
			cmd.Stderr = stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()

			requests := []string{
				`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"test","version":"0"}}}`,
				`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
				`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`,
				`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"describe_regions","arguments":{}}}`,
				`{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"create_key_pair","arguments":{"regionId":"cn-hangzhou","keyPairName":"stdio-demo"}}}`,
				`{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"describe_key_pairs","arguments":{"regionId":"cn-hangzhou"}}}`,
			}
			for _, r := range requests {
				fmt.Fprintln(stdin, r)
			}
			lines := bufio.NewScanner(stdout)
			lines.Buffer(make([]byte, 1<<20), 1<<20)
			answered := map[float64]map[string]any{}
			deadline := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() })
			defer deadline.Stop()
			for len(answered) < 5 && lines.Scan() {
				var msg map[string]any
				if err := json.Unmarshal(lines.Bytes(), &msg); err != nil || msg["jsonrpc"] != "2.0" {
					t.Fatalf("stdout line is not JSON-RPC: %q", lines.Text())
				}
				if id, ok := msg["id"].(float64); ok {
					answered[id] = msg
				}
			}
			// Close stdin: the server must exit and write nothing more but
			// JSON-RPC.
			stdin.Close()
			for lines.Scan() {
				var msg map[string]any
				if err := json.Unmarshal(lines.Bytes(), &msg); err != nil || msg["jsonrpc"] != "2.0" {
					t.Fatalf("stdout line is not JSON-RPC: %q", lines.Text())
				}
			}
			if err := cmd.Wait(); err != nil {
				t.Errorf("exit: %v\n%s", err, stderr.String())
			}
			if len(answered) != 5 {
				t.Fatalf("answers for %d of 5 requests; stderr:\n%s", len(answered), stderr.String())
			}
			for id := 1.0; id <= 5; id++ {
				if answered[id]["error"] != nil {
					t.Errorf("request %v failed: %v", id, answered[id]["error"])
				}
			}
			if res, _ := answered[4]["result"].(map[string]any); res["isError"] == true {
				t.Errorf("create_key_pair: %v", res)
			}
			for _, out := range []string{stderr.String()} {
				if strings.Contains(out, "PRIVATE KEY") {
					t.Error("stderr holds a private key")
				}
			}
			if _, err := os.Stat(filepath.Join(state, "private-keys", "stdio-demo.pem")); err != nil {
				t.Errorf("the sandbox private key file: %v", err)
			}
		})
	}
}

// TestREADMECalls runs the commands README.md shows, on a fresh sandbox.
func TestREADMECalls(t *testing.T) {
	state := t.TempDir()
	callTool := func(args ...string) (string, string, int) {
		cmd := exec.Command(binary, append([]string{"--sandbox", "call"}, args...)...)
		cmd.Env = append(os.Environ(), "ECS_KEYPAIR_MCP_STATE_DIR="+state)
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		cmd.Run()
		return stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()
	}
	out, errOut, code := callTool("describe_regions")
	var regions struct{ Regions []map[string]string }
	if code != 0 || json.Unmarshal([]byte(out), &regions) != nil || len(regions.Regions) < 6 {
		t.Fatalf("describe_regions: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	out, errOut, code = callTool("create_key_pair", `{"regionId":"cn-hangzhou","keyPairName":"demo"}`)
	var created struct{ PrivateKeyFile, KeyPairFingerPrint string }
	if code != 0 || json.Unmarshal([]byte(out), &created) != nil {
		t.Fatalf("create_key_pair: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if created.PrivateKeyFile != filepath.Join(state, "private-keys", "demo.pem") {
		t.Errorf("private key file %q", created.PrivateKeyFile)
	}
	if strings.Contains(out+errOut, "PRIVATE KEY") {
		t.Error("the private key reached stdout or stderr")
	}
	// ssh-keygen derives the public key from the file, with the reported fingerprint.
	if path, err := exec.LookPath("ssh-keygen"); err == nil {
		pub, err := exec.Command(path, "-y", "-f", created.PrivateKeyFile).Output()
		if err != nil {
			t.Fatalf("ssh-keygen -y: %v", err)
		}
		pubFile := filepath.Join(t.TempDir(), "demo.pub")
		os.WriteFile(pubFile, pub, 0o600)
		fp, _ := exec.Command(path, "-l", "-E", "md5", "-f", pubFile).Output()
		if !strings.Contains(string(fp), "MD5:"+created.KeyPairFingerPrint) {
			t.Errorf("ssh-keygen says %q, the tool said %s", fp, created.KeyPairFingerPrint)
		}
	}
	// The same again: the file exists, so it fails with status 1 and the
	// error on stderr.
	out, errOut, code = callTool("create_key_pair", `{"regionId":"cn-hangzhou","keyPairName":"demo"}`)
	if code != 1 || out != "" || !strings.HasPrefix(errOut, "PrivateKeyFile.AlreadyExists: ") {
		t.Errorf("second create: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	// A preview says so on stderr and writes nothing.
	out, errOut, code = callTool("delete_key_pairs", `{"regionId":"cn-hangzhou","keyPairNames":["demo"]}`)
	if code != 0 || !strings.Contains(errOut, "Not executed") || !strings.Contains(out, `"would_delete"`) {
		t.Errorf("delete preview: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	_, errOut, code = callTool("no_such_tool")
	if code != 2 || !strings.Contains(errOut, "describe_regions") {
		t.Errorf("unknown tool: exit %d, stderr %q", code, errOut)
	}
	_, _, code = callTool("describe_regions", "not json")
	if code != 2 {
		t.Errorf("bad JSON arguments: exit %d", code)
	}
}

func TestNoCredentialsStillListsTools(t *testing.T) {
	home := t.TempDir()
	env := []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "ALIBABA_CLOUD_ECS_METADATA_DISABLED=true"}
	cmd := exec.Command(binary, "tools")
	cmd.Env = env
	out, err := cmd.Output()
	if err != nil || !strings.Contains(string(out), `"delete_key_pairs"`) {
		t.Fatalf("tools: %v %s", err, out)
	}
	cmd = exec.Command(binary, "call", "describe_regions")
	cmd.Env = env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err = cmd.Run()
	if cmd.ProcessState.ExitCode() != 1 || !strings.Contains(stderr.String(), "--sandbox") {
		t.Errorf("call without credentials: %v; stderr %q", err, stderr.String())
	}
}

// TestLeastPrivilegeFlags runs the command with --regions and the audit
// log the sandbox keeps by default.
func TestLeastPrivilegeFlags(t *testing.T) {
	state := t.TempDir()
	run := func(env []string, args ...string) (string, string, int) {
		cmd := exec.Command(binary, args...)
		cmd.Env = append(os.Environ(), env...)
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		cmd.Run()
		return stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"not a region", []string{"--regions", "cn-hangzhou,Mars", "tools"}, `"Mars" is not a region ID`},
		{"empty", []string{"--regions", " , ", "tools"}, "give at least one region ID"},
	} {
		if _, errOut, code := run(nil, tc.args...); code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%s: exit %d, stderr %q", tc.name, code, errOut)
		}
	}

	// The environment sets the flag too; a refused region writes nothing.
	env := []string{"ECS_KEYPAIR_MCP_REGIONS=cn-shanghai"}
	_, errOut, code := run(env, "--sandbox", "--state-dir", state, "call", "create_key_pair", `{"regionId":"cn-hangzhou","keyPairName":"demo"}`)
	if code != 1 || !strings.HasPrefix(errOut, "Forbidden.Region: ") {
		t.Errorf("refused region: exit %d, stderr %q", code, errOut)
	}
	out, errOut, code := run(env, "--sandbox", "--state-dir", state, "call", "create_key_pair", `{"regionId":"cn-shanghai","keyPairName":"demo"}`)
	if code != 0 {
		t.Fatalf("allowed region: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	audit, err := os.ReadFile(filepath.Join(state, "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(audit)), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"tool":"create_key_pair","region":"cn-hangzhou","items":["demo"],"executed":false,"error":"Forbidden.Region"`) ||
		!strings.Contains(lines[1], `"tool":"create_key_pair","region":"cn-shanghai","items":["demo"],"executed":true`) {
		t.Errorf("sandbox audit log: %q", audit)
	}
	if strings.Contains(string(audit), "PRIVATE KEY") {
		t.Error("the audit log holds a private key")
	}
}
