package tools_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/tools"
)

// person stands in for the user behind an MCP client: it answers every
// elicitation with a fixed action and form content, and remembers what it
// was shown.
type person struct {
	action  mcp.ElicitationResponseAction
	content map[string]any
	// before runs while the person reads, before they answer; delay is how
	// long they take; fail, when set, is the client's failure to ask.
	before func()
	delay  time.Duration
	fail   error

	mu    sync.Mutex
	shown []string
	// answered gets one value each time the person has answered.
	answered chan struct{}
}

func (p *person) Elicit(_ context.Context, req mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
	p.mu.Lock()
	p.shown = append(p.shown, req.Params.Message)
	p.mu.Unlock()
	if p.fail != nil {
		return nil, p.fail
	}
	if p.before != nil {
		p.before()
	}
	if p.delay > 0 {
		time.Sleep(p.delay) // a person takes their time, whatever the server does meanwhile
	}
	if p.answered != nil {
		defer func() { p.answered <- struct{}{} }()
	}
	res := &mcp.ElicitationResult{}
	res.Action = p.action
	if p.action == mcp.ElicitationResponseActionAccept {
		res.Content = p.content
	}
	return res, nil
}

func (p *person) asked() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.shown)
}

// protocols are the two generations of elicitation: input requests in the
// tool result (2026-07-28), and server-initiated elicitation/create.
var protocols = []struct{ name, version string }{
	{"input requests", "2026-07-28"},
	{"elicitation/create", "2025-11-25"},
}

func approvalHarness(t *testing.T, version string, p *person, required bool, auditPath string) *harness {
	opts := []client.ClientOption{client.WithProtocolVersion(version)}
	if p != nil {
		opts = append(opts, client.WithElicitationHandler(p))
	}
	approver := tools.NewApprover(required)
	h := newHarnessWith(t, harnessOptions{
		deps: func(d *tools.Deps) {
			d.Approver = approver
			if auditPath != "" {
				d.Audit = openAudit(t, auditPath)
			}
		},
		clientOptions: opts,
	})
	if got := h.client.ProtocolVersion(); got != version {
		t.Fatalf("the client speaks %s, want %s", got, version)
	}
	h.approver = approver
	return h
}

func (h *harness) importKey(region, name string) {
	h.t.Helper()
	ok[schema.ImportKeyPairOutput](h, "import_key_pair", map[string]any{"regionId": region, "keyPairName": name, "publicKeyBody": fixture(h.t, "ecdsa256.pub")})
}

func (h *harness) keyPairNames() []string {
	var names []string
	for _, k := range h.snapshot().KeyPairs {
		names = append(names, k.KeyPairName)
	}
	return names
}

func TestApprovalOfDeletes(t *testing.T) {
	t.Parallel()
	accept := func(typed string) *person {
		return &person{action: mcp.ElicitationResponseActionAccept, content: map[string]any{"confirmation": typed}}
	}
	for _, proto := range protocols {
		for _, tc := range []struct {
			name    string
			person  *person
			names   []string
			code    string // error code, "" for a result
			text    string // the result text's start
			deleted bool
		}{
			{"accept with the typed name", accept("old-1"), []string{"old-1"}, "", "Deleted 1 of 1", true},
			{"accept with the typed count", accept("2"), []string{"old-1", "old-2"}, "", "Deleted 2 of 2", true},
			{"typed name does not match", accept("old-2"), []string{"old-1"}, "ApprovalMismatch", "", false},
			{"typed nothing", accept(""), []string{"old-1"}, "ApprovalMismatch", "", false},
			{"decline", &person{action: mcp.ElicitationResponseActionDecline}, []string{"old-1"}, "", "Not executed: the user declined", false},
			{"cancel", &person{action: mcp.ElicitationResponseActionCancel}, []string{"old-1"}, "", "Not executed: the user cancelled", false},
		} {
			t.Run(proto.name+"/"+tc.name, func(t *testing.T) {
				h := approvalHarness(t, proto.version, tc.person, false, "")
				h.importKey("cn-hangzhou", "old-1")
				h.importKey("cn-hangzhou", "old-2")
				before := h.snapshot()
				args := map[string]any{"regionId": "cn-hangzhou", "keyPairNames": tc.names, "confirm": true}
				if tc.code != "" {
					h.fails("delete_key_pairs", args, tc.code)
				} else {
					out, text := ok[schema.DeleteKeyPairsOutput](h, "delete_key_pairs", args)
					if !strings.HasPrefix(text, tc.text) || out.Executed != tc.deleted {
						t.Errorf("result executed=%v text %q, want %q...", out.Executed, text, tc.text)
					}
				}
				shown := tc.person.asked()
				if len(shown) != 1 || !strings.Contains(shown[0], "in region cn-hangzhou") ||
					!strings.Contains(shown[0], `- "old-1": would_delete (fingerprint `+md5Fixture(t, "ecdsa256.md5")+", attached to no instance)") {
					t.Fatalf("the person was shown %q, want the preview once", shown)
				}
				left := h.keyPairNames()
				switch {
				case tc.deleted && slices.ContainsFunc(left, func(n string) bool { return slices.Contains(tc.names, n) }):
					t.Errorf("approved, but still there: %v", left)
				case !tc.deleted && !reflect.DeepEqual(before, h.snapshot()):
					t.Errorf("not approved, but the cloud changed: %v", left)
				}
			})
		}
	}
}

