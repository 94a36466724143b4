// Command ecs-keypair-mcp is an MCP server that lets AI assistants manage
// Alibaba Cloud ECS SSH key pairs, with a local emulator of the ECS API for
// trying it safely.
//
// The package's files each have one job: main.go dispatches a command line
// and turns its outcome into an exit status; flags.go parses flags and
// environment values and prints help; backend.go assembles the cloud the
// tools talk to; serve.go serves MCP and lists the tools; call.go runs one
// tool for a person; emulator_cmd.go runs the emulator standalone; stdio.go
// is the MCP stdio transport.
package main

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud"
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

func main() {
	// Stdout belongs to the program's protocol output alone. Anything a
	// library prints to os.Stdout goes to stderr instead.
	out := os.Stdout
	os.Stdout = os.Stderr
	silenceSDKDebug()
	c := &cli{stdin: os.Stdin, stdout: out, stderr: os.Stderr, env: os.LookupEnv, stderrIsTerminal: isTerminal(os.Stderr)}
	os.Exit(c.exit(run(c, os.Args[1:])))
}

// cli is what a command line runs with: its streams and its environment,
// passed in rather than read from globals, so that tests run commands in
// parallel.
type cli struct {
	stdin  io.Reader
	stdout io.Writer // the protocol, or a command's result: nothing else
	stderr io.Writer // messages, logs and progress for a person
	env    func(key string) (string, bool)
	// stderrIsTerminal says progress may rewrite one line in place.
	stderrIsTerminal bool
}

func (c *cli) getenv(key string) string {
	v, _ := c.env(key)
	return v
}

// silenceSDKDebug discards the Alibaba Cloud SDK's debug output. With "sdk"
// in DEBUG (cloud.SDKDebugEnabled), the SDK, which reads DEBUG once, at
// start-up, prints signed requests, security tokens and response bodies,
// private keys included, to os.Stdout: that must reach neither the
// protocol stream nor the logs. The server's own debug logging is
// --log-level debug.
func silenceSDKDebug() {
	if !cloud.SDKDebugEnabled() {
		return
	}
	if devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0); err == nil {
		os.Stdout = devNull
	}
	parts := strings.Split(os.Getenv("DEBUG"), ",")
	os.Setenv("DEBUG", strings.Join(slices.DeleteFunc(parts, func(p string) bool { return p == "sdk" }), ","))
	fmt.Fprintln(os.Stderr, "ecs-keypair-mcp: DEBUG=sdk is ignored: the SDK's debug output carries secrets; use --log-level debug")
}

// run executes one command line.
func run(c *cli, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "emulator":
			return runEmulator(c, args[1:])
		case "version", "--version", "-version":
			fmt.Fprintln(c.stdout, "ecs-keypair-mcp", buildVersion())
			return nil
		case "help":
			return runHelp(c, args[1:])
		}
	}
	cfg, flags := newServerFlags()
	positional, help, err := flags.parse(args)
	if err != nil {
		return err
	}
	if err := flags.applyEnvironment(c.env); err != nil {
		return err
	}
	command := ""
	if len(positional) > 0 {
		command, positional = positional[0], positional[1:]
	}
	switch command {
	case "":
		if help {
			flags.printHelp(c.stdout)
			return nil
		}
		return runServe(c, cfg)
	case "tools":
		if help {
			flags.printHelp(c.stdout)
			return nil
		}
		if len(positional) > 0 {
			return usagef("tools takes no arguments, got %q", positional[0])
		}
		return runTools(c, cfg)
	case "call":
		return runCall(c, cfg, positional, help)
	case "help":
		return runHelp(c, positional)
	case "emulator":
		return usagef("emulator comes first, before any flag: ecs-keypair-mcp emulator [flags]")
	}
	return usagef("unknown command %q: the commands are tools, call, emulator and version, or none to serve MCP over stdio", command)
}

// runHelp is "help [COMMAND]".
func runHelp(c *cli, args []string) error {
	switch {
	case len(args) == 0:
		_, flags := newServerFlags()
		flags.printHelp(c.stdout)
		return nil
	case args[0] == "emulator":
		return runEmulator(c, []string{"--help"})
	case args[0] == "call" || args[0] == "tools":
		return run(c, append(args, "--help"))
	}
	return usagef("no help for %q: the commands are tools, call, emulator and version", args[0])
}

// The exit status says how a command ended: 0 done, 1 failed (the tool
// reported an error, or the work could not be done), 2 called wrongly
// (flags, arguments, environment values). exit is the one place that picks
// it, and writes the error to stderr.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// usageError is a mistake in how the command was called.
type usageError struct {
	msg  string
	help string // the command whose --help explains, e.g. "ecs-keypair-mcp call"
}

func (e *usageError) Error() string { return e.msg }

// usagef is a usage error of the main command.
func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...), help: "ecs-keypair-mcp"}
}

// toolError is a tool's own error result: its text, phrased for the reader
// and starting with the error code, is written as it is.
type toolError struct{ text string }

func (e *toolError) Error() string { return e.text }

// exit writes err, if any, to stderr and returns the exit status.
func (c *cli) exit(err error) int {
	var ue *usageError
	var te *toolError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		// What is wrong, with the rule, and where to read more: one line,
		// unless it lists things (the tools there are).
		if strings.Contains(ue.msg, "\n") {
			fmt.Fprintf(c.stderr, "%s: %s\nSee %s --help.\n", ue.help, ue.msg, ue.help)
		} else {
			fmt.Fprintf(c.stderr, "%s: %s (see %s --help)\n", ue.help, ue.msg, ue.help)
		}
		return exitUsage
	case errors.As(err, &te):
		fmt.Fprintln(c.stderr, strings.TrimRight(te.text, "\n"))
		return exitFailure
	}
	fmt.Fprintf(c.stderr, "ecs-keypair-mcp: %v\n", err)
	return exitFailure
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

// isTerminal reports whether f is a terminal (a character device), where a
// line can be rewritten in place.
func isTerminal(f *os.File) bool {
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}
