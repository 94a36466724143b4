// Command ecs-keypair-mcp is an MCP server that lets AI assistants manage
// Alibaba Cloud ECS SSH key pairs, with a local emulator of the ECS API for
// trying it safely.
package main

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud/emulator"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/tools"
)

// sandboxSeed is the emulator's starting world: regions, resource groups,
// and Linux and Windows instances.
//
//go:embed testdata/seed.json
var sandboxSeed []byte

// version is set at build time with -ldflags "-X main.version=v1.2.3";
// otherwise the module version is used when there is one.
var version = ""

const usage = `ecs-keypair-mcp: manage Alibaba Cloud ECS SSH key pairs from an MCP client.

Usage:
  ecs-keypair-mcp [flags]                  serve MCP over stdio (what MCP clients run)
  ecs-keypair-mcp tools [flags]            print the tools (name, annotations, schemas) as JSON
  ecs-keypair-mcp call TOOL [JSON] [flags] run one tool once and print its result as JSON;
                                           exit status 1 when the tool reports an error
  ecs-keypair-mcp emulator [--listen ADDR] [--state-dir DIR]
                                           run the ECS API emulator standalone
  ecs-keypair-mcp version                  print the version

Flags (each also settable as ECS_KEYPAIR_MCP_<FLAG>, e.g. ECS_KEYPAIR_MCP_SANDBOX=true):
`

func main() {
	// Stdout belongs to the program's protocol output alone. Anything a
	// library prints to os.Stdout goes to stderr instead.
	out := os.Stdout
	os.Stdout = os.Stderr
	silenceSDKDebug()
	os.Exit(run(os.Args[1:], os.Stdin, out, os.Stderr))
}

// silenceSDKDebug discards the Alibaba Cloud SDK's debug output. With "sdk"
// in DEBUG, the SDK (which reads DEBUG once, at start-up) prints signed
// requests, security tokens and response bodies, private keys included, to
// os.Stdout: that must reach neither the protocol stream nor the logs. The
// server's own debug logging is --log-level debug.
func silenceSDKDebug() {
	if !cloud.SDKDebugEnabled() {
		return
	}
	parts := strings.Split(os.Getenv("DEBUG"), ",")
	if devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0); err == nil {
		os.Stdout = devNull
	}
	os.Setenv("DEBUG", strings.Join(slices.DeleteFunc(parts, func(p string) bool { return p == "sdk" }), ","))
	fmt.Fprintln(os.Stderr, "ecs-keypair-mcp: DEBUG=sdk is ignored: the SDK's debug output carries secrets; use --log-level debug")
}

// run executes one command line and returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "emulator":
			return runEmulator(args[1:], stdout, stderr)
		case "version", "--version", "-version":
			fmt.Fprintln(stdout, "ecs-keypair-mcp", buildVersion())
			return 0
		case "help", "--help", "-help", "-h":
			fs, _ := newServerFlags(io.Discard)
			fmt.Fprint(stdout, usage)
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return 0
		}
	}
	fs, cfg := newServerFlags(stderr)
	positional, err := parseInterleaved(fs, args)
	if err != nil {
		return 2
	}
	if err := applyEnvironment(fs); err != nil {
		fmt.Fprintf(stderr, "ecs-keypair-mcp: %v\n", err)
		return 2
	}
	command := ""
	if len(positional) > 0 {
		command, positional = positional[0], positional[1:]
	}
	switch command {
	case "":
		return runServe(cfg, stdin, stdout, stderr)
	case "tools":
		if len(positional) > 0 {
			fmt.Fprintf(stderr, "ecs-keypair-mcp tools: unexpected argument %q\n", positional[0])
			return 2
		}
		return runTools(cfg, stdout, stderr)
	case "call":
		return runCall(cfg, positional, stdout, stderr)
	default:
		fmt.Fprintf(stderr, "ecs-keypair-mcp: unknown command %q\n\n%s", command, usage)
		fs.PrintDefaults()
		return 2
	}
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "devel"
}

func loadSandboxSeed() (*emulator.Seed, error) {
	return emulator.ParseSeed(bytes.NewReader(sandboxSeed))
}

