package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// The README's commands, run as written: the quick start's first command,
// the "Try more" commands after it, and the walk-through, each with bash -c
// in a directory of its own where the built binary is ./ecs-keypair-mcp,
// with HOME (and XDG_STATE_HOME, as ~/.local/state) there too. A command
// fails the test when it exits non-zero or when its output lacks what the
// README shows. `go run .` and `go build -o ecs-keypair-mcp .` are the
// binary TestMain built: building it again per command would only be
// slower.

// readmeCommand is a command the README shows, with the output it shows.
type readmeCommand struct {
	line int      // in README.md
	cmd  string   // for bash -c
	want []string // the output lines shown after it; "..." stands for lines left out
}

// readmeLines returns README.md's lines, and the index of the line after
// heading.
func readmeLines(t *testing.T, heading string) ([]string, int) {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	i := slices.Index(lines, heading)
	if i < 0 {
		t.Fatalf("README.md has no %q heading", heading)
	}
	return lines, i + 1
}

// readmeSection is the text of README.md from heading to the next heading
// of the same level (or the end).
func readmeSection(t *testing.T, heading string) string {
	t.Helper()
	lines, i := readmeLines(t, heading)
	level := heading[:strings.Index(heading, " ")+1] // "## "
	end := i
	for end < len(lines) && !strings.HasPrefix(lines[end], level) {
		end++
	}
	section := strings.Join(lines[i-1:end], "\n")
	if end < len(lines) {
		section += "\n"
	}
	return section
}

// walkThrough returns the commands of README's walk-through: in its fenced
// blocks, each line starting with "$ " and the lines under it.
func walkThrough(t *testing.T) []readmeCommand {
	t.Helper()
	lines, i := readmeLines(t, "## Walk-through")
	var cmds []readmeCommand
	fenced := false
	for ; i < len(lines) && !strings.HasPrefix(lines[i], "## "); i++ {
		line := lines[i]
		switch {
		case strings.HasPrefix(line, "```"):
			fenced = !fenced
		case !fenced:
		case strings.HasPrefix(line, "$ "):
			cmds = append(cmds, readmeCommand{line: i + 1, cmd: strings.TrimPrefix(line, "$ ")})
		case len(cmds) == 0:
			t.Fatalf("README.md:%d: output before any $ command", i+1)
		default:
			cmds[len(cmds)-1].want = append(cmds[len(cmds)-1].want, line)
		}
	}
	if fenced {
		t.Fatal("README's walk-through has a fenced block that does not end")
	}
	return cmds
}

// quickStart returns the quick start's two blocks of indented commands:
// the first (the two commands), and the "Try more" one.
func quickStart(t *testing.T) (first, more []readmeCommand) {
	t.Helper()
	lines, i := readmeLines(t, "## Quick start")
	var blocks [][]readmeCommand
	inBlock := false
	for ; i < len(lines) && !strings.HasPrefix(lines[i], "## "); i++ {
		cmd, indented := strings.CutPrefix(lines[i], "    ")
		if !indented {
			inBlock = false
			continue
		}
		if !inBlock {
			blocks = append(blocks, nil)
			inBlock = true
		}
		blocks[len(blocks)-1] = append(blocks[len(blocks)-1], readmeCommand{line: i + 1, cmd: cmd})
	}
	if len(blocks) < 2 {
		t.Fatalf("README's quick start has %d blocks of commands, want the two commands and the ones to try next", len(blocks))
	}
	return blocks[0], blocks[1]
}

// readmeShell is a directory to run README commands in, as a new user
// would: the binary in it, a home of its own, no credentials.
type readmeShell struct {
	dir string
	env []string
}

func newReadmeShell(t *testing.T) *readmeShell {
	t.Helper()
	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	if err := os.Mkdir(home, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(binary, filepath.Join(dir, "ecs-keypair-mcp")); err != nil {
		t.Fatal(err)
	}
	// The home is in dir, beside the binary, rather than cleanEnv's own.
	return &readmeShell{dir: dir, env: cleanEnv(t,
		"HOME="+home,
		"XDG_STATE_HOME="+filepath.Join(home, ".local", "state"),
		"LC_ALL=C", // ls, sort and the like as the README shows them
	)}
}

// run runs one command with bash -c and returns what a terminal would
// show: stdout and stderr, interleaved as written.
func (sh *readmeShell) run(t *testing.T, c readmeCommand) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", c.cmd)
	cmd.Dir, cmd.Env = sh.dir, sh.env
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out // one pipe: the order is kept
	err := cmd.Run()
	if err != nil {
		if _, exited := err.(*exec.ExitError); !exited || ctx.Err() != nil {
			t.Fatalf("README.md:%d: %s: %v\n%s", c.line, c.cmd, err, out.String())
		}
	}
	return out.String(), cmd.ProcessState.ExitCode()
}

var (
	fingerprintRE = regexp.MustCompile(`\b[0-9a-f]{2}(:[0-9a-f]{2}){15}\b`)
	requestIDRE   = regexp.MustCompile(`\b[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}\b`)
)

// normalize replaces what differs from run to run, in the README and in
// the output alike: key fingerprints and request IDs.
func normalize(s string) string {
	s = fingerprintRE.ReplaceAllString(s, "<fingerprint>")
	return requestIDRE.ReplaceAllString(s, "<request-id>")
}

// missingLine returns the first line of want that out lacks, taking the
// lines in order: each must come after the one before. A line "..." stands
// for any lines; "..." within a line for any text.
func missingLine(want []string, out string) (string, bool) {
	got := strings.Split(normalize(out), "\n")
	at := 0
	for _, w := range want {
		if strings.TrimSpace(w) == "..." {
			continue
		}
		parts := strings.Split(normalize(w), "...")
		for i := range parts {
			parts[i] = regexp.QuoteMeta(parts[i])
		}
		re := regexp.MustCompile("^" + strings.Join(parts, ".*") + "$")
		for at < len(got) && !re.MatchString(got[at]) {
			at++
		}
		if at == len(got) {
			return w, true
		}
		at++
	}
	return "", false
}

