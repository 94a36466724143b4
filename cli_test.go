package main

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud/emulator"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/tools"
)

// runCLI runs a command line in this process, as main does, with env as
// its whole environment beside an empty home and the ECS metadata probe
// off. Nothing is shared with other runs, so tests run it in parallel.
func runCLI(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	full := map[string]string{"HOME": t.TempDir(), "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true"}
	maps.Copy(full, env)
	var out, errOut strings.Builder
	c := &cli{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut,
		env: func(k string) (string, bool) { v, ok := full[k]; return v, ok }}
	code = c.exit(run(c, args))
	return out.String(), errOut.String(), code
}

// A usage error is exit status 2 and one line on stderr that names the
// flag (or variable, or argument) and the rule, then where help is.
func TestUsageErrors(t *testing.T) {
	t.Parallel()
	const seeHelp = " (see ecs-keypair-mcp --help)\n"
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string // the whole of stderr, or with a "..." its start
	}{
		{"duration", nil, []string{"--timeout", "abc", "tools"},
			`ecs-keypair-mcp: --timeout="abc": not a duration; use a number with a unit, e.g. 30s, 2m or 1h30m` + seeHelp},
		{"duration with =", nil, []string{"tools", "--timeout=0s"},
			`ecs-keypair-mcp: --timeout="0s": not above zero; use a duration such as 30s or 2m` + seeHelp},
		{"missing value", nil, []string{"--timeout"},
			`ecs-keypair-mcp: --timeout needs a value: --timeout DURATION` + seeHelp},
		{"boolean", nil, []string{"--read-only=yes", "tools"},
			`ecs-keypair-mcp: --read-only="yes": not a boolean; use true or false (also 1/0)` + seeHelp},
		{"log level", nil, []string{"--log-level", "loud", "tools"},
			`ecs-keypair-mcp: --log-level="loud": not a log level; use debug, info, warn or error` + seeHelp},
		{"regions", nil, []string{"--regions=cn-hangzhou,ABC", "tools"},
			`ecs-keypair-mcp: --regions="cn-hangzhou,ABC": "ABC" is not a region ID: region IDs are ` + schema.RegionIDRule + seeHelp},
		{"misspelt flag", nil, []string{"--sandbx", "call", "describe_regions"},
			`ecs-keypair-mcp: unknown flag --sandbx: did you mean --sandbox?` + seeHelp},
		{"unknown flag", nil, []string{"--frobnicate"}, `ecs-keypair-mcp: unknown flag --frobnicate` + seeHelp},
		{"Go's single dash works, and is checked alike", nil, []string{"-timeout", "x"}, `ecs-keypair-mcp: --timeout="x": not a duration...`},
		{"unknown command", nil, []string{"serve"}, `ecs-keypair-mcp: unknown command "serve": the commands are tools, call, emulator and version...`},
		{"emulator after a flag", nil, []string{"--sandbox", "emulator"}, `ecs-keypair-mcp: emulator comes first...`},
		{"tools takes nothing", nil, []string{"tools", "extra"}, `ecs-keypair-mcp: tools takes no arguments, got "extra"` + seeHelp},
		{"sandbox and endpoint", nil, []string{"--sandbox", "--endpoint", "http://127.0.0.1:1", "call", "describe_regions"},
			`ecs-keypair-mcp: --sandbox cannot be combined with --endpoint or --profile...`},
		{"approval timeout past an approval's lifetime", nil, []string{"--approval-timeout", "20m", "tools"},
			`ecs-keypair-mcp: --approval-timeout="20m": over 10m, an approval's lifetime; use 10m or less` + seeHelp},
		{"seed that is not there", nil, []string{"--sandbox", "--state-dir", "/tmp/x", "--seed", "/no/such/seed.json", "call", "describe_regions"},
			`ecs-keypair-mcp: --seed: emulator seed: open /no/such/seed.json: no such file or directory` + seeHelp},
		{"state dir without sandbox", nil, []string{"--state-dir", "/tmp/x", "call", "describe_regions"},
			`ecs-keypair-mcp: --state-dir and --seed are for --sandbox only` + seeHelp},
		{"plain http to the internet", nil, []string{"--endpoint", "http://ecs.example.com", "call", "describe_regions"},
			`ecs-keypair-mcp: cloud: endpoint "http://ecs.example.com": plain http:// is only allowed for a loopback host...`},

		// Environment values: the variable, the value, the rule.
		{"env boolean", map[string]string{"ECS_KEYPAIR_MCP_READ_ONLY": "yes"}, []string{"tools"},
			`ecs-keypair-mcp: ECS_KEYPAIR_MCP_READ_ONLY="yes": not a boolean; use true or false (also 1/0)` + seeHelp},
		{"env boolean, sandbox", map[string]string{"ECS_KEYPAIR_MCP_SANDBOX": "on"}, []string{"tools"},
			`ecs-keypair-mcp: ECS_KEYPAIR_MCP_SANDBOX="on": not a boolean; use true or false (also 1/0)` + seeHelp},
		{"env duration", map[string]string{"ECS_KEYPAIR_MCP_TIMEOUT": "soon"}, []string{"tools"},
			`ecs-keypair-mcp: ECS_KEYPAIR_MCP_TIMEOUT="soon": not a duration; use a number with a unit, e.g. 30s, 2m or 1h30m` + seeHelp},
		{"env log level", map[string]string{"ECS_KEYPAIR_MCP_LOG_LEVEL": "verbose"}, []string{"tools"},
			`ecs-keypair-mcp: ECS_KEYPAIR_MCP_LOG_LEVEL="verbose": not a log level; use debug, info, warn or error` + seeHelp},
		{"env regions", map[string]string{"ECS_KEYPAIR_MCP_REGIONS": "Mars"}, []string{"tools"},
			`ecs-keypair-mcp: ECS_KEYPAIR_MCP_REGIONS="Mars": "Mars" is not a region ID...`},

		// call's own.
		{"call without a tool", nil, []string{"call"},
			`ecs-keypair-mcp call: give the tool to run: ecs-keypair-mcp call TOOL [JSON-ARGUMENTS]; the tools: ` +
				strings.Join(toolNames(func(tools.Tool) bool { return true }), ", ") + ` (see ecs-keypair-mcp call --help)` + "\n"},
		{"call with arguments that are not an object", nil, []string{"call", "describe_regions", "[1]"},
			`ecs-keypair-mcp call describe_regions: the arguments of describe_regions must be one JSON object, e.g. '{"regionId":"cn-hangzhou"}' (see ecs-keypair-mcp call describe_regions --help)` + "\n"},
		{"call with unquoted JSON", nil, []string{"call", "describe_instances", `{"regionId":`, `"cn-hangzhou"}`},
			`ecs-keypair-mcp call: unexpected argument "\"cn-hangzhou\"}": give the arguments as one JSON object, quoted for the shell...`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			stdout, stderr, code := runCLI(t, tc.env, tc.args...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d", code, exitUsage)
			}
			if prefix, ok := strings.CutSuffix(tc.want, "..."); ok {
				if !strings.HasPrefix(stderr, prefix) {
					t.Errorf("stderr\n%q\nwant it to start\n%q", stderr, prefix)
				}
			} else if stderr != tc.want {
				t.Errorf("stderr\n%q\nwant\n%q", stderr, tc.want)
			}
			if strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "--help)") {
				t.Errorf("not one line ending with where help is: %q", stderr)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
		})
	}
}