// runEmulator serves the emulator until SIGINT or SIGTERM.
func runEmulator(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("emulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:0", "`address` to listen on; port 0 picks a free port")
	stateDir := fs.String("state-dir", "", "keep the state in `dir` (shared safely with other processes); default: in memory")
	keyID := fs.String("access-key-id", "", "AccessKey `ID` to accept; default: random")
	keySecret := fs.String("access-key-secret", "", "AccessKey `secret` to accept; default: random")
	allowRemote := fs.Bool("allow-remote", false, "allow listening on a non-loopback address (anyone who can reach it and knows the credentials can use it)")
	logLevel := fs.String("log-level", "info", "log `level`: debug, info, warn or error (logs go to stderr)")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: ecs-keypair-mcp emulator [flags]\n\nRuns the ECS API emulator. The first line on stdout is a JSON object\n{\"endpoint\", \"accessKeyId\", \"accessKeySecret\"}; everything else goes to stderr.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "ecs-keypair-mcp emulator: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if (*keyID == "") != (*keySecret == "") {
		fmt.Fprintln(stderr, "ecs-keypair-mcp emulator: --access-key-id and --access-key-secret go together")
		return 2
	}
	level, err := parseLogLevel(*logLevel)
	if err != nil {
		fmt.Fprintf(stderr, "ecs-keypair-mcp emulator: --log-level: %v\n", err)
		return 2
	}
	loopback, err := isLoopback(*listen)
	if err != nil {
		fmt.Fprintf(stderr, "ecs-keypair-mcp emulator: --listen %q: %v\n", *listen, err)
		return 2
	}
	if !loopback && !*allowRemote {
		fmt.Fprintf(stderr, "ecs-keypair-mcp emulator: --listen %q is not a loopback address; add --allow-remote to serve it anyway\n", *listen)
		return 2
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	seed, err := loadSandboxSeed()
	if err != nil {
		fmt.Fprintf(stderr, "ecs-keypair-mcp emulator: built-in seed: %v\n", err)
		return 1
	}
	emu, err := emulator.New(emulator.Options{
		Seed:        seed,
		StateDir:    *stateDir,
		Credentials: emulator.Credentials{AccessKeyID: *keyID, AccessKeySecret: *keySecret},
		Logger:      logger,
	})
	if err != nil {
		fmt.Fprintf(stderr, "ecs-keypair-mcp emulator: %v\n", err)
		return 1
	}
	defer emu.Close()
	srv, err := emu.Start(*listen)
	if err != nil {
		fmt.Fprintf(stderr, "ecs-keypair-mcp emulator: %v\n", err)
		return 1
	}
	line, _ := json.Marshal(map[string]string{
		"endpoint":        srv.URL,
		"accessKeyId":     srv.Credentials.AccessKeyID,
		"accessKeySecret": srv.Credentials.AccessKeySecret,
	})
	fmt.Fprintf(stdout, "%s\n", line)
	if !loopback {
		fmt.Fprintf(stderr, "WARNING: the emulator is reachable from other machines at %s\n", srv.Host)
	}
	state := "in memory (lost on exit)"
	if *stateDir != "" {
		state = *stateDir
	}
	fmt.Fprintf(stderr, `ECS emulator (API 2014-05-26) listening on %s
  state:       %s
  credentials: the JSON line on stdout
  aliyun CLI:  aliyun configure set --profile ecs-emulator --mode AK --region cn-hangzhou \
                 --access-key-id %s --access-key-secret <accessKeySecret>
               aliyun ecs DescribeRegions --profile ecs-emulator --endpoint %s --insecure
  Go SDK:      client.Domain = %q (plain HTTP)
Press Ctrl-C to stop.
`, srv.URL, state, srv.Credentials.AccessKeyID, srv.Host, srv.Host)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		fmt.Fprintf(stderr, "ecs-keypair-mcp emulator: shutting down: %v\n", err)
		return 1
	}
	fmt.Fprintln(stderr, "ECS emulator stopped.")
	return 0
}

func parseLogLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("%q is not one of debug, info, warn, error", s)
	}
	return l, nil
}

// isLoopback reports whether a listen address only accepts connections from
// this machine. An empty host means every interface.
func isLoopback(addr string) (bool, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, err
	}
	return cloud.IsLoopback(host), nil
}

