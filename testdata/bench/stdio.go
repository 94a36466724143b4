package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/tools"
)

// answerTimeout bounds every wait for a server's answer, so that a hung
// server fails the benchmark instead of stalling it.
const answerTimeout = 30 * time.Second

// conn is a JSON-RPC connection to an MCP server over its stdio, one
// message per line, as a client sees it.
type conn struct {
	in  io.WriteCloser
	out *bufio.Reader
	id  int
}

var initialize = fmt.Sprintf(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":%q,"capabilities":{},"clientInfo":{"name":"bench","version":"0"}}}`,
	mcp.LATEST_PROTOCOL_VERSION)

// request sends one request and waits for its answer, skipping
// notifications.
func (c *conn) request(line string, id int) error {
	if _, err := io.WriteString(c.in, line+"\n"); err != nil {
		return err
	}
	for {
		text, err := c.out.ReadBytes('\n')
		if err != nil {
			return fmt.Errorf("reading the answer to request %d: %w", id, err)
		}
		var msg struct {
			ID     *int `json:"id"`
			Result *struct {
				IsError bool            `json:"isError"`
				Content json.RawMessage `json:"content"`
			} `json:"result"`
			Error *struct{ Message string } `json:"error"`
		}
		if err := json.Unmarshal(text, &msg); err != nil {
			return fmt.Errorf("answer %q: %w", text, err)
		}
		switch {
		case msg.ID == nil || *msg.ID != id:
			continue
		case msg.Error != nil:
			return errors.New(msg.Error.Message)
		case msg.Result == nil:
			return fmt.Errorf("answer %q has no result", text)
		case msg.Result.IsError:
			return fmt.Errorf("tool error: %s", msg.Result.Content)
		}
		return nil
	}
}

func (c *conn) handshake() error {
	if err := c.request(initialize, 0); err != nil {
		return err
	}
	_, err := io.WriteString(c.in, `{"jsonrpc":"2.0","method":"notifications/initialized"}`+"\n")
	return err
}

func (c *conn) call(tool, args string) error {
	c.id++
	return c.request(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":%q,"arguments":%s}}`, c.id, tool, args), c.id)
}

// proc is a server process and the connection to it.
type proc struct {
	*conn
	cmd   *exec.Cmd
	watch *time.Timer
}

// spawn starts bin; the watchdog kills it if it hangs, and so does the
// kernel if this program dies first.
func spawn(bin string, env []string, args ...string) (*proc, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{conn: &conn{in: in, out: bufio.NewReaderSize(out, 1<<16)}, cmd: cmd}
	p.watch = time.AfterFunc(answerTimeout, func() { cmd.Process.Kill() })
	return p, nil
}

// alive pushes the watchdog back, between answers.
func (p *proc) alive() { p.watch.Reset(answerTimeout) }

func (p *proc) stop() {
	p.in.Close() // an MCP stdio server ends at end of input
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		p.cmd.Process.Kill()
		<-done
	}
	p.watch.Stop()
}

// procStatus reads a field of /proc/PID/status in bytes (VmRSS, VmHWM).
func procStatus(pid int, field string) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// emulatorProc runs the emulator as its own process (ecs-keypair-mcp
// emulator), so that its memory never counts as the server's.
type emulatorProc struct {
	cmd  *exec.Cmd
	host string
	env  []string // the credentials, as a server takes them
}

func startEmulator(bin string) (*emulatorProc, error) {
	cmd := exec.Command(bin, "emulator", "--listen", "127.0.0.1:0", "--log-level", "error")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	var first struct{ Endpoint, AccessKeyID, AccessKeySecret string }
	line, err := bufio.NewReader(out).ReadBytes('\n')
	if err == nil {
		err = json.Unmarshal(line, &first)
	}
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("emulator: %w", err)
	}
	return &emulatorProc{cmd: cmd, host: strings.TrimPrefix(first.Endpoint, "http://"), env: []string{
		"ALIBABA_CLOUD_ACCESS_KEY_ID=" + first.AccessKeyID,
		"ALIBABA_CLOUD_ACCESS_KEY_SECRET=" + first.AccessKeySecret,
		"BENCH_ECS_HOST=" + strings.TrimPrefix(first.Endpoint, "http://"),
	}}, nil
}

func (e *emulatorProc) stop() {
	e.cmd.Process.Signal(syscall.SIGTERM)
	e.cmd.Wait()
}

// startServer starts ecs-keypair-mcp against the emulator.
func (e *emulatorProc) startServer(bin string) (*proc, error) {
	return spawn(bin, e.env, "--endpoint", "http://"+e.host, "--log-level", "error")
}