func TestApprovalOfAttachShowsThePreview(t *testing.T) {
	t.Parallel()
	for _, proto := range protocols {
		t.Run(proto.name, func(t *testing.T) {
			p := &person{action: mcp.ElicitationResponseActionAccept, content: map[string]any{"approve": true}}
			h := approvalHarness(t, proto.version, p, true, "")
			h.importKey("cn-hangzhou", "deploy")
			h.importKey("cn-hangzhou", "old-key")
			web, win := h.instanceID("web-prod-01"), h.instanceID("ad-controller-01")
			// Without confirm: a preview, and no one is asked.
			ok[schema.BindKeyPairOutput](h, "attach_key_pair", map[string]any{"regionId": "cn-hangzhou", "keyPairName": "deploy", "instanceIds": []string{web}})
			if n := len(p.asked()); n != 0 {
				t.Fatalf("a preview asked the person %d times", n)
			}
			out, _ := ok[schema.BindKeyPairOutput](h, "attach_key_pair", map[string]any{"regionId": "cn-hangzhou", "keyPairName": "deploy", "instanceIds": []string{web, win}, "confirm": true})
			if !out.Executed || h.keyOf(web) != "deploy" || h.keyOf(win) != "" {
				t.Errorf("executed %v, %s carries %q, %s carries %q", out.Executed, web, h.keyOf(web), win, h.keyOf(win))
			}
			shown := p.asked()
			if len(shown) != 1 || !strings.Contains(shown[0], `Key pair to attach: "deploy", fingerprint `+md5Fixture(t, "ecdsa256.md5")) ||
				!strings.Contains(shown[0], web+` "web-prod-01" (Running, linux, carries no key pair): would_attach`) ||
				!strings.Contains(shown[0], win+` "ad-controller-01" (Running, windows, carries no key pair): would_fail`) {
				t.Errorf("the person was shown %q", shown)
			}
		})
	}
}

func TestApprovalWithoutElicitation(t *testing.T) {
	t.Parallel()
	for _, proto := range protocols {
		t.Run(proto.name+"/confirm is the approval", func(t *testing.T) {
			h := approvalHarness(t, proto.version, nil, false, "")
			h.importKey("cn-hangzhou", "old-1")
			out, _ := ok[schema.DeleteKeyPairsOutput](h, "delete_key_pairs", map[string]any{"regionId": "cn-hangzhou", "keyPairNames": []string{"old-1"}, "confirm": true})
			if !out.Executed || len(h.keyPairNames()) != 0 {
				t.Errorf("executed %v, left %v", out.Executed, h.keyPairNames())
			}
		})
		t.Run(proto.name+"/required: hidden and refused", func(t *testing.T) {
			h := approvalHarness(t, proto.version, nil, true, "")
			h.importKey("cn-hangzhou", "old-1")
			list, err := h.client.ListTools(context.Background(), mcp.ListToolsRequest{})
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, tool := range list.Tools {
				names = append(names, tool.Name)
			}
			if want := []string{"create_key_pair", "describe_instances", "describe_key_pairs", "describe_regions", "import_key_pair"}; !slices.Equal(sorted(names), want) {
				t.Errorf("listed %v, want %v", sorted(names), want)
			}
			before := h.snapshot()
			for _, tool := range []string{"delete_key_pairs", "detach_key_pair"} {
				req := mcp.CallToolRequest{}
				req.Params.Name = tool
				req.Params.Arguments = map[string]any{"regionId": "cn-hangzhou", "keyPairNames": []string{"old-1"}, "keyPairName": "old-1", "instanceIds": []string{"i-x1"}, "confirm": true}
				text := h.fails(tool, req.Params.Arguments, "ApprovalRequired")
				if !strings.Contains(text, "the tool is hidden from it") {
					t.Errorf("%s: %q", tool, text)
				}
			}
			if !reflect.DeepEqual(before, h.snapshot()) {
				t.Error("a hidden tool changed the cloud")
			}
		})
	}
}

