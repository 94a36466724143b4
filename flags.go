package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/tools"
)

// serverConfig holds the flags of serve, tools and call.
type serverConfig struct {
	sandbox       bool
	stateDir      string
	readOnly      bool
	privateKeyDir string
	endpoint      string
	profile       string
	logLevel      string // "" until given: each command has its own default
	timeout       time.Duration
	// seed is the sandbox's starting world ("" for the built-in one).
	seed string
	// Least privilege and human approval.
	requireApproval bool
	approvalTimeout time.Duration
	regions         regionList
	auditLog        string
}

const serverUsage = `ecs-keypair-mcp: manage Alibaba Cloud ECS SSH key pairs from an MCP client.

Usage:
  ecs-keypair-mcp [flags]                  serve MCP over stdio (what MCP clients run)
  ecs-keypair-mcp tools [flags]            print the tools (name, annotations, schemas) as JSON
  ecs-keypair-mcp call TOOL [JSON] [flags] run one tool once and print its result as JSON;
                                           exit status 1 when the tool reports an error
  ecs-keypair-mcp call --help              list the tools; call TOOL --help describes one
  ecs-keypair-mcp emulator [flags]         run the ECS API emulator standalone (emulator --help)
  ecs-keypair-mcp version                  print the version

Flags may stand anywhere among the arguments, as --flag, --flag=value or --flag value.
Each is also settable as ECS_KEYPAIR_MCP_<FLAG> (e.g. ECS_KEYPAIR_MCP_SANDBOX=true);
the command line wins.

Flags:
`

const exitStatusHelp = `
Exit status: 0 done; 1 failed, or the tool reported an error; 2 called wrongly.
`

func newServerFlags() (*serverConfig, *flagSet) {
	cfg := &serverConfig{timeout: tools.DefaultCallTimeout, approvalTimeout: tools.DefaultApprovalTimeout}
	f := newFlagSet("ecs-keypair-mcp", serverUsage)
	f.boolVar(&cfg.sandbox, "sandbox", "use the embedded ECS emulator on a loopback port instead of Alibaba Cloud")
	f.stringVar(&cfg.stateDir, "state-dir", "DIR", "sandbox state (default $XDG_STATE_HOME/ecs-keypair-mcp, else ~/.local/state/ecs-keypair-mcp)")
	f.stringVar(&cfg.seed, "seed", "FILE", "the world a new sandbox state starts from: regions, resource groups, instances, as JSON (default: the built-in one)")
	f.boolVar(&cfg.readOnly, "read-only", "register only the read-only tools")
	f.stringVar(&cfg.privateKeyDir, "private-key-dir", "DIR", "where create_key_pair writes private keys (default ~/.ssh; with --sandbox, <state-dir>/private-keys)")
	f.stringVar(&cfg.endpoint, "endpoint", "URL", "ECS endpoint override; https:// unless the host is loopback")
	f.stringVar(&cfg.profile, "profile", "NAME", "credentials profile (aliyun CLI config or ~/.alibabacloud/credentials)")
	f.boolVar(&cfg.requireApproval, "require-approval", "destructive tools need a person's approval through elicitation; clients that cannot ask their user do not see them")
	f.value(approvalTimeoutValue{&cfg.approvalTimeout}, "approval-timeout", "DURATION",
		fmt.Sprintf("bound the wait for a person's answer to an approval (default %s, at most %s)", minutes(tools.DefaultApprovalTimeout), minutes(tools.ApprovalTTL)))
	f.value(&cfg.regions, "regions", "IDS", "comma-separated region IDs the tools may act in; others are refused (default: all)")
	f.stringVar(&cfg.auditLog, "audit-log", "FILE", "append one JSON line per write attempt (default off; with --sandbox, <state-dir>/audit.log)")
	f.value(durationValue{&cfg.timeout}, "timeout", "DURATION",
		fmt.Sprintf("bound each tool call, retries and waits included (default %s)", seconds(tools.DefaultCallTimeout)))
	f.value(logLevelValue{&cfg.logLevel}, "log-level", "LEVEL", "debug, info, warn or error; logs go to stderr (default info; warn for call)")
	f.trailer = exitStatusHelp
	return cfg, f
}

