package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
)

// binary is the ecs-keypair-mcp command, built once for the tests that run
// it as users do. It is the only state the tests share, and it is read-only.
var binary string

func TestMain(m *testing.M) {
	// Most tests here wait, on the processes they start or on a cloud's
	// added latency, rather than compute: run more of them at once than
	// there are cores, unless -parallel says how many.
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		flag.Set("test.parallel", strconv.Itoa(max(8, runtime.GOMAXPROCS(0))))
	}
	// No test may ask the ECS metadata service, wherever it runs: the
	// commands run in process read this environment.
	os.Setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
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
	mu      sync.Mutex
	b       strings.Builder
	written chan struct{} // a token after each write, for waitFor
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.written == nil {
		l.written = make(chan struct{}, 1)
	}
	select {
	case l.written <- struct{}{}:
	default:
	}
	return l.b.Write(p)
}

// waitFor waits until the buffer holds s, and returns what it holds; it
// fails the test after 10 s (a hang, not a time limit).
func (l *lockedBuffer) waitFor(t *testing.T, s string) string {
	t.Helper()
	l.mu.Lock()
	if l.written == nil {
		l.written = make(chan struct{}, 1)
	}
	written := l.written
	l.mu.Unlock()
	timeout := time.After(10 * time.Second)
	for {
		if got := l.String(); strings.Contains(got, s) {
			return got
		}
		select {
		case <-written:
		case <-timeout:
			t.Fatalf("%q did not appear within 10 s; got:\n%s", s, l.String())
		}
	}
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startEmulator starts the emulator command and reads its first stdout
// line, the JSON object scripts read.
func startEmulator(t *testing.T, args ...string) *emulatorProcess {
	t.Helper()
	p := &emulatorProcess{stderr: &lockedBuffer{}, done: make(chan error, 1)}
	p.cmd = exec.Command(binary, append([]string{"emulator"}, args...)...)
	p.cmd.Env = cleanEnv(t)
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

// sdkMu serialises SDK client construction in the tests: the SDK fills
// its endpoint map lazily, unguarded.
var sdkMu sync.Mutex

func (p *emulatorProcess) safeClient(t *testing.T) *ecs.Client {
	sdkMu.Lock()
	defer sdkMu.Unlock()
	return p.client(t)
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

// publicKey is a public key line from testdata/keys.
func publicKey(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "keys", name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// Two emulator processes on one state directory lose no update. Imports
// stand in for creates, which would spend the test's time making RSA keys:
// both go through the same store update.
func TestEmulatorCommandSharedStateDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a := startEmulator(t, "--state-dir", dir, "--log-level", "warn")
	b := startEmulator(t, "--state-dir", dir, "--log-level", "warn")
	pub := publicKey(t, "ecdsa256.pub")

	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for i, c := range []*ecs.Client{a.safeClient(t), b.safeClient(t)} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 100; k++ {
				req := ecs.CreateImportKeyPairRequest()
				req.RegionId, req.KeyPairName, req.PublicKeyBody = "cn-beijing", fmt.Sprintf("proc%d-key%03d", i, k), pub
				if _, err := c.ImportKeyPair(req); err != nil {
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
		total, names := countKeyPairs(t, p.safeClient(t), "cn-beijing")
		if total != 200 || len(names) != 200 {
			t.Errorf("%s sees %d key pairs (%d listed), want 200", p.info.Endpoint, total, len(names))
		}
	}
	// And a create, the emulator's own key generation, lands in both.
	req := ecs.CreateCreateKeyPairRequest()
	req.RegionId, req.KeyPairName = "cn-beijing", "created"
	if _, err := a.safeClient(t).CreateKeyPair(req); err != nil {
		t.Fatal(err)
	}
	if total, _ := countKeyPairs(t, b.safeClient(t), "cn-beijing"); total != 201 {
		t.Errorf("the other process sees %d key pairs after a create, want 201", total)
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

// TestEmulatorCommandSurvivesSIGKILL kills a writing emulator after a
// random number of acknowledged writes, while the next is in flight; every
// restart must load the state, and no acknowledged write may be lost.
func TestEmulatorCommandSurvivesSIGKILL(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	pub := publicKey(t, "ecdsa256.pub")
	acknowledged := 0
	for round := 0; round < 8; round++ {
		p := startEmulator(t, "--state-dir", dir, "--log-level", "warn")
		c := p.safeClient(t)
		total, _ := countKeyPairs(t, c, "us-west-1")
		if total < acknowledged {
			t.Fatalf("round %d: %d key pairs after restart, but %d writes were acknowledged", round, total, acknowledged)
		}
		acknowledged = total
		killAfter := 1 + rng.IntN(20)
		acks := make(chan struct{}, 64)
		done := make(chan int)
		go func() {
			n := 0
			for k := 0; ; k++ {
				req := ecs.CreateImportKeyPairRequest()
				req.RegionId, req.KeyPairName, req.PublicKeyBody = "us-west-1", fmt.Sprintf("r%d-k%d", round, k), pub
				if _, err := c.ImportKeyPair(req); err != nil {
					done <- n // the process died under us
					return
				}
				n++
				select {
				case acks <- struct{}{}:
				default: // more than the test waits for: it has moved on
				}
			}
		}()
		for range killAfter {
			select {
			case <-acks:
			case n := <-done:
				t.Fatalf("round %d: writes failed after %d: stderr:\n%s", round, n, p.stderr.String())
			}
		}
		p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
		p.done <- nil
		n := <-done
		if n < killAfter {
			t.Fatalf("round %d: %d writes counted, %d were seen acknowledged", round, n, killAfter)
		}
		acknowledged += n
	}
	p := startEmulator(t, "--state-dir", dir, "--log-level", "warn")
	if total, _ := countKeyPairs(t, p.safeClient(t), "us-west-1"); total < acknowledged {
		t.Fatalf("final: %d key pairs, %d acknowledged", total, acknowledged)
	}
}

func TestEmulatorCommandRefusals(t *testing.T) {
	t.Parallel()
	corrupt := t.TempDir()
	if err := os.WriteFile(filepath.Join(corrupt, "state.json"), []byte("{\"format\": 1,"), 0o600); err != nil {
		t.Fatal(err)
	}
	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		args   []string
		status int
		stderr []string
	}{
		{"non-loopback without --allow-remote", []string{"--listen", "0.0.0.0:0"}, 2, []string{"--allow-remote"}},
		{"all interfaces", []string{"--listen", ":0"}, 2, []string{"--allow-remote"}},
		{"not an address", []string{"--listen", "localhost"}, 2, []string{`--listen="localhost": not an address`}},
		{"id without secret", []string{"--access-key-id", "x"}, 2, []string{"go together"}},
		{"bad log level", []string{"--log-level", "loud"}, 2, []string{`--log-level="loud": not a log level; use debug, info, warn or error`}},
		{"unknown flag", []string{"--sandbox"}, 2, []string{"unknown flag --sandbox", "see ecs-keypair-mcp emulator --help"}},
		{"stray argument", []string{"now"}, 2, []string{"unexpected argument"}},
		{"corrupt state", []string{"--state-dir", corrupt}, 1, []string{filepath.Join(corrupt, "state.json"), "fix or remove the file"}},
		{"state dir under a file", []string{"--state-dir", filepath.Join(notADir, "state")}, 1,
			[]string{"the state directory " + filepath.Join(notADir, "state") + " cannot be used", "is a file", "choose a directory with --state-dir"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			stdout, stderr, code := runBinary(t, cleanEnv(t), append([]string{"emulator"}, tc.args...)...)
			if code != tc.status {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tc.status, stderr)
			}
			for _, want := range tc.stderr {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr %q does not mention %q", stderr, want)
				}
			}
			if tc.status == 2 && strings.Count(stderr, "\n") != 1 {
				t.Errorf("a usage error takes one line, got:\n%s", stderr)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
		})
	}
	// The corrupt file is left as it was.
	t.Cleanup(func() {
		if b, _ := os.ReadFile(filepath.Join(corrupt, "state.json")); string(b) != "{\"format\": 1," {
			t.Errorf("corrupt state was rewritten: %q", b)
		}
	})
}

// The banner tells which endpoint form goes where: a URL for this server's
// --endpoint, host:port with --insecure for the aliyun CLI.
func TestEmulatorCommandFixedCredentials(t *testing.T) {
	t.Parallel()
	p := startEmulator(t, "--access-key-id", "LTAIfixed", "--access-key-secret", "fixed-secret", "--log-level", "error")
	if p.info.AccessKeyID != "LTAIfixed" || p.info.AccessKeySecret != "fixed-secret" {
		t.Fatalf("credentials %+v", p.info)
	}
	if _, err := p.safeClient(t).DescribeRegions(ecs.CreateDescribeRegionsRequest()); err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(p.info.Endpoint, "http://")
	banner := p.stderr.waitFor(t, "Press Ctrl-C to stop.") // written after the stdout line
	for _, want := range []string{
		"ecs-keypair-mcp --endpoint " + p.info.Endpoint + "\n",
		"--endpoint " + host + " --insecure\n",
		"the aliyun CLI takes host:port without a scheme",
		"--endpoint takes a URL with its scheme",
	} {
		if !strings.Contains(banner, want) {
			t.Errorf("the banner lacks %q:\n%s", want, banner)
		}
	}
	// The secret is on stdout for scripts, never on stderr.
	if strings.Contains(banner, "fixed-secret") {
		t.Errorf("stderr shows the secret:\n%s", banner)
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	out, _, code := runBinary(t, cleanEnv(t), "version")
	if code != 0 || !strings.HasPrefix(out, "ecs-keypair-mcp ") {
		t.Fatalf("version: %q, exit %d", out, code)
	}
}

// TestStdioCarriesOnlyJSONRPC runs the built server as an MCP client would,
// with the SDK's debug output switched on, and checks that every line on
// stdout is a JSON-RPC message: anything else would break the client.
func TestStdioCarriesOnlyJSONRPC(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		env  []string
	}{
		{"plain", nil},
		{"SDK debug on", []string{"DEBUG=sdk,signer,request", "ALIBABA_CLOUD_LOG=debug"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			state := t.TempDir()
			cmd := exec.Command(binary, "--sandbox", "--state-dir", state, "--log-level", "debug")
			cmd.Env = cleanEnv(t, tc.env...)
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
			if strings.Contains(stderr.String(), "PRIVATE KEY") {
				t.Error("stderr holds a private key")
			}
			if _, err := os.Stat(filepath.Join(state, "private-keys", "stdio-demo.cn-hangzhou.pem")); err != nil {
				t.Errorf("the sandbox private key file: %v", err)
			}
		})
	}
}

// TestREADMECalls runs the commands README.md shows, on a fresh sandbox.
func TestREADMECalls(t *testing.T) {
	t.Parallel()
	state := t.TempDir()
	env := cleanEnv(t, "ECS_KEYPAIR_MCP_STATE_DIR="+state)
	callTool := func(args ...string) (string, string, int) {
		return runBinary(t, env, append([]string{"--sandbox", "call"}, args...)...)
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
	if created.PrivateKeyFile != filepath.Join(state, "private-keys", "demo.cn-hangzhou.pem") {
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
	// A name no tool has is a usage error that lists the tools.
	_, errOut, code = callTool("no_such_tool")
	if code != 2 || !strings.Contains(errOut, `no tool is called "no_such_tool"`) || !strings.Contains(errOut, "describe_regions") {
		t.Errorf("unknown tool: exit %d, stderr %q", code, errOut)
	}
	_, _, code = callTool("describe_regions", "not json")
	if code != 2 {
		t.Errorf("bad JSON arguments: exit %d", code)
	}
}

// Without credentials the server still lists its tools, and a call says
// at once what to do (no wait on an ECS metadata probe off ECS).
func TestNoCredentialsStillListsTools(t *testing.T) {
	t.Parallel()
	env := cleanEnv(t)
	out, errOut, code := runBinary(t, env, "tools")
	if code != 0 || !strings.Contains(out, `"delete_key_pairs"`) {
		t.Fatalf("tools: exit %d, stderr %s", code, errOut)
	}
	_, errOut, code = runBinary(t, env, "call", "describe_regions")
	if code != 1 || !strings.HasPrefix(errOut, "MissingCredentials: ") || !strings.Contains(errOut, "--sandbox") {
		t.Errorf("call without credentials: exit %d; stderr %q", code, errOut)
	}
}

// TestLeastPrivilegeFlags runs the command with --regions and the audit
// log the sandbox keeps by default.
func TestLeastPrivilegeFlags(t *testing.T) {
	t.Parallel()
	state := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"not a region", []string{"--regions", "cn-hangzhou,Mars", "tools"}, `"Mars" is not a region ID`},
		{"one word", []string{"--regions", "abc", "tools"}, `"abc" is not a region ID`},
		{"empty", []string{"--regions", " , ", "tools"}, "give at least one region ID"},
	} {
		if _, errOut, code := runBinary(t, cleanEnv(t), tc.args...); code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%s: exit %d, stderr %q", tc.name, code, errOut)
		}
	}

	// The environment sets the flag too; a refused region writes nothing.
	env := cleanEnv(t, "ECS_KEYPAIR_MCP_REGIONS=cn-shanghai")
	_, errOut, code := runBinary(t, env, "--sandbox", "--state-dir", state, "call", "create_key_pair", `{"regionId":"cn-hangzhou","keyPairName":"demo"}`)
	if code != 1 || !strings.HasPrefix(errOut, "Forbidden.Region: ") {
		t.Errorf("refused region: exit %d, stderr %q", code, errOut)
	}
	out, errOut, code := runBinary(t, env, "--sandbox", "--state-dir", state, "call", "create_key_pair", `{"regionId":"cn-shanghai","keyPairName":"demo"}`)
	if code != 0 {
		t.Fatalf("allowed region: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	audit, err := os.ReadFile(filepath.Join(state, "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(audit)), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], `"event":"refused","tool":"create_key_pair","region":"cn-hangzhou","items":["demo"],"executed":false,"error":"Forbidden.Region"`) ||
		!strings.Contains(lines[1], `"event":"intent","tool":"create_key_pair","region":"cn-shanghai"`) ||
		!strings.Contains(lines[2], `"event":"outcome","tool":"create_key_pair","region":"cn-shanghai"`) || !strings.Contains(lines[2], `"executed":true`) {
		t.Errorf("sandbox audit log: %q", audit)
	}
	if strings.Contains(string(audit), "PRIVATE KEY") {
		t.Error("the audit log holds a private key")
	}
}