func TestRegionAllowList(t *testing.T) {
	t.Parallel()
	h := newHarnessWith(t, harnessOptions{deps: func(d *tools.Deps) { d.Regions = []string{"cn-hangzhou", "eu-central-1"} }})
	regions, _ := ok[schema.DescribeRegionsOutput](h, "describe_regions", nil)
	var ids []string
	for _, r := range regions.Regions {
		ids = append(ids, r.RegionID)
	}
	if !slices.Equal(sorted(ids), []string{"cn-hangzhou", "eu-central-1"}) {
		t.Errorf("describe_regions lists %v", ids)
	}
	before := h.snapshot()
	requests := h.requestCount()
	for _, tc := range []struct {
		tool string
		args map[string]any
	}{
		{"describe_key_pairs", map[string]any{"regionId": "cn-shanghai"}},
		{"create_key_pair", map[string]any{"regionId": "cn-beijing", "keyPairName": "nope"}},
		{"import_key_pair", map[string]any{"regionId": "us-west-1", "keyPairName": "nope", "publicKeyBody": fixture(t, "rsa2048.pub")}},
		{"delete_key_pairs", map[string]any{"regionId": "cn-shanghai", "keyPairNames": []string{"a1"}, "confirm": true}},
		{"attach_key_pair", map[string]any{"regionId": "cn-shanghai", "keyPairName": "a1", "instanceIds": []string{"i-a1"}, "confirm": true}},
	} {
		text := h.fails(tc.tool, tc.args, "Forbidden.Region")
		if !strings.Contains(text, "cn-hangzhou, eu-central-1") {
			t.Errorf("%s: the refusal does not name the allowed regions: %s", tc.tool, text)
		}
	}
	if !reflect.DeepEqual(before, h.snapshot()) || h.requestCount() != requests {
		t.Error("a refused region reached the cloud")
	}
	if _, err := os.Stat(filepath.Join(h.keyDir, "nope.pem")); !os.IsNotExist(err) {
		t.Error("a refused create reserved a private key file")
	}
	ok[schema.CreateKeyPairOutput](h, "create_key_pair", map[string]any{"regionId": "eu-central-1", "keyPairName": "allowed"})

	// The schemas say which regions are allowed.
	list, err := h.client.ListTools(context.Background(), mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tool := range list.Tools {
		if tool.Name == "describe_regions" {
			continue
		}
		raw, _ := json.Marshal(tool.InputSchema)
		var s struct {
			Properties struct {
				RegionID struct {
					Enum []string `json:"enum"`
				} `json:"regionId"`
			} `json:"properties"`
		}
		json.Unmarshal(raw, &s)
		if !slices.Equal(s.Properties.RegionID.Enum, []string{"cn-hangzhou", "eu-central-1"}) {
			t.Errorf("%s: regionId enum %v", tool.Name, s.Properties.RegionID.Enum)
		}
	}
}

// requestCount is how many API requests the emulator has answered.
func (h *harness) requestCount() int {
	return strings.Count(h.logs.String(), "msg=\"ecs request")
}

func TestAuditLog(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "audit.log")
	p := &person{action: mcp.ElicitationResponseActionAccept, content: map[string]any{"confirmation": "old-1"}}
	h := approvalHarness(t, protocols[0].version, p, false, path)
	h.importKey("cn-hangzhou", "old-1")
	fp := md5Fixture(t, "ecdsa256.md5")
	made, _ := ok[schema.CreateKeyPairOutput](h, "create_key_pair", map[string]any{"regionId": "cn-hangzhou", "keyPairName": "made"})
	h.fails("create_key_pair", map[string]any{"regionId": "cn-hangzhou", "keyPairName": "made"}, "PrivateKeyFile.AlreadyExists")
	// A preview is not a write attempt.
	ok[schema.DeleteKeyPairsOutput](h, "delete_key_pairs", map[string]any{"regionId": "cn-hangzhou", "keyPairNames": []string{"old-1", "ghost"}})
	if lines := readAudit(t, path); len(lines) != 5 {
		t.Fatalf("%d lines before the delete, want 5 (import and create: intent and outcome; the refused create)", len(lines))
	}
	// Each line is on disk before the result returns.
	ok[schema.DeleteKeyPairsOutput](h, "delete_key_pairs", map[string]any{"regionId": "cn-hangzhou", "keyPairNames": []string{"old-1", "ghost"}, "confirm": true})
	lines := readAudit(t, path)
	want := []tools.AuditEntry{
		{Event: "intent", Tool: "import_key_pair", Region: "cn-hangzhou", Items: []string{"old-1"}},
		{Event: "outcome", Tool: "import_key_pair", Region: "cn-hangzhou", Items: []string{"old-1"}, KeyPairFingerPrint: fp, Executed: true,
			Outcomes: []tools.AuditOutcome{{Item: "old-1", Outcome: "imported"}}},
		{Event: "intent", Tool: "create_key_pair", Region: "cn-hangzhou", Items: []string{"made"}},
		{Event: "outcome", Tool: "create_key_pair", Region: "cn-hangzhou", Items: []string{"made"}, KeyPairFingerPrint: made.KeyPairFingerPrint,
			Executed: true, Outcomes: []tools.AuditOutcome{{Item: "made", Outcome: "created"}}},
		{Event: "refused", Tool: "create_key_pair", Region: "cn-hangzhou", Items: []string{"made"}, Error: "PrivateKeyFile.AlreadyExists"},
		{Event: "intent", Tool: "delete_key_pairs", Region: "cn-hangzhou", Items: []string{"old-1"}, ConfirmedBy: "person",
			Outcomes: []tools.AuditOutcome{{Item: "old-1", Outcome: "would_delete"}, {Item: "ghost", Outcome: "not_found"}}},
		{Event: "outcome", Tool: "delete_key_pairs", Region: "cn-hangzhou", Items: []string{"old-1"}, ConfirmedBy: "person", Executed: true,
			Outcomes: []tools.AuditOutcome{{Item: "old-1", Outcome: "deleted"}, {Item: "ghost", Outcome: "not_found"}}},
	}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d: %+v", len(lines), len(want), lines)
	}
	for i, got := range lines {
		if got.Time == "" || got.Call == "" || (got.Event == "outcome" && got.Executed && len(got.RequestIDs) == 0) {
			t.Errorf("line %d lacks its time, call or request IDs: %+v", i, got)
		}
		if got.Event == "outcome" && got.Call != lines[i-1].Call {
			t.Errorf("line %d: the outcome's call %s is not its intent's %s", i, got.Call, lines[i-1].Call)
		}
		got.Time, got.Call, got.RequestIDs = "", "", nil
		if !reflect.DeepEqual(got, want[i]) {
			t.Errorf("line %d\n got %+v\nwant %+v", i, got, want[i])
		}
	}
	raw, _ := os.ReadFile(path)
	for _, secret := range []string{"PRIVATE KEY", h.srv.Credentials.AccessKeySecret, strings.Fields(fixture(t, "ecdsa256.pub"))[1]} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("the audit log holds a secret or a key body (%q...)", secret[:8])
		}
	}
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o600 {
		t.Errorf("audit log mode %v, want 0600", info.Mode().Perm())
	}
}

func readAudit(t *testing.T, path string) []tools.AuditEntry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []tools.AuditEntry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e tools.AuditEntry
		dec := json.NewDecoder(strings.NewReader(sc.Text()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			t.Fatalf("audit line %q: %v", sc.Text(), err)
		}
		out = append(out, e)
	}
	return out
}