// A tool the flags hide, called by name, is refused by the server with the
// reason and an audit line, as for any client; call exits with status 1.
func TestCallOfAHiddenTool(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		flag, tool, args, want string
	}{
		{"--read-only", "create_key_pair", `{"regionId":"cn-hangzhou","keyPairName":"demo"}`,
			"Forbidden.ReadOnly: create_key_pair is hidden: this server runs with --read-only"},
		{"--require-approval", "delete_key_pairs", `{"regionId":"cn-hangzhou","keyPairNames":["demo"],"confirm":true}`,
			"ApprovalRequired: this server requires a person's approval for delete_key_pairs (--require-approval)"},
	} {
		t.Run(tc.flag, func(t *testing.T) {
			t.Parallel()
			state := t.TempDir()
			stdout, stderr, code := runCLI(t, nil, "--sandbox", "--state-dir", state, tc.flag, "call", tc.tool, tc.args)
			if code != exitFailure || stdout != "" || !strings.HasPrefix(stderr, tc.want) {
				t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
			}
			audit, err := os.ReadFile(filepath.Join(state, "audit.log"))
			if err != nil || !strings.Contains(string(audit), `"tool":"`+tc.tool+`"`) || !strings.Contains(string(audit), `"executed":false`) {
				t.Errorf("audit log %q, %v", audit, err)
			}
		})
	}
}