// benchStartup times exec to the answer to initialize, the binaries taking
// turns so that both see the same machine.
func benchStartup(serverBin, minimalBin string, spawns int) error {
	stateDir, err := os.MkdirTemp("", "bench-state-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(stateDir)
	env := []string{"ALIBABA_CLOUD_ACCESS_KEY_ID=LTAIbench", "ALIBABA_CLOUD_ACCESS_KEY_SECRET=bench", "BENCH_ECS_HOST=127.0.0.1:9"}
	subjects := []struct {
		name string
		bin  string
		args []string
	}{
		{"minimal mcp-go server", minimalBin, nil},
		{"ecs-keypair-mcp --endpoint", serverBin, []string{"--endpoint", "http://127.0.0.1:9", "--log-level", "error"}},
		{"ecs-keypair-mcp --sandbox", serverBin, []string{"--sandbox", "--state-dir", stateDir, "--log-level", "error"}},
	}
	times := make([][]time.Duration, len(subjects))
	for range spawns {
		for i, s := range subjects {
			start := time.Now()
			p, err := spawn(s.bin, env, s.args...)
			if err != nil {
				return err
			}
			err = p.request(initialize, 0)
			d := time.Since(start)
			p.stop()
			if err != nil {
				return fmt.Errorf("%s: %w", s.name, err)
			}
			times[i] = append(times[i], d)
		}
	}
	fmt.Printf("\n## Start-up: exec to the answer to initialize (%d starts each, taking turns)\n\n", spawns)
	fmt.Println("| binary | p50 | p90 | ÷ minimal (p50) | target |")
	fmt.Println("|---|---|---|---|---|")
	base := median(append([]time.Duration(nil), times[0]...))
	for i, s := range subjects {
		p50 := median(times[i])
		target := ""
		switch i {
		case 1:
			target = verdict(float64(p50)/float64(base), 1.2)
		case 2:
			target = "(not a target: also opens the sandbox's state)"
		}
		fmt.Printf("| %s | %s | %s | %.2fx | %s |\n", s.name, ms(p50), ms(percentile(times[i], 90)), float64(p50)/float64(base), target)
	}

	// Part of the difference: building the tool definitions, which only
	// a fresh process shows (they are cached afterwards).
	var builds []time.Duration
	for range 20 {
		out, err := exec.Command(os.Args[0], "-tools-init").Output()
		if err != nil {
			return err
		}
		ns, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
		if err != nil {
			return err
		}
		builds = append(builds, time.Duration(ns))
	}
	fmt.Printf("\nBuilding the tool definitions (the first tools.All in a fresh process): median %s over %d processes.\n", ms(median(builds)), len(builds))
	return nil
}

func verdict(ratio, target float64) string {
	if ratio <= target {
		return fmt.Sprintf("≤ %.1fx: met", target)
	}
	return fmt.Sprintf("≤ %.1fx: missed by %.0f%%", target, 100*(ratio/target-1))
}

// benchPerCall times describe_regions through stdio, one call at a time,
// on both servers in turn against one emulator with no added latency.
func benchPerCall(serverBin, minimalBin string, calls int) error {
	emu, err := startEmulator(serverBin)
	if err != nil {
		return err
	}
	defer emu.stop()
	ours, err := emu.startServer(serverBin)
	if err != nil {
		return err
	}
	defer ours.stop()
	minimal, err := spawn(minimalBin, emu.env)
	if err != nil {
		return err
	}
	defer minimal.stop()
	procs := []*proc{minimal, ours}
	times := make([][]time.Duration, len(procs))
	for _, p := range procs {
		if err := p.handshake(); err != nil {
			return err
		}
	}
	const warmup = 200
	for i := range warmup + calls {
		for j, p := range procs {
			start := time.Now()
			if err := p.call("describe_regions", "{}"); err != nil {
				return err
			}
			p.alive()
			if i >= warmup {
				times[j] = append(times[j], time.Since(start))
			}
		}
	}
	fmt.Printf("\n## Per call: describe_regions through stdio, no added latency (%d calls each, taking turns, after %d warm-up calls)\n\n", calls, warmup)
	fmt.Println("| server | p50 | p99 | ÷ minimal (p50) | ÷ minimal (p99) | target |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, ts := range times {
		median(ts) // sorts
	}
	for j, name := range []string{"minimal mcp-go server", "ecs-keypair-mcp"} {
		r50 := float64(percentile(times[j], 50)) / float64(percentile(times[0], 50))
		r99 := float64(percentile(times[j], 99)) / float64(percentile(times[0], 99))
		target := ""
		if j == 1 {
			target = "p50 " + verdict(r50, 1.5)
		}
		fmt.Printf("| %s | %s | %s | %.2fx | %.2fx | %s |\n", name, ms(percentile(times[j], 50)), ms(percentile(times[j], 99)), r50, r99, target)
	}
	return nil
}

// soakCalls are what the soak sends, in turn: a call with no region, a
// listing of instances and one of key pairs.
var soakCalls = [][2]string{
	{"describe_regions", `{}`},
	{"describe_instances", `{"regionId":"cn-hangzhou"}`},
	{"describe_key_pairs", `{"regionId":"cn-hangzhou"}`},
}

// benchSoak makes n calls twice: to the server process, reading its
// resident set, and to the same stack in this process, counting
// goroutines and live heap.
func benchSoak(serverBin string, n int) error {
	emu, err := startEmulator(serverBin)
	if err != nil {
		return err
	}
	defer emu.stop()

	p, err := emu.startServer(serverBin)
	if err != nil {
		return err
	}
	defer p.stop()
	if err := p.handshake(); err != nil {
		return err
	}
	pid := p.cmd.Process.Pid
	var rss []int64
	for i := range n {
		c := soakCalls[i%len(soakCalls)]
		if err := p.call(c[0], c[1]); err != nil {
			return err
		}
		p.alive()
		if (i+1)%1000 == 0 {
			r, err := procStatus(pid, "VmRSS")
			if err != nil {
				return err
			}
			rss = append(rss, r)
		}
	}
	peak, err := procStatus(pid, "VmHWM")
	if err != nil {
		return err
	}

	goroutines, heap, err := soakInProcess(emu, n)
	if err != nil {
		return err
	}
	fmt.Printf("\n## Soak: %d calls (describe_regions, describe_instances, describe_key_pairs in turn), no added latency\n\n", n)
	fmt.Println("| measure | after 1,000 calls | after the last 1,000 | change | target |")
	fmt.Println("|---|---|---|---|---|")
	last := len(rss) - 1
	fmt.Printf("| resident set (process) | %s | %s | %+.2f MB | |\n", mb(rss[0]), mb(rss[last]), float64(rss[last]-rss[0])/(1<<20))
	fmt.Printf("| peak resident set, VmHWM (process) | | %s | | < 40 MB: %s |\n", mb(peak), map[bool]string{true: "met", false: "missed"}[peak < 40<<20])
	fmt.Printf("| goroutines (in process) | %d | %d | %+d | no growth |\n", goroutines[0], goroutines[last], goroutines[last]-goroutines[0])
	fmt.Printf("| live heap after GC (in process) | %s | %s | %+.2f MB | no growth |\n", mb(heap[0]), mb(heap[last]), float64(heap[last]-heap[0])/(1<<20))
	fmt.Printf("\nResident set after each 1,000 calls: %s.\n", joinMB(rss))
	fmt.Printf("Goroutines after each 1,000 calls: %v.\n", goroutines)
	return nil
}

// soakInProcess serves the real tool set over in-memory pipes in this
// process and samples goroutines and the live heap (after a GC) after each
// thousand calls. The emulator is another process, so neither counts it.
func soakInProcess(emu *emulatorProc, n int) (goroutines []int, heap []int64, err error) {
	id, secret := strings.TrimPrefix(emu.env[0], "ALIBABA_CLOUD_ACCESS_KEY_ID="), strings.TrimPrefix(emu.env[1], "ALIBABA_CLOUD_ACCESS_KEY_SECRET=")
	c, err := cloud.New(cloud.Config{Endpoint: "http://" + emu.host, Credentials: &cloud.StaticCredentials{AccessKeyID: id, AccessKeySecret: secret}})
	if err != nil {
		return nil, nil, err
	}
	s := server.NewMCPServer("bench", "0", server.WithToolCapabilities(false), server.WithRecovery())
	tools.Register(s, tools.Deps{Cloud: c, PrivateKeyDir: os.TempDir()}, true)
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() {
		server.NewStdioServer(s).Listen(ctx, inR, outW)
		close(served)
	}()
	defer func() {
		cancel()
		inW.Close()
		outR.Close()
		<-served
	}()
	cn := &conn{in: inW, out: bufio.NewReaderSize(outR, 1<<16)}
	if err := cn.handshake(); err != nil {
		return nil, nil, err
	}
	var mem runtime.MemStats
	for i := range n {
		sc := soakCalls[i%len(soakCalls)]
		if err := cn.call(sc[0], sc[1]); err != nil {
			return nil, nil, err
		}
		if (i+1)%1000 == 0 {
			runtime.GC()
			runtime.ReadMemStats(&mem)
			goroutines = append(goroutines, runtime.NumGoroutine())
			heap = append(heap, int64(mem.HeapAlloc))
		}
	}
	return goroutines, heap, nil
}

func mb(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/(1<<20)) }

func joinMB(bs []int64) string {
	parts := make([]string, len(bs))
	for i, b := range bs {
		parts[i] = fmt.Sprintf("%.1f", float64(b)/(1<<20))
	}
	return strings.Join(parts, ", ") + " MB"
}