// serverConfig holds the flags of serve, tools and call.
type serverConfig struct {
	sandbox       bool
	stateDir      string
	readOnly      bool
	privateKeyDir string
	endpoint      string
	profile       string
	logLevel      string
	timeout       time.Duration
	// Least privilege and human approval.
	requireApproval bool
	regions         regionList
	auditLog        string
}

// regionList is the value of --regions: comma-separated region IDs.
type regionList []string

func (r *regionList) String() string { return strings.Join(*r, ",") }

func (r *regionList) Set(v string) error {
	*r = nil
	for _, id := range strings.Split(v, ",") {
		id = strings.TrimSpace(id)
		if id == "" {
			continue
		}
		if !schema.ValidRegionID(id) {
			return fmt.Errorf("%q is not a region ID: region IDs are %s", id, schema.RegionIDRule)
		}
		if !slices.Contains(*r, id) {
			*r = append(*r, id)
		}
	}
	if len(*r) == 0 {
		return errors.New("give at least one region ID, e.g. cn-hangzhou,cn-shanghai")
	}
	return nil
}

func newServerFlags(stderr io.Writer) (*flag.FlagSet, *serverConfig) {
	cfg := &serverConfig{timeout: tools.DefaultCallTimeout}
	fs := flag.NewFlagSet("ecs-keypair-mcp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&cfg.sandbox, "sandbox", false, "use the embedded ECS emulator on a loopback port instead of Alibaba Cloud")
	fs.StringVar(&cfg.stateDir, "state-dir", "", "sandbox state `dir` (default $XDG_STATE_HOME/ecs-keypair-mcp, else ~/.local/state/ecs-keypair-mcp)")
	fs.BoolVar(&cfg.readOnly, "read-only", false, "register only the read-only tools")
	fs.StringVar(&cfg.privateKeyDir, "private-key-dir", "", "`dir` where create_key_pair writes private keys (default ~/.ssh; with --sandbox, <state-dir>/private-keys)")
	fs.StringVar(&cfg.endpoint, "endpoint", "", "ECS endpoint `URL` override; https:// unless the host is loopback")
	fs.StringVar(&cfg.profile, "profile", "", "credentials profile `name` (aliyun CLI config or ~/.alibabacloud/credentials)")
	fs.BoolVar(&cfg.requireApproval, "require-approval", false, "destructive tools need a person's approval through elicitation; clients that cannot ask their user do not see them")
	fs.Var(&cfg.regions, "regions", "comma-separated region `IDs` the tools may act in; others are refused (default: all)")
	fs.StringVar(&cfg.auditLog, "audit-log", "", "append one JSON line per write attempt to `file` (default: off; with --sandbox, <state-dir>/audit.log)")
	fs.Var((*positiveDuration)(&cfg.timeout), "timeout", "bound each tool call to `duration` (e.g. 30s, 2m); retries and waits included")
	fs.StringVar(&cfg.logLevel, "log-level", "", "log `level`: debug, info, warn or error; logs go to stderr (default info; warn for call, whose stderr a person reads)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	return fs, cfg
}

// parseInterleaved parses flags wherever they stand among the positional
// arguments, so that "--sandbox call x" and "call x --sandbox" both work.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

// applyEnvironment gives every flag not set on the command line the value
// of ECS_KEYPAIR_MCP_<FLAG>, if that is set.
func applyEnvironment(fs *flag.FlagSet) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		name := "ECS_KEYPAIR_MCP_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(name); ok && !set[f.Name] && err == nil {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s=%q: %v", name, v, e)
			}
		}
	})
	return err
}

// backend is the cloud the tools talk to, and what to close afterwards.
type backend struct {
	deps  tools.Deps
	close func()
}

