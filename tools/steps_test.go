package tools

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud"
)

// Each step on its own, around a stand-in for a tool's work.

func ran(called *bool) handler {
	return func(context.Context, *call) (*mcpResult, error) {
		*called = true
		return mcp.NewToolResultText("done"), nil
	}
}

func TestCheckRegions(t *testing.T) {
	t.Parallel()
	step := checkRegions([]string{"cn-hangzhou", "cn-shanghai"})
	for _, tc := range []struct {
		regions []string
		ok      bool
	}{
		{nil, true},
		{[]string{"cn-hangzhou"}, true},
		{[]string{"cn-hangzhou", "cn-shanghai"}, true},
		{[]string{"eu-central-1"}, false},
		{[]string{"cn-hangzhou", "us-west-1"}, false},
	} {
		var called bool
		_, err := step(ran(&called))(context.Background(), &call{about: subject{regions: tc.regions}})
		if tc.ok != (err == nil) || called != tc.ok {
			t.Errorf("%v: err %v, work ran %v", tc.regions, err, called)
		}
		if !tc.ok && errorCode(err) != codeForbiddenRegion {
			t.Errorf("%v: code %s", tc.regions, errorCode(err))
		}
	}
}

func TestRequireElicitation(t *testing.T) {
	t.Parallel()
	can := server.WithRequestProtocolInfo(context.Background(), &server.RequestProtocolInfo{Modern: true,
		ClientCapabilities: &mcp.ClientCapabilities{Elicitation: &mcp.ElicitationCapability{}}})
	cannot := server.WithRequestProtocolInfo(context.Background(), &server.RequestProtocolInfo{Modern: true,
		ClientCapabilities: &mcp.ClientCapabilities{}})
	var called bool
	c := &call{tool: "delete_key_pairs"}
	if _, err := requireElicitation(ran(&called))(cannot, c); errorCode(err) != codeApprovalRequired || called || !c.about.attempt {
		t.Errorf("a client that cannot elicit: err %v, work ran %v, attempt %v", err, called, c.about.attempt)
	}
	if _, err := requireElicitation(ran(&called))(can, &call{}); err != nil || !called {
		t.Errorf("a client that can elicit: err %v, work ran %v", err, called)
	}
}

func TestRecordAudit(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "audit.log")
	log, err := OpenAuditLog(path)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	d := Deps{Audit: log}
	run := func(about subject, work handler) []AuditEntry {
		t.Helper()
		before := len(readLines(t, path))
		d.recordAudit(work)(context.Background(), &call{Deps: d, tool: "delete_key_pairs", about: about})
		return readLines(t, path)[before:]
	}
	refused := errors.New("refused")
	attempt := subject{regions: []string{"cn-hangzhou"}, items: []string{"k1"}, attempt: true}

	// A preview is not an attempt: nothing recorded, whatever it returns.
	if got := run(subject{regions: []string{"cn-hangzhou"}}, func(context.Context, *call) (*mcpResult, error) { return nil, refused }); len(got) != 0 {
		t.Errorf("a preview was recorded: %+v", got)
	}
	// An attempt that fails before its work sends anything is a refusal.
	got := run(attempt, func(context.Context, *call) (*mcpResult, error) { return nil, failure("Forbidden.Region", "no") })
	if len(got) != 1 || got[0].Event != EventRefused || got[0].Error != "Forbidden.Region" || got[0].Region != "cn-hangzhou" {
		t.Errorf("refusal: %+v", got)
	}
	// An intent left open is closed: the request may or may not have been
	// applied.
	got = run(attempt, func(_ context.Context, c *call) (*mcpResult, error) {
		if err := c.trail.intent(AuditEntry{Items: []string{"k1"}}); err != nil {
			t.Fatal(err)
		}
		return nil, &cloud.Error{Code: "ConnectionFailed"}
	})
	if len(got) != 2 || got[1].Event != EventOutcome || got[1].Error != "ConnectionFailed" || got[1].Outcomes[0].Outcome != "failed" {
		t.Errorf("open intent: %+v", got)
	}
}

func readLines(t *testing.T, path string) []AuditEntry {
	t.Helper()
	var out []AuditEntry
	b, _ := os.ReadFile(path)
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line == "" {
			continue
		}
		var e AuditEntry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

// The call's time bound: the work gets a deadline, a timeout says
// --timeout, and the time a person takes is not counted.
func TestBound(t *testing.T) {
	t.Parallel()
	ctx := WithCallTimeout(context.Background(), 100*time.Millisecond)
	_, err := bound(func(ctx context.Context, c *call) (*mcpResult, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	})(ctx, &call{})
	if errorCode(err) != cloud.CodeRequestTimeout || !strings.Contains(err.Error(), "did not finish within 100ms (the server's --timeout)") {
		t.Errorf("err %v", err)
	}
	// A person asked 150 ms ago, when 100 ms of the call's time were left,
	// answers now: the call's deadline passed meanwhile, and the work goes
	// on with the 100 ms it had.
	now := time.Now()
	c := &call{base: context.Background(), deadline: now.Add(-50 * time.Millisecond)}
	resumed := c.resume(now.Add(-150 * time.Millisecond))
	for _, cancel := range c.cancels {
		defer cancel()
	}
	if dl, _ := resumed.Deadline(); resumed.Err() != nil || dl.Sub(now) < 90*time.Millisecond || dl.Sub(now) > time.Second {
		t.Errorf("after the person's answer: %v, %s left of the call's time, want 100ms", resumed.Err(), time.Until(dl))
	}
}