// The command line wins over the environment, which is then not read for
// that flag (an invalid value there is no error).
func TestCommandLineWinsOverEnvironment(t *testing.T) {
	t.Parallel()
	out, stderr, code := runCLI(t, map[string]string{"ECS_KEYPAIR_MCP_READ_ONLY": "yes"}, "--read-only=false", "tools")
	if code != 0 || !strings.Contains(out, `"delete_key_pairs"`) {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	out, _, code = runCLI(t, map[string]string{"ECS_KEYPAIR_MCP_READ_ONLY": "1"}, "tools")
	if code != 0 || strings.Contains(out, `"delete_key_pairs"`) {
		t.Errorf("ECS_KEYPAIR_MCP_READ_ONLY=1: exit %d, the write tools listed: %v", code, strings.Contains(out, `"delete_key_pairs"`))
	}
}

// Help speaks as the README does: --flag, every flag the README lists, and
// exit status 0.
func TestHelp(t *testing.T) {
	t.Parallel()
	documented := readmeFlags(t)
	goStyle := regexp.MustCompile(`(?m)^\s+-[a-z]`)
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}, {"tools", "--help"}, {"--sandbox", "--help"}} {
		out, stderr, code := runCLI(t, nil, args...)
		if code != 0 || stderr != "" {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr)
		}
		if goStyle.MatchString(out) {
			t.Errorf("%v lists flags the way Go's flag package does (-flag):\n%s", args, out)
		}
		for _, name := range slices.Sorted(maps.Keys(documented)) {
			if !regexp.MustCompile(`(?m)^  --` + regexp.QuoteMeta(name) + `\b`).MatchString(out) {
				t.Errorf("%v: README's --%s is not in the help", args, name)
			}
		}
		listed := regexp.MustCompile(`(?m)^  --([a-z-]+)`).FindAllStringSubmatch(out, -1)
		for _, f := range listed {
			if _, ok := documented[f[1]]; !ok {
				t.Errorf("%v: --%s is in the help but not in README's Flags section", args, f[1])
			}
		}
		if !strings.Contains(out, "Exit status: 0") {
			t.Errorf("%v: the help does not say the exit statuses", args)
		}
	}
	for _, args := range [][]string{{"emulator", "--help"}, {"help", "emulator"}} {
		out, stderr, code := runCLI(t, nil, args...)
		if code != 0 || stderr != "" || !strings.Contains(out, "\n  --listen ADDR ") || goStyle.MatchString(out) {
			t.Errorf("%v: exit %d, stderr %q, stdout:\n%s", args, code, stderr, out)
		}
	}
}