// newBackend builds the cloud client: the real one, or the embedded
// emulator with --sandbox.
func newBackend(cfg *serverConfig, logger *slog.Logger) (*backend, error) {
	keyDir, auditPath := cfg.privateKeyDir, cfg.auditLog
	b := &backend{close: func() {}}
	var cloudCfg cloud.Config
	if cfg.sandbox {
		if cfg.endpoint != "" || cfg.profile != "" {
			return nil, errors.New("--sandbox cannot be combined with --endpoint or --profile")
		}
		stateDir := cfg.stateDir
		if stateDir == "" {
			d, err := defaultStateDir()
			if err != nil {
				return nil, err
			}
			stateDir = d
		}
		if keyDir == "" {
			// Sandbox keys are throwaway: keep them out of ~/.ssh.
			keyDir = filepath.Join(stateDir, "private-keys")
		}
		if auditPath == "" {
			auditPath = filepath.Join(stateDir, "audit.log")
		}
		seed, err := loadSandboxSeed()
		if err != nil {
			return nil, fmt.Errorf("built-in seed: %w", err)
		}
		emu, err := emulator.New(emulator.Options{Seed: seed, StateDir: stateDir, Logger: logger.With("component", "sandbox")})
		if err != nil {
			return nil, fmt.Errorf("sandbox: %w", err)
		}
		srv, err := emu.Start("127.0.0.1:0")
		if err != nil {
			emu.Close()
			return nil, fmt.Errorf("sandbox: %w", err)
		}
		b.close = func() {
			srv.Close()
			emu.Close()
		}
		logger.Info("sandbox: the embedded ECS emulator is serving", "endpoint", srv.URL, "stateDir", stateDir)
		creds := srv.Credentials
		cloudCfg = cloud.Config{
			Endpoint:    srv.URL,
			Credentials: &cloud.StaticCredentials{AccessKeyID: creds.AccessKeyID, AccessKeySecret: creds.AccessKeySecret},
		}
	} else {
		if cfg.stateDir != "" {
			return nil, errors.New("--state-dir is for --sandbox only")
		}
		cloudCfg = cloud.Config{Endpoint: cfg.endpoint, Profile: cfg.profile}
	}
	if keyDir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			b.close()
			return nil, fmt.Errorf("no --private-key-dir given and no home directory for ~/.ssh: %w", err)
		}
		keyDir = filepath.Join(home, ".ssh")
	}
	keyDir, err := filepath.Abs(keyDir)
	if err != nil {
		b.close()
		return nil, err
	}
	cloudCfg.Logger = logger.With("component", "cloud")
	client, err := cloud.New(cloudCfg)
	if err != nil {
		b.close()
		return nil, err
	}
	b.deps = tools.Deps{Cloud: client, PrivateKeyDir: keyDir, Logger: logger.With("component", "tools"),
		Approver: tools.NewApprover(cfg.requireApproval), Regions: cfg.regions}
	if auditPath != "" {
		audit, err := tools.OpenAuditLog(auditPath)
		if err != nil {
			b.close()
			return nil, err
		}
		b.deps.Audit = audit
		closeRest := b.close
		b.close = func() { audit.Close(); closeRest() }
		logger.Info("recording write attempts", "auditLog", auditPath)
	}
	return b, nil
}

func defaultStateDir() (string, error) {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "ecs-keypair-mcp"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no --state-dir given and no home directory: %w", err)
	}
	return filepath.Join(home, ".local", "state", "ecs-keypair-mcp"), nil
}

const instructions = `Manage Alibaba Cloud ECS SSH key pairs. Key pairs and instances belong to one region: find region IDs with describe_regions.
To give SSH access: import_key_pair (an existing public key) or create_key_pair (the private key is written to a file on the server's machine, never returned), then attach_key_pair.
delete_key_pairs, attach_key_pair and detach_key_pair change nothing without confirm: true; they first return a preview. Show the preview to the user and confirm only with their agreement; where the client can, the user is then asked to approve directly, and a decline means stop.
Attaching replaces an instance's key pair and turns password login off; Running instances need a reboot for the change to take effect. A key pair attached to instances cannot be deleted until detached.`

func newMCPServer(deps tools.Deps, readOnly bool) *server.MCPServer {
	s := server.NewMCPServer("ecs-keypair-mcp", buildVersion(),
		server.WithToolCapabilities(false),
		server.WithRecovery(),
		server.WithInstructions(instructions),
	)
	tools.Register(s, deps, readOnly)
	return s
}

// newLogger logs to stderr at the --log-level, or at fallback when the
// flag was not given.
func newLogger(cfg *serverConfig, fallback string, stderr io.Writer) (*slog.Logger, error) {
	name := cfg.logLevel
	if name == "" {
		name = fallback
	}
	level, err := parseLogLevel(name)
	if err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})), nil
}