// flagSet is a command's flags, parsed as the README writes them: --flag,
// --flag=value or --flag value, anywhere among the positional arguments,
// so that "--sandbox call x" and "call x --sandbox" both work. A mistake is
// one line that names the flag and its rule.
type flagSet struct {
	command string // for messages: "ecs-keypair-mcp", "ecs-keypair-mcp emulator"
	usage   string
	trailer string // help after the flags
	fs      *flag.FlagSet
	args    map[string]string // flag name -> its value's placeholder in help ("" for booleans)
	order   []string          // in the order help lists them
}

func newFlagSet(command, usage string) *flagSet {
	fs := flag.NewFlagSet(command, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // parse reports its own errors
	return &flagSet{command: command, usage: usage, fs: fs, args: map[string]string{}}
}

func (f *flagSet) value(v flag.Value, name, arg, usage string) {
	f.fs.Var(v, name, usage)
	f.args[name] = arg
	f.order = append(f.order, name)
}

func (f *flagSet) boolVar(p *bool, name, usage string) { f.value(boolValue{p}, name, "", usage) }

func (f *flagSet) stringVar(p *string, name, arg, usage string) {
	f.value((*stringValue)(p), name, arg, usage)
}

// usagef is a usage error of this command.
func (f *flagSet) usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...), help: f.command}
}

// parse sets the flags in args and returns the other arguments, and whether
// --help (or -h) was among them. "--" ends the flags.
func (f *flagSet) parse(args []string) (positional []string, help bool, err error) {
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			return append(positional, args[i+1:]...), help, nil
		}
		if len(arg) < 2 || arg[0] != '-' {
			positional = append(positional, arg)
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		if name == "h" || name == "help" {
			help = true
			continue
		}
		fl := f.fs.Lookup(name)
		if fl == nil {
			return nil, help, f.unknown(name)
		}
		if b, ok := fl.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			if !hasValue {
				value = "true"
			}
		} else if !hasValue {
			if i+1 == len(args) {
				return nil, help, f.usagef("--%s needs a value: --%s %s", name, name, f.args[name])
			}
			i++
			value = args[i]
		}
		if err := f.fs.Set(name, value); err != nil {
			return nil, help, f.usagef("--%s=%q: %v", name, value, err)
		}
	}
	return positional, help, nil
}

// unknown says a flag does not exist, and which one may have been meant.
func (f *flagSet) unknown(name string) error {
	if best := closest(name, f.order); best != "" {
		return f.usagef("unknown flag --%s: did you mean --%s?", name, best)
	}
	return f.usagef("unknown flag --%s", name)
}

// applyEnvironment gives every flag not set on the command line the value
// of ECS_KEYPAIR_MCP_<FLAG> (upper case, '-' as '_'), if that is set. Only
// the main command's flags are read from the environment; the emulator's
// are not.
func (f *flagSet) applyEnvironment(env func(string) (string, bool)) error {
	set := map[string]bool{}
	f.fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	for _, name := range f.order {
		key := envName(name)
		if v, ok := env(key); ok && !set[name] {
			if err := f.fs.Set(name, v); err != nil {
				return f.usagef("%s=%q: %v", key, v, err)
			}
		}
	}
	return nil
}

