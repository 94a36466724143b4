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
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud/emulator"
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
  ecs-keypair-mcp emulator [--listen ADDR] [--state-dir DIR] [--access-key-id ID --access-key-secret S]
                                         run the ECS API emulator standalone
  ecs-keypair-mcp version                print the version

Run 'ecs-keypair-mcp COMMAND --help' for a command's flags.
`

func main() {
	// Stdout belongs to the program's protocol output alone. Anything a
	// library prints to os.Stdout goes to stderr instead.
	out := os.Stdout
	os.Stdout = os.Stderr
	os.Exit(run(os.Args[1:], out, os.Stderr))
}

// run executes one command line and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "emulator":
		return runEmulator(args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "ecs-keypair-mcp", buildVersion())
		return 0
	case "help", "--help", "-help", "-h":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "ecs-keypair-mcp: unknown command %q\n\n%s", args[0], usage)
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
	if strings.EqualFold(host, "localhost") {
		return true, nil
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback(), nil
}