// call --help lists every tool; with --read-only or --require-approval it
// marks the hidden ones and says why.
func TestCallHelpListsTools(t *testing.T) {
	t.Parallel()
	out, stderr, code := runCLI(t, nil, "call", "--help")
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	for _, tool := range tools.All(tools.Deps{}) {
		line := regexp.MustCompile(`(?m)^  ` + tool.Definition.Name + ` +(read-only|write|destructive) +` + regexp.QuoteMeta(tool.Definition.Title) + `$`)
		if !line.MatchString(out) {
			t.Errorf("no line for %s:\n%s", tool.Definition.Name, out)
		}
	}
	if strings.Contains(out, "hidden") {
		t.Errorf("tools marked hidden without a flag that hides them:\n%s", out)
	}
	out, _, code = runCLI(t, nil, "--read-only", "call", "--help")
	if code != 0 || !regexp.MustCompile(`(?m)^  delete_key_pairs .*\[hidden by --read-only\]$`).MatchString(out) ||
		!strings.Contains(out, "Hidden by --read-only: create_key_pair, import_key_pair, delete_key_pairs") {
		t.Errorf("--read-only call --help: exit %d:\n%s", code, out)
	}
	out, _, code = runCLI(t, nil, "--require-approval", "call", "-h")
	if code != 0 || !regexp.MustCompile(`(?m)^  attach_key_pair .*\[hidden by --require-approval\]$`).MatchString(out) ||
		regexp.MustCompile(`(?m)^  create_key_pair .*hidden`).MatchString(out) || !strings.Contains(out, "elicitation") {
		t.Errorf("--require-approval call --help: exit %d:\n%s", code, out)
	}
}

// call TOOL --help says the tool's description and every argument of the
// schema tools/list shows: its type, whether it is required, its rules.
func TestToolHelpFromSchemas(t *testing.T) {
	t.Parallel()
	words := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	for _, tool := range tools.All(tools.Deps{}) {
		t.Run(tool.Definition.Name, func(t *testing.T) {
			t.Parallel()
			out, stderr, code := runCLI(t, nil, "call", tool.Definition.Name, "--help")
			if code != 0 || stderr != "" {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			if !strings.Contains(words(out), words(tool.Definition.Description)) {
				t.Errorf("the description is not all there:\n%s", out)
			}
			args, err := schema.Arguments(tool.Definition.RawInputSchema)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range args {
				req := "optional"
				if a.Required {
					req = "required"
				}
				head := strings.Join(append([]string{a.Type, req}, a.Rules...), "; ")
				if !strings.Contains(out, "\n  "+a.Name+": "+head+"\n") {
					t.Errorf("no line %q:\n%s", a.Name+": "+head, out)
				}
				if !strings.Contains(words(out), words(a.Description)) {
					t.Errorf("%s: the description %q is not there", a.Name, a.Description)
				}
			}
		})
	}
	// In words, for the arguments people get wrong.
	out, _, _ := runCLI(t, nil, "call", "delete_key_pairs", "--help")
	for _, want := range []string{
		"  keyPairNames: array of strings; required; 1 to 500 items\n",
		"  confirm: boolean; optional\n",
		"  regionId: string; required; 1 to 64 characters; matching the pattern " + schema.RegionIDPattern + "\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("delete_key_pairs --help lacks %q:\n%s", want, out)
		}
	}
	out, _, _ = runCLI(t, nil, "call", "describe_key_pairs", "--help")
	if !strings.Contains(out, "  pageSize: integer; optional; 1 to 50\n") || !strings.Contains(out, "\n      key: string; required; 1 to 128 characters\n") {
		t.Errorf("describe_key_pairs --help:\n%s", out)
	}
	out, _, _ = runCLI(t, nil, "call", "describe_regions", "--help")
	if !strings.Contains(out, "Arguments: none.") {
		t.Errorf("describe_regions --help:\n%s", out)
	}
	// A hidden tool's help says it is hidden, and why.
	out, _, code := runCLI(t, nil, "--read-only", "call", "attach_key_pair", "--help")
	if code != 0 || !strings.Contains(out, "Hidden by --read-only: it registers only the read-only tools.") {
		t.Errorf("--read-only call attach_key_pair --help: exit %d:\n%s", code, out)
	}
	// --regions shows in the schema, and so in the help.
	out, _, _ = runCLI(t, nil, "--regions", "cn-shanghai", "call", "create_key_pair", "--help")
	if !strings.Contains(out, "  regionId: string; required; 1 to 64 characters; one of: cn-shanghai\n") {
		t.Errorf("--regions cn-shanghai call create_key_pair --help:\n%s", out)
	}
}

// toolNames lists the names of the tools that keep says to, in order.
func toolNames(keep func(tools.Tool) bool) []string {
	var names []string
	for _, t := range tools.All(tools.Deps{}) {
		if keep(t) {
			names = append(names, t.Definition.Name)
		}
	}
	return names
}