func envName(flagName string) string {
	return "ECS_KEYPAIR_MCP_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// printHelp writes the command's usage and its flags as --flag.
func (f *flagSet) printHelp(w io.Writer) {
	fmt.Fprint(w, f.usage)
	width := 0
	heads := make([]string, len(f.order))
	for i, name := range f.order {
		heads[i] = "--" + name
		if a := f.args[name]; a != "" {
			heads[i] += " " + a
		}
		width = max(width, len(heads[i]))
	}
	for i, name := range f.order {
		fmt.Fprintf(w, "  %-*s  %s\n", width, heads[i], f.fs.Lookup(name).Usage)
	}
	fmt.Fprint(w, f.trailer)
}

// seconds writes a whole number of seconds as the README does: 60s, not 1m0s.
func seconds(d time.Duration) string {
	if d%time.Second != 0 {
		return d.String()
	}
	return strconv.FormatInt(int64(d/time.Second), 10) + "s"
}

// minutes writes a whole number of minutes as the flag takes it, "5m";
// anything else as seconds.
func minutes(d time.Duration) string {
	if d%time.Minute != 0 {
		return seconds(d)
	}
	return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
}

// closest is the candidate name was likely meant to be, for "did you
// mean": one within an edit distance of 3, or of 4 when it starts with
// name, the nearest; on a tie, the last that starts with name, else the
// first. "" when none is that near.
func closest(name string, candidates []string) string {
	best, bestDist := "", 4
	for _, c := range candidates {
		if d := editDistance(name, c); d < bestDist || strings.HasPrefix(c, name) && d <= bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance, for "did you mean".
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// Flag values. Each Set error is the rule in words, with what to give
// instead; parse and applyEnvironment put the flag (or the variable) and
// the value in front.

type boolValue struct{ p *bool }

func (b boolValue) String() string {
	if b.p == nil {
		return "false"
	}
	return strconv.FormatBool(*b.p)
}

func (b boolValue) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return errors.New("not a boolean; use true or false (also 1/0)")
	}
	*b.p = v
	return nil
}

func (b boolValue) IsBoolFlag() bool { return true }

type stringValue string

func (s *stringValue) String() string { return string(*s) }

func (s *stringValue) Set(v string) error {
	*s = stringValue(v)
	return nil
}

// durationValue is a duration above zero.
type durationValue struct{ p *time.Duration }

func (d durationValue) String() string {
	if d.p == nil {
		return ""
	}
	return d.p.String()
}

func (d durationValue) Set(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil {
		return errors.New("not a duration; use a number with a unit, e.g. 30s, 2m or 1h30m")
	}
	if v <= 0 {
		return errors.New("not above zero; use a duration such as 30s or 2m")
	}
	*d.p = v
	return nil
}

// approvalTimeoutValue is a duration above zero and within an approval's
// lifetime.
type approvalTimeoutValue struct{ p *time.Duration }

func (a approvalTimeoutValue) String() string { return durationValue(a).String() }

func (a approvalTimeoutValue) Set(s string) error {
	var d time.Duration
	if err := (durationValue{&d}).Set(s); err != nil {
		return err
	}
	if d > tools.ApprovalTTL {
		return fmt.Errorf("over %s, an approval's lifetime; use %s or less", minutes(tools.ApprovalTTL), minutes(tools.ApprovalTTL))
	}
	*a.p = d
	return nil
}

// logLevels are the accepted --log-level values.
var logLevels = []string{"debug", "info", "warn", "error"}

type logLevelValue struct{ p *string }

func (l logLevelValue) String() string {
	if l.p == nil {
		return ""
	}
	return *l.p
}

func (l logLevelValue) Set(s string) error {
	if !slices.Contains(logLevels, strings.ToLower(s)) {
		return fmt.Errorf("not a log level; use %s", strings.Join(logLevels[:len(logLevels)-1], ", ")+" or "+logLevels[len(logLevels)-1])
	}
	*l.p = strings.ToLower(s)
	return nil
}

// parseLogLevel reads a level that logLevelValue accepted ("" is fallback).
func parseLogLevel(name, fallback string) slog.Level {
	if name == "" {
		name = fallback
	}
	var l slog.Level
	_ = l.UnmarshalText([]byte(name)) // one of logLevels
	return l
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
