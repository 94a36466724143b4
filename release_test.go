package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/tools"
)

// What is released, and how clients install it, agrees with the README and
// with the code: the license, the version in every file that states one,
// the MCP Bundle's manifest.json and the MCP Registry's server.json.

const (
	registryName   = "io.github.ecs-keypair-mcp/ecs-keypair-mcp"
	registrySchema = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"
)

// readmeFlag is a row of README's Flags table: `--name PLACEHOLDER`.
type readmeFlag struct {
	name        string // without the dashes
	placeholder string // "" for a boolean flag
}

// readmeFlags are the flags README's Flags table lists, by name.
func readmeFlags(t *testing.T) map[string]readmeFlag {
	t.Helper()
	rows := regexp.MustCompile("(?m)^\\| `--([a-z-]+)(?: ([^`]+))?` \\|").FindAllStringSubmatch(readmeSection(t, "## Flags"), -1)
	if len(rows) < 10 {
		t.Fatalf("found %d flags in README's Flags table", len(rows))
	}
	flags := map[string]readmeFlag{}
	for _, r := range rows {
		flags[r[1]] = readmeFlag{name: r[1], placeholder: r[2]}
	}
	return flags
}

// releaseVersion is the version CHANGELOG.md's newest release section
// names: "## [1.0.0] - unreleased" or "## [1.0.0] - 2026-01-31".
func releaseVersion(t *testing.T) string {
	t.Helper()
	changelog, err := os.ReadFile("CHANGELOG.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^## \[(\d+\.\d+\.\d+[^\]]*)\] - (unreleased|\d{4}-\d{2}-\d{2})$`).FindSubmatch(changelog)
	if m == nil {
		t.Fatal(`CHANGELOG.md has no release section "## [X.Y.Z] - unreleased" or "## [X.Y.Z] - YYYY-MM-DD"`)
	}
	return string(m[1])
}

// requireServerReads fails the test unless the server reads key, an
// ECS_KEYPAIR_MCP_<FLAG> variable. Set to a value its flag refuses, key
// makes the command line fail with exit status 2 and a message that names
// it. A flag that takes any text (a name, a path) refuses nothing, so its
// variable is given a value whose effect shows instead (stringFlagProbes).
func requireServerReads(t *testing.T, key string) {
	t.Helper()
	suffix, ok := strings.CutPrefix(key, "ECS_KEYPAIR_MCP_")
	name := strings.ToLower(strings.ReplaceAll(suffix, "_", "-"))
	_, flags := newServerFlags()
	fl := flags.fs.Lookup(name)
	if !ok || fl == nil {
		t.Errorf("%s: the server has no flag --%s", key, name)
		return
	}
	const refused = "maybe"
	if fl.Value.Set(refused) != nil {
		_, stderr, code := runCLI(t, map[string]string{key: refused}, "tools")
		if code != exitUsage || !strings.Contains(stderr, key+`="`+refused+`"`) {
			t.Errorf("%s=%s: exit %d, stderr %q; want exit 2 and a message that names %s", key, refused, code, stderr, key)
		}
		return
	}
	probe, ok := stringFlagProbes[name]
	if !ok {
		t.Errorf("%s: --%s takes any text, and no probe checks that the server reads the variable: add one to stringFlagProbes", key, name)
		return
	}
	value, want := probe(t)
	_, stderr, code := runCLI(t, map[string]string{key: value}, "call", "describe_regions")
	if code != exitFailure || !strings.Contains(stderr, want) {
		t.Errorf("%s=%s, call describe_regions: exit %d, stderr %q; want exit 1 and %q", key, value, code, stderr, want)
	}
}

// stringFlagProbes give, for a flag that takes any text, a value that
// makes call describe_regions fail (without the sandbox, before any
// request) and what stderr then says about it.
var stringFlagProbes = map[string]func(t *testing.T) (value, want string){
	// A profile nobody has: no credentials for it.
	"profile": func(t *testing.T) (string, string) {
		return "probe-profile", `profile "probe-profile"`
	},
	// An audit log under a regular file cannot be opened.
	"audit-log": func(t *testing.T) (string, string) {
		file := filepath.Join(t.TempDir(), "file")
		if err := os.WriteFile(file, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(file, "audit.log")
		return path, "audit log: open " + path
	},
}

// goModule is go.mod's module path.
func goModule(t *testing.T) string {
	t.Helper()
	goMod, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^module (\S+)$`).FindSubmatch(goMod)
	if m == nil {
		t.Fatal("go.mod has no module line")
	}
	return string(m[1])
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func TestLicense(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("LICENSE")
	if err != nil {
		t.Fatal(err)
	}
	license := string(b)
	for _, want := range []string{
		"Apache License\n                           Version 2.0, January 2004",
		"TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION",
		"END OF TERMS AND CONDITIONS",
		"Copyright 2026 The ecs-keypair-mcp Authors",
	} {
		if !strings.Contains(license, want) {
			t.Errorf("LICENSE lacks %q", want)
		}
	}
	// The standard text, whole: its nine sections.
	for i := 1; i <= 9; i++ {
		if !regexp.MustCompile(fmt.Sprintf(`(?m)^   %d\. [A-Z]`, i)).MatchString(license) {
			t.Errorf("LICENSE lacks section %d", i)
		}
	}
}

// serverJSON is the part of the MCP Registry's server.json format
// (2025-12-11) that server.json uses; unknown fields fail the test.
type serverJSON struct {
	Schema      string `json:"$schema"`
	Name        string `json:"name"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Repository  struct {
		URL    string `json:"url"`
		Source string `json:"source"`
	} `json:"repository"`
	WebsiteURL string `json:"websiteUrl"`
	Version    string `json:"version"`
	Packages   []struct {
		RegistryType string `json:"registryType"`
		Identifier   string `json:"identifier"`
		Version      string `json:"version"`
		Transport    struct {
			Type string `json:"type"`
		} `json:"transport"`
		PackageArguments     []registryInput `json:"packageArguments"`
		EnvironmentVariables []registryInput `json:"environmentVariables"`
	} `json:"packages"`
}

type registryInput struct {
	Type        string   `json:"type"` // "named" for an argument
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Format      string   `json:"format"`
	IsSecret    bool     `json:"isSecret"`
	Default     string   `json:"default"`
	Placeholder string   `json:"placeholder"`
	Choices     []string `json:"choices"`
}

// TestServerJSON holds server.json to README's Flags table: every flag is
// there once, as a named argument when it takes a value, as its
// ECS_KEYPAIR_MCP_<FLAG> variable when it is a boolean (a client writes
// a named argument as "--flag value", and "--sandbox true" would read
// "true" as a command); every variable is one the README names.
func TestServerJSON(t *testing.T) {
	t.Parallel()
	var s serverJSON
	readJSON(t, "server.json", &s)
	if s.Schema != registrySchema || s.Name != registryName {
		t.Errorf("$schema %q, name %q; want %q, %q", s.Schema, s.Name, registrySchema, registryName)
	}
	if n := len([]rune(s.Description)); n == 0 || n > 100 {
		t.Errorf("description of %d characters; the registry takes 1 to 100", n)
	}
	if v := releaseVersion(t); s.Version != v {
		t.Errorf("server.json's version is %q, CHANGELOG's release %q", s.Version, v)
	}
	if len(s.Packages) != 1 {
		t.Fatalf("%d packages, want the Go module alone", len(s.Packages))
	}
	p := s.Packages[0]
	module := goModule(t)
	if p.RegistryType != "go" || p.Identifier != module || p.Version != "v"+s.Version || p.Transport.Type != "stdio" {
		t.Errorf("package %s %s %s over %s; want go %s v%s over stdio", p.RegistryType, p.Identifier, p.Version, p.Transport.Type, module, s.Version)
	}

	flags := readmeFlags(t)
	seen := map[string]string{} // flag -> where server.json has it
	note := func(flag, where string) {
		if prev, dup := seen[flag]; dup {
			t.Errorf("--%s is in server.json twice: %s and %s", flag, prev, where)
		}
		seen[flag] = where
	}
	for _, a := range p.PackageArguments {
		name := strings.TrimPrefix(a.Name, "--")
		f, ok := flags[name]
		switch {
		case a.Type != "named" || !strings.HasPrefix(a.Name, "--"):
			t.Errorf("argument %q (%s): want a named --flag", a.Name, a.Type)
			continue
		case !ok:
			t.Errorf("argument %s is not in README's Flags table", a.Name)
			continue
		case f.placeholder == "":
			t.Errorf("argument %s: a boolean flag; give it as ECS_KEYPAIR_MCP_%s in environmentVariables", a.Name, strings.ToUpper(strings.ReplaceAll(name, "-", "_")))
		case (f.placeholder == "FILE" || f.placeholder == "DIR") != (a.Format == "filepath"):
			t.Errorf("argument %s: format %q, README's placeholder %s", a.Name, a.Format, f.placeholder)
		case a.Description == "":
			t.Errorf("argument %s has no description", a.Name)
		}
		note(name, "argument "+a.Name)
		// Its default and choices are values the flag takes.
		for _, v := range append([]string{a.Default}, a.Choices...) {
			if v == "" {
				continue
			}
			if _, errOut, code := runCLI(t, nil, a.Name, v, "tools"); code != 0 {
				t.Errorf("argument %s %s: exit %d, %s", a.Name, v, code, errOut)
			}
		}
	}
	credentials := readmeSection(t, "## Credentials")
	for _, e := range p.EnvironmentVariables {
		if e.Description == "" {
			t.Errorf("variable %s has no description", e.Name)
		}
		if strings.HasPrefix(e.Name, "ALIBABA_CLOUD_") {
			if !strings.Contains(credentials, "`"+e.Name+"`") {
				t.Errorf("variable %s is not in README's Credentials section", e.Name)
			}
			if !e.IsSecret {
				t.Errorf("variable %s: a credential, but not isSecret", e.Name)
			}
			continue
		}
		suffix, ok := strings.CutPrefix(e.Name, "ECS_KEYPAIR_MCP_")
		name := strings.ToLower(strings.ReplaceAll(suffix, "_", "-"))
		f, inREADME := flags[name]
		switch {
		case !ok:
			t.Errorf("variable %s is neither ECS_KEYPAIR_MCP_<FLAG> nor a credential", e.Name)
			continue
		case !inREADME:
			t.Errorf("variable %s: README's Flags table has no --%s", e.Name, name)
			continue
		case envName(name) != e.Name:
			t.Errorf("variable %s: the server reads --%s from %s", e.Name, name, envName(name))
		case (f.placeholder == "") != (e.Format == "boolean"):
			t.Errorf("variable %s: format %q, README's --%s %s", e.Name, e.Format, name, f.placeholder)
		}
		note(name, "variable "+e.Name)
		requireServerReads(t, e.Name)
		for _, v := range []string{e.Default, "true", "false"} {
			if v == "" || e.Format != "boolean" {
				continue
			}
			if _, errOut, code := runCLI(t, map[string]string{e.Name: v}, "tools"); code != 0 {
				t.Errorf("%s=%s: exit %d, %s", e.Name, v, code, errOut)
			}
		}
	}
	for name := range flags {
		if _, ok := seen[name]; !ok {
			t.Errorf("README's --%s is not in server.json (an argument, or for a boolean its variable)", name)
		}
	}
}

// mcpbManifest is the part of the MCP Bundle manifest (0.3) that
// manifest.json uses; unknown fields fail the test.
type mcpbManifest struct {
	ManifestVersion string `json:"manifest_version"`
	Name            string `json:"name"`
	DisplayName     string `json:"display_name"`
	Version         string `json:"version"`
	Description     string `json:"description"`
	LongDescription string `json:"long_description"`
	Author          struct {
		Name string `json:"name"`
		URL  string `json:"url"`
	} `json:"author"`
	Repository struct {
		Type string `json:"type"`
		URL  string `json:"url"`
	} `json:"repository"`
	Homepage      string   `json:"homepage"`
	Documentation string   `json:"documentation"`
	Support       string   `json:"support"`
	License       string   `json:"license"`
	Keywords      []string `json:"keywords"`
	Server        struct {
		Type       string     `json:"type"`
		EntryPoint string     `json:"entry_point"`
		MCPConfig  mcpbConfig `json:"mcp_config"`
	} `json:"server"`
	Tools []struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	} `json:"tools"`
	Compatibility struct {
		Platforms []string `json:"platforms"`
	} `json:"compatibility"`
	UserConfig map[string]struct {
		Type        string `json:"type"`
		Title       string `json:"title"`
		Description string `json:"description"`
		Sensitive   bool   `json:"sensitive"`
		Required    bool   `json:"required"`
		Default     any    `json:"default"`
	} `json:"user_config"`
}

type mcpbConfig struct {
	Command          string                `json:"command"`
	Args             []string              `json:"args"`
	Env              map[string]string     `json:"env"`
	PlatformOverride map[string]mcpbConfig `json:"platform_overrides"`
}

// TestBundleManifest checks manifest.json against the code (the tools,
// the flags' variables) and runs the server as Claude Desktop would from
// the installed bundle: the manifest's command, arguments and environment,
// with the user's settings put in (${user_config.*}, ${__dirname}).
func TestBundleManifest(t *testing.T) {
	t.Parallel()
	var m mcpbManifest
	readJSON(t, "manifest.json", &m)
	if v := releaseVersion(t); m.Version != v {
		t.Errorf("manifest.json's version is %q, CHANGELOG's release %q", m.Version, v)
	}
	if m.ManifestVersion != "0.3" || m.Name != "ecs-keypair-mcp" || m.License != "Apache-2.0" {
		t.Errorf("manifest_version %q, name %q, license %q", m.ManifestVersion, m.Name, m.License)
	}
	cfg := m.Server.MCPConfig
	if m.Server.Type != "binary" || m.Server.EntryPoint != "server/ecs-keypair-mcp" ||
		cfg.Command != "${__dirname}/server/ecs-keypair-mcp" ||
		cfg.PlatformOverride["win32"].Command != "${__dirname}/server/ecs-keypair-mcp.exe" {
		t.Errorf("server %+v", m.Server)
	}
	if !slices.Equal(m.Compatibility.Platforms, []string{"darwin", "win32", "linux"}) {
		t.Errorf("platforms %v", m.Compatibility.Platforms)
	}

	var names []string
	for _, tool := range tools.All(tools.Deps{}) {
		names = append(names, tool.Definition.Name)
	}
	var listed []string
	for _, tool := range m.Tools {
		listed = append(listed, tool.Name)
		if tool.Description == "" || len(tool.Description) > 100 {
			t.Errorf("tool %s: a description of %d characters; give one line", tool.Name, len(tool.Description))
		}
	}
	if !slices.Equal(listed, names) {
		t.Errorf("manifest.json lists the tools\n%v\nthe server has\n%v", listed, names)
	}

	// Every variable is a credential or a flag's; every setting is used,
	// and has a default, so that an unset one becomes "" (the host leaves
	// a ${user_config.x} without a value as it is).
	_, flags := newServerFlags()
	used := map[string]bool{}
	for key, value := range cfg.Env {
		if suffix, ok := strings.CutPrefix(key, "ECS_KEYPAIR_MCP_"); ok {
			if name := strings.ToLower(strings.ReplaceAll(suffix, "_", "-")); flags.fs.Lookup(name) == nil || envName(name) != key {
				t.Errorf("env %s: no flag reads it", key)
			}
			requireServerReads(t, key)
		} else if key != "ALIBABA_CLOUD_ACCESS_KEY_ID" && key != "ALIBABA_CLOUD_ACCESS_KEY_SECRET" {
			t.Errorf("env %s: neither a credential nor ECS_KEYPAIR_MCP_<FLAG>", key)
		}
		for _, ref := range regexp.MustCompile(`\$\{user_config\.([a-z_]+)\}`).FindAllStringSubmatch(value, -1) {
			used[ref[1]] = true
			if _, ok := m.UserConfig[ref[1]]; !ok {
				t.Errorf("env %s uses user_config.%s, which is not defined", key, ref[1])
			}
		}
	}
	for key, uc := range m.UserConfig {
		if !used[key] {
			t.Errorf("user_config.%s is not used", key)
		}
		switch uc.Type {
		case "boolean":
			if uc.Default != false {
				t.Errorf("user_config.%s: default %v; a setting starts off", key, uc.Default)
			}
		case "string":
			if uc.Default != "" {
				t.Errorf("user_config.%s: default %v; want \"\"", key, uc.Default)
			}
		default:
			t.Errorf("user_config.%s: type %s", key, uc.Type)
		}
		if secret := strings.HasPrefix(key, "access_key_"); uc.Sensitive != secret || uc.Required {
			t.Errorf("user_config.%s: sensitive %v, required %v", key, uc.Sensitive, uc.Required)
		}
	}

	// Installed: the bundle's directory holds server/ecs-keypair-mcp.
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "server"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(binary, filepath.Join(dir, "server", "ecs-keypair-mcp")); err != nil {
		t.Fatal(err)
	}
	host := func(settings map[string]any) *exec.Cmd {
		values := map[string]string{"__dirname": dir}
		for key, uc := range m.UserConfig {
			v := uc.Default
			if s, ok := settings[key]; ok {
				v = s
			}
			values["user_config."+key] = fmt.Sprint(v) // booleans as "true"/"false"
		}
		expand := func(s string) string {
			return regexp.MustCompile(`\$\{([^}]+)\}`).ReplaceAllStringFunc(s, func(ref string) string {
				if v, ok := values[ref[2:len(ref)-1]]; ok {
					return v
				}
				return ref
			})
		}
		var args []string
		for _, a := range cfg.Args {
			args = append(args, expand(a))
		}
		cmd := exec.Command(expand(cfg.Command), args...)
		home := t.TempDir()
		cmd.Env = cleanEnv(t, "HOME="+home, "XDG_STATE_HOME="+filepath.Join(home, "state"))
		for key, value := range cfg.Env {
			cmd.Env = append(cmd.Env, key+"="+expand(value))
		}
		return cmd
	}
	for _, tc := range []struct {
		name      string
		settings  map[string]any
		tools     int
		wantError string // describe_regions's error, or "" for success
	}{
		{"as installed: the real cloud, no credentials yet", nil, 10, "MissingCredentials: "},
		{"sandbox", map[string]any{"sandbox": true}, 10, ""},
		{"sandbox, read-only", map[string]any{"sandbox": true, "read_only": true}, 3, ""},
		{"sandbox, approval required", map[string]any{"sandbox": true, "require_approval": true}, 5, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := stdioExchange(t, host(tc.settings),
				`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bundle-test","version":"0"}}}`,
				`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
				`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`,
				`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"describe_regions","arguments":{}}}`)
			var list struct {
				Result struct{ Tools []struct{ Name string } }
			}
			json.Unmarshal(got[2], &list)
			if len(list.Result.Tools) != tc.tools {
				t.Errorf("tools/list: %d tools, want %d: %s", len(list.Result.Tools), tc.tools, got[2])
			}
			var call struct {
				Result struct {
					IsError bool
					Content []struct{ Text string }
				}
			}
			json.Unmarshal(got[3], &call)
			text := ""
			if len(call.Result.Content) > 0 {
				text = call.Result.Content[0].Text
			}
			if call.Result.IsError != (tc.wantError != "") || !strings.HasPrefix(text, tc.wantError) {
				t.Errorf("describe_regions: %s", got[3])
			}
		})
	}
}

// stdioExchange starts cmd as an MCP client does, sends the lines, and
// returns the responses by ID once every request has one; then it closes
// stdin and waits for the server to exit with status 0.
func stdioExchange(t *testing.T, cmd *exec.Cmd, lines ...string) map[int]json.RawMessage {
	t.Helper()
	p := startProcess(t, cmd)
	requests := 0
	for _, line := range lines {
		if strings.Contains(line, `"id":`) {
			requests++
		}
		p.send(line)
	}
	got := map[int]json.RawMessage{}
	for len(got) < requests {
		m := p.next()
		if id, ok := m["id"].(float64); ok {
			raw, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			got[int(id)] = raw
		}
	}
	p.stdin.Close()
	if _, code := p.exit(60 * time.Second); code != 0 {
		t.Fatalf("exit %d after %d answers; stderr:\n%s", code, len(got), p.stderr.String())
	}
	return got
}