// An unknown tool name gets the list of tools, and which are hidden, by
// which flag, and why.
func TestUnknownTool(t *testing.T) {
	t.Parallel()
	_, stderr, code := runCLI(t, nil, "--read-only", "call", "delete_keypairs")
	want := `ecs-keypair-mcp call: no tool is called "delete_keypairs"; did you mean delete_key_pairs?
the tools: ` + strings.Join(toolNames(tools.Tool.ReadOnly), ", ") + `
hidden by --read-only: ` + strings.Join(toolNames(func(t tools.Tool) bool { return !t.ReadOnly() }), ", ") + ` (it registers only the read-only tools)
See ecs-keypair-mcp call --help.
`
	if code != exitUsage || stderr != want {
		t.Errorf("exit %d, stderr\n%s\nwant\n%s", code, stderr, want)
	}
	_, stderr, code = runCLI(t, nil, "--require-approval", "call", "frobnicate")
	visible := toolNames(func(t tools.Tool) bool { return t.Kind != tools.KindDestructive })
	hidden := toolNames(func(t tools.Tool) bool { return t.Kind == tools.KindDestructive })
	if code != exitUsage || strings.Contains(stderr, "did you mean") || !slices.Contains(hidden, "delete_key_pairs") ||
		!strings.Contains(stderr, "\nthe tools: "+strings.Join(visible, ", ")+"\n") ||
		!strings.Contains(stderr, "\nhidden by --require-approval: "+strings.Join(hidden, ", ")+" (destructive tools then need a person's approval, which call cannot ask for") {
		t.Errorf("exit %d, stderr\n%s", code, stderr)
	}
}

// TestCatalogMatchesServer: what call says is hidden is what the server
// call talks to hides.
func TestCatalogMatchesServer(t *testing.T) {
	t.Parallel()
	for _, readOnly := range []bool{false, true} {
		for _, requireApproval := range []bool{false, true} {
			cfg := &serverConfig{readOnly: readOnly, requireApproval: requireApproval}
			want := newCatalog(cfg).names(false)
			slices.Sort(want)
			deps := tools.Deps{Approver: tools.NewApprover(requireApproval)}
			mc, err := client.NewInProcessClient(newMCPServer(deps, readOnly))
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if err := mc.Start(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := mc.Initialize(ctx, mcp.InitializeRequest{}); err != nil {
				t.Fatal(err)
			}
			res, err := mc.ListTools(ctx, mcp.ListToolsRequest{})
			if err != nil {
				t.Fatal(err)
			}
			mc.Close()
			var got []string
			for _, tool := range res.Tools {
				got = append(got, tool.Name)
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("--read-only=%v --require-approval=%v: the server lists %v, call says %v", readOnly, requireApproval, got, want)
			}
		}
	}
}

// A state directory that cannot be used gets an error that names it, the
// problem and the fix.
func TestStateDirAdvice(t *testing.T) {
	t.Parallel()
	const how = "--state-dir (or ECS_KEYPAIR_MCP_STATE_DIR)"
	dir := "/srv/state"
	for _, tc := range []struct {
		cause error
		want  []string
	}{
		{&fs.PathError{Op: "open", Path: dir + "/lock", Err: syscall.EACCES},
			[]string{"the state directory /srv/state cannot be used: this user may not write there (permission denied)", "choose another directory with " + how, "chmod u+rwx /srv/state", "open /srv/state/lock"}},
		{&fs.PathError{Op: "mkdir", Path: dir, Err: syscall.EROFS},
			[]string{"it is on a read-only file system", "choose a writable directory with " + how}},
		{&fs.PathError{Op: "mkdir", Path: dir, Err: syscall.ENOTDIR},
			[]string{"is a file", "choose a directory with " + how}},
	} {
		err := stateDirError(dir, how, tc.cause)
		for _, want := range tc.want {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%v: %q lacks %q", tc.cause, err, want)
			}
		}
		if !errors.Is(err, tc.cause.(*fs.PathError).Err) {
			t.Errorf("%v: the cause is lost", tc.cause)
		}
	}
	other := errors.New("emulator state /x/state.json: invalid JSON; fix or remove the file")
	if err := stateDirError(dir, how, other); err != other {
		t.Errorf("another error became %v", err)
	}

	// The real thing: a directory this user may not write.
	unwritable := filepath.Join(t.TempDir(), "state")
	switch {
	case os.Geteuid() != 0:
		if err := os.Mkdir(unwritable, 0o500); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(unwritable, 0o700) })
	case runtime.GOOS == "linux":
		unwritable = "/sys/ecs-keypair-mcp-test-state" // root may not create anything in sysfs either
	default:
		t.Skip("running as root, with no directory root cannot write")
	}
	_, stderr, code := runCLI(t, nil, "--sandbox", "--state-dir", unwritable, "call", "describe_regions")
	if code != exitFailure || !strings.Contains(stderr, "the state directory "+unwritable+" cannot be used: this user may not write there (permission denied)") ||
		!strings.Contains(stderr, "choose another directory with --state-dir") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