// runServe serves MCP over stdio until stdin closes or a signal arrives.
func runServe(cfg *serverConfig, stdin io.Reader, stdout, stderr io.Writer) int {
	logger, err := newLogger(cfg, "info", stderr)
	if err != nil {
		fmt.Fprintf(stderr, "ecs-keypair-mcp: %v\n", err)
		return 2
	}
	b, err := newBackend(cfg, logger)
	if err != nil {
		fmt.Fprintf(stderr, "ecs-keypair-mcp: %v\n", err)
		return 1
	}
	defer b.close()
	s := newMCPServer(b.deps, cfg.readOnly)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger.Info("serving MCP over stdio", "version", buildVersion(), "sandbox", cfg.sandbox, "readOnly", cfg.readOnly,
		"privateKeyDir", b.deps.PrivateKeyDir, "timeout", cfg.timeout)
	stdio := stdioConfig{callTimeout: cfg.timeout, errLog: log.New(stderr, "ecs-keypair-mcp: ", log.LstdFlags)}
	if err := serveStdio(ctx, s, stdin, stdout, stdio); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintf(stderr, "ecs-keypair-mcp: %v\n", err)
		return 1
	}
	return 0
}

// runTools prints the tool definitions as clients see them in tools/list.
func runTools(cfg *serverConfig, stdout, stderr io.Writer) int {
	var list []mcp.Tool
	for _, t := range tools.All(tools.Deps{Regions: cfg.regions}) {
		if cfg.readOnly && !t.ReadOnly() {
			continue
		}
		list = append(list, t.Definition)
	}
	out, err := json.MarshalIndent(map[string]any{"tools": list}, "", "  ")
	if err != nil {
		fmt.Fprintf(stderr, "ecs-keypair-mcp tools: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s\n", out)
	return 0
}

// runCall runs one tool through an in-process MCP client, the same path a
// real client's call takes, and prints the structured result.
func runCall(cfg *serverConfig, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || len(args) > 2 {
		fmt.Fprintln(stderr, "usage: ecs-keypair-mcp call TOOL [JSON-ARGUMENTS] [flags]")
		return 2
	}
	name, arguments := args[0], json.RawMessage("{}")
	if len(args) == 2 {
		arguments = json.RawMessage(args[1])
		var probe map[string]any
		if err := json.Unmarshal(arguments, &probe); err != nil {
			fmt.Fprintf(stderr, "ecs-keypair-mcp call: the arguments must be a JSON object: %v\n", err)
			return 2
		}
	}
	logger, err := newLogger(cfg, "warn", stderr)
	if err != nil {
		fmt.Fprintf(stderr, "ecs-keypair-mcp: %v\n", err)
		return 2
	}
	b, err := newBackend(cfg, logger)
	if err != nil {
		fmt.Fprintf(stderr, "ecs-keypair-mcp: %v\n", err)
		return 1
	}
	defer b.close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx = tools.WithCallTimeout(ctx, cfg.timeout)
	c, err := client.NewInProcessClient(newMCPServer(b.deps, cfg.readOnly))
	if err == nil {
		err = c.Start(ctx)
	}
	if err == nil {
		_, err = c.Initialize(ctx, mcp.InitializeRequest{})
	}
	if err != nil {
		fmt.Fprintf(stderr, "ecs-keypair-mcp call: %v\n", err)
		return 1
	}
	defer c.Close()
	req := mcp.CallToolRequest{}
	req.Params.Name = name
	req.Params.Arguments = arguments
	res, err := c.CallTool(ctx, req)
	if err != nil {
		fmt.Fprintf(stderr, "ecs-keypair-mcp call %s: %v\n", name, err)
		return 1
	}
	text := ""
	for _, content := range res.Content {
		if tc, ok := content.(mcp.TextContent); ok {
			text += tc.Text
		}
	}
	if res.IsError {
		fmt.Fprintln(stderr, text)
		return 1
	}
	out, err := json.MarshalIndent(res.StructuredContent, "", "  ")
	if err != nil {
		fmt.Fprintf(stderr, "ecs-keypair-mcp call: %v\n", err)
		return 1
	}
	// A summary line ahead of the JSON (previews, destructive results)
	// goes to stderr for the person; stdout carries the JSON alone.
	if summary, _, found := strings.Cut(text, "\n"); found {
		fmt.Fprintln(stderr, summary)
	}
	fmt.Fprintf(stdout, "%s\n", out)
	return 0
}