// TestREADMEWalkThrough runs the walk-through's commands in order, on a
// fresh sandbox, and compares each one's output with the README's.
func TestREADMEWalkThrough(t *testing.T) {
	t.Parallel()
	cmds := walkThrough(t)
	// The steps the walk-through is there to show, so that it cannot lose
	// one and still pass.
	var all strings.Builder
	for _, c := range cmds {
		all.WriteString(c.cmd + "\n")
	}
	for _, step := range []string{
		"call describe_regions", "call describe_instances", "ssh-keygen -t ecdsa -N '' -f demo-key -q",
		"call import_key_pair", "$(cat demo-key.pub)",
		"call attach_key_pair", `"confirm":true`, "call reboot_instances", "call rotate_key_pair",
	} {
		if !strings.Contains(all.String(), step) {
			t.Errorf("the walk-through has no command with %s", step)
		}
	}
	if n := strings.Count(all.String(), "call attach_key_pair"); n < 2 {
		t.Errorf("the walk-through attaches %d times; want a preview, then the confirmed call", n)
	}
	if n := strings.Count(all.String(), "call rotate_key_pair"); n < 2 {
		t.Errorf("the walk-through rotates %d times; want the plan, then the confirmed call", n)
	}

	sh := newReadmeShell(t)
	for _, c := range cmds {
		out, code := sh.run(t, c)
		if code != 0 {
			t.Fatalf("README.md:%d: %s\nexit status %d:\n%s", c.line, c.cmd, code, out)
		}
		if line, missing := missingLine(c.want, out); missing {
			t.Fatalf("README.md:%d: %s\nthe output lacks the README's line\n%s\n(in order, after the lines before it); the output:\n%s", c.line, c.cmd, line, out)
		}
	}
}

// TestREADMEQuickStart runs the quick start's first command, and the ones
// to try next, as written.
func TestREADMEQuickStart(t *testing.T) {
	t.Parallel()
	first, more := quickStart(t)
	if len(first) != 2 {
		t.Errorf("the quick start has %d commands, want two", len(first))
	}
	run, ok := strings.CutPrefix(first[0].cmd, "go run . ")
	if !ok {
		t.Fatalf("README.md:%d: the quick start's first command %q is not `go run . ...`", first[0].line, first[0].cmd)
	}
	if !strings.HasPrefix(first[1].cmd, "go test -race ./...") {
		t.Errorf("README.md:%d: the quick start's second command %q is not the tests", first[1].line, first[1].cmd)
	}
	sh := newReadmeShell(t)
	out, code := sh.run(t, readmeCommand{line: first[0].line, cmd: "./ecs-keypair-mcp " + run})
	var regions struct{ Regions []struct{ RegionID string } }
	if code != 0 || json.Unmarshal([]byte(out), &regions) != nil ||
		!slices.ContainsFunc(regions.Regions, func(r struct{ RegionID string }) bool { return r.RegionID == "cn-hangzhou" }) {
		t.Fatalf("README.md:%d: %s: exit %d, output:\n%s", first[0].line, first[0].cmd, code, out)
	}

	// Try more: each runs as written, and prints its result as JSON.
	sh = newReadmeShell(t)
	ran := 0
	for _, c := range more {
		if c.cmd == "go build -o ecs-keypair-mcp ." {
			continue // the binary is there
		}
		out, code := sh.run(t, c)
		// A summary line may come first, on stderr.
		if i := strings.Index(out, "{"); code != 0 || i < 0 || !json.Valid([]byte(out[i:])) {
			t.Errorf("README.md:%d: %s: exit %d, output:\n%s", c.line, c.cmd, code, out)
		}
		ran++
	}
	if ran < 3 {
		t.Errorf("ran %d of the quick start's commands to try next; want describe_instances, create_key_pair and attach_key_pair", ran)
	}
}

// TestREADMEInstallAndTroubleshooting: what a newcomer trips over is
// written down. Install says where go install puts the binary and how to
// check a release archive, with the names .ci/release gives; the
// troubleshooting section covers credentials, PATH, cgo for -race, and
// clients that cannot elicit.
func TestREADMEInstallAndTroubleshooting(t *testing.T) {
	t.Parallel()
	module := goModule(t)
	release, err := os.ReadFile(".ci/release")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(release), "name=ecs-keypair-mcp_${version}_${os}_${arch}") {
		t.Error(".ci/release no longer names its files ecs-keypair-mcp_VERSION_OS_ARCH, as README's Install does")
	}
	for section, wants := range map[string][]string{
		"## Install": {
			"go install " + module + "@latest", "$(go env GOPATH)/bin", "~/go/bin", "PATH",
			"SHA256SUMS", "ecs-keypair-mcp_${VERSION}_${OS}_${ARCH}", "sha256sum -c", ".mcpb", "Claude Desktop",
		},
		"## Troubleshooting": {
			"MissingCredentials", "ALIBABA_CLOUD_ACCESS_KEY_ID", "--profile", "InvalidAccessKeyId.NotFound",
			"SignatureDoesNotMatch", "$(go env GOPATH)/bin", "-race requires cgo", "CGO_ENABLED=1",
			"go test ./...", "confirm: true", "--require-approval",
		},
	} {
		text := readmeSection(t, section)
		for _, want := range wants {
			if !strings.Contains(text, want) {
				t.Errorf("README's %s section does not mention %s", section, want)
			}
		}
	}
}