// A long call shows its progress on stderr, from the progress
// notifications an MCP client would get; stdout is the JSON result alone.
func TestCallProgress(t *testing.T) {
	t.Parallel()
	state := t.TempDir()
	seed, err := emulator.LoadSeed(filepath.Join("testdata", "seed.json"))
	if err != nil {
		t.Fatal(err)
	}
	emu, err := emulator.New(emulator.Options{Seed: seed, StateDir: state})
	if err != nil {
		t.Fatal(err)
	}
	const keyPairs = 120 // three pages of 50
	if _, _, err := emu.Populate("cn-hangzhou", keyPairs, 0); err != nil {
		t.Fatal(err)
	}
	if err := emu.Close(); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runBinary(t, cleanEnv(t), "--sandbox", "--state-dir", state, "call", "describe_key_pairs", `{"regionId":"cn-hangzhou"}`)
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	dec := json.NewDecoder(strings.NewReader(stdout))
	var res struct {
		TotalCount int               `json:"totalCount"`
		KeyPairs   []json.RawMessage `json:"keyPairs"`
	}
	if err := dec.Decode(&res); err != nil || dec.More() || res.TotalCount != keyPairs || len(res.KeyPairs) != keyPairs {
		t.Fatalf("stdout is not the result alone (%v, %d of %d key pairs):\n%s", err, len(res.KeyPairs), res.TotalCount, stdout)
	}
	// One line per page (not a terminal), each the message of a progress
	// notification (the tools' wording: the action, the requests done of
	// the operation's total), and nothing else.
	lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	page := regexp.MustCompile(`^DescribeKeyPairs\b[^\r\n]*: (\d+) of 3 requests done$`)
	if len(lines) != 3 || strings.Contains(stderr, "\r") {
		t.Fatalf("stderr, want 3 progress lines:\n%q", stderr)
	}
	for i, line := range lines {
		if m := page.FindStringSubmatch(line); m == nil || m[1] != strconv.Itoa(i+1) {
			t.Errorf("stderr line %d %q, want the progress of page %d of 3", i+1, line, i+1)
		}
	}
}

// On a terminal the progress is one line, rewritten in place, finished
// with a newline before what follows.
func TestProgressLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		rewrite bool
		want    string
	}{
		{true, "\rA: 1 of 2 requests done\x1b[K\rA: 2 of 2 requests done\x1b[K\rB  x\x1b[K\n"},
		{false, "A: 1 of 2 requests done\nA: 2 of 2 requests done\nB  x\n"},
	} {
		var b strings.Builder
		p := &progressLine{w: &b, rewrite: tc.rewrite}
		for _, msg := range []string{"A: 1 of 2 requests done", "A: 2 of 2 requests done", "B\r\nx"} {
			p.notify("notifications/progress", map[string]any{"progressToken": "call", "progress": 1, "message": msg})
		}
		p.notify("notifications/message", map[string]any{"message": "not progress"})
		p.end()
		p.end() // once is enough
		if b.String() != tc.want {
			t.Errorf("rewrite %v: wrote %q, want %q", tc.rewrite, b.String(), tc.want)
		}
	}
}
