package tools_test

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
)

// progressNote is one notifications/progress as the client received it.
type progressNote struct {
	token    string // the progressToken, formatted (a number arrives as float64)
	progress float64
	message  string
}

// progressLog collects the progress notifications a client receives.
type progressLog struct {
	mu    sync.Mutex
	notes []progressNote
	other []string // methods of any other notification
}

func watchProgress(c *client.Client) *progressLog {
	l := &progressLog{}
	c.OnNotification(func(n mcp.JSONRPCNotification) {
		l.mu.Lock()
		defer l.mu.Unlock()
		if n.Method != "notifications/progress" {
			l.other = append(l.other, n.Method)
			return
		}
		f := n.Params.AdditionalFields
		p, _ := f["progress"].(float64)
		if i, ok := f["progress"].(int); ok { // in process, the value is passed as it was sent
			p = float64(i)
		}
		msg, _ := f["message"].(string)
		l.notes = append(l.notes, progressNote{token: fmt.Sprint(f["progressToken"]), progress: p, message: msg})
	})
	return l
}

func (l *progressLog) snapshot() []progressNote {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]progressNote(nil), l.notes...)
}

// callWithToken runs a tool, which must succeed, with a call that carries
// token (none when nil).
func callWithToken(t *testing.T, h *harness, name string, args any, token mcp.ProgressToken) *mcp.CallToolResult {
	t.Helper()
	req := mcp.CallToolRequest{}
	req.Params.Name = name
	req.Params.Arguments = args
	if token != nil {
		req.Params.Meta = &mcp.Meta{ProgressToken: token}
	}
	res, err := h.client.CallTool(context.Background(), req)
	if err != nil {
		t.Fatalf("%s: protocol error %v", name, err)
	}
	if res.IsError {
		t.Fatalf("%s: %v", name, res.Content)
	}
	return res
}

var progressMessage = regexp.MustCompile(`^([A-Za-z]+) in [a-z0-9-]+: ([0-9]+) of ([0-9]+) requests done$`)

// A call that sends several requests, made with a progress token, reports
// each finished page or batch: the client's token, a progress that only
// grows, and a message a person can read. Without a token, or for a call
// of one request, nothing is sent. The result is what it would be without
// a token.
func TestProgressNotifications(t *testing.T) {
	t.Parallel()
	const region = "ap-southeast-1"
	for _, tc := range []struct {
		name  string
		token mcp.ProgressToken
		tool  string
		args  map[string]any
		// preview runs the call once without confirm first (so that
		// the listing is warm, as after a preview).
		preview bool
		// wantActions are the requests reported, per action, at least
		// (min) and at most (max).
		wantActions map[string][2]int
		check       func(t *testing.T, h *harness, res *mcp.CallToolResult)
	}{
		{
			name: "describe_key_pairs over 6 pages", token: "t1", tool: "describe_key_pairs",
			args: map[string]any{"regionId": region},
			// Page 1 tells how many there are; pages 2-6 follow.
			wantActions: map[string][2]int{"DescribeKeyPairs": {6, 6}},
			check: func(t *testing.T, h *harness, res *mcp.CallToolResult) {
				// All six pages were read; the result holds what fits.
				out := decode[schema.DescribeKeyPairsOutput](t, res)
				if out.TotalCount != 300 || len(out.KeyPairs) == 0 || out.KeyPairs[0].KeyPairName != "bulk-0001" ||
					(len(out.KeyPairs) < 300) != out.Truncated {
					t.Errorf("listed %d of 300 (total %d, truncated %v)", len(out.KeyPairs), out.TotalCount, out.Truncated)
				}
			},
		},
		{
			name: "delete_key_pairs of 250 in 3 batches after a preview", token: "t1", tool: "delete_key_pairs",
			args:    map[string]any{"regionId": region, "keyPairNames": bulkNames(250), "confirm": true},
			preview: true,
			// The warm listing sends its 6 pages at once, then 3 batches.
			wantActions: map[string][2]int{"DescribeKeyPairs": {6, 6}, "DeleteKeyPairs": {3, 3}},
			check: func(t *testing.T, h *harness, res *mcp.CallToolResult) {
				out := decode[schema.DeleteKeyPairsOutput](t, res)
				deleted := 0
				for _, o := range out.KeyPairs {
					if o.Outcome == "deleted" {
						deleted++
					}
				}
				if !out.Executed || deleted != 250 || len(out.RequestIDs) != 3 {
					t.Errorf("executed %v, %d deleted, %d request IDs", out.Executed, deleted, len(out.RequestIDs))
				}
				if n := len(h.snapshot().KeyPairs); n != 50 {
					t.Errorf("%d key pairs left, want 50", n)
				}
			},
		},
		{
			name: "delete_key_pairs of 250 with a numeric token", token: 42, tool: "delete_key_pairs",
			args:        map[string]any{"regionId": region, "keyPairNames": bulkNames(250), "confirm": true},
			wantActions: map[string][2]int{"DescribeKeyPairs": {6, 6}, "DeleteKeyPairs": {3, 3}},
			check: func(t *testing.T, h *harness, res *mcp.CallToolResult) {
				if n := len(h.snapshot().KeyPairs); n != 50 {
					t.Errorf("%d key pairs left, want 50", n)
				}
			},
		},
		{
			name: "no token", tool: "describe_key_pairs",
			args: map[string]any{"regionId": region},
			check: func(t *testing.T, h *harness, res *mcp.CallToolResult) {
				if out := decode[schema.DescribeKeyPairsOutput](t, res); out.TotalCount != 300 {
					t.Errorf("total %d", out.TotalCount)
				}
			},
		},
		{
			name: "one request: describe_regions", token: "t1", tool: "describe_regions",
			args: map[string]any{},
		},
		{
			name: "one request: a single page", token: "t1", tool: "describe_key_pairs",
			args: map[string]any{"regionId": region, "pageNumber": 3, "pageSize": 50},
			check: func(t *testing.T, h *harness, res *mcp.CallToolResult) {
				out := decode[schema.DescribeKeyPairsOutput](t, res)
				if out.TotalCount != 300 || len(out.KeyPairs) != 50 || out.KeyPairs[0].KeyPairName != "bulk-0101" {
					t.Errorf("page 3: total %d, %d listed", out.TotalCount, len(out.KeyPairs))
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, false)
			if _, _, err := h.emu.Populate(region, 300, 0); err != nil {
				t.Fatal(err)
			}
			notes := watchProgress(h.client)
			if tc.preview {
				preview := map[string]any{}
				for k, v := range tc.args {
					preview[k] = v
				}
				delete(preview, "confirm")
				callWithToken(t, h, tc.tool, preview, nil)
				if n := len(notes.snapshot()); n != 0 {
					t.Fatalf("%d notifications for a call without a token", n)
				}
			}
			res := callWithToken(t, h, tc.tool, tc.args, tc.token)
			if tc.check != nil {
				tc.check(t, h, res)
			}
			// The in-process transport hands notifications on from a
			// goroutine of its own: some may still be on their way (the
			// stdio transport writes them in order; see
			// TestStdioProgressBeforeResponse in package main).
			time.Sleep(200 * time.Millisecond)
			all := notes.snapshot()
			notes.mu.Lock()
			if len(notes.other) > 0 {
				t.Errorf("other notifications: %v", notes.other)
			}
			notes.mu.Unlock()

			if tc.wantActions == nil {
				if len(all) != 0 {
					t.Fatalf("want no progress notifications, got %+v", all)
				}
				return
			}
			perAction := map[string]int{}
			last := 0.0
			for i, n := range all {
				if n.token != fmt.Sprint(tc.token) {
					t.Errorf("notification %d: token %q, want %v", i, n.token, tc.token)
				}
				if n.progress <= last {
					t.Errorf("notification %d: progress %v after %v; it must increase", i, n.progress, last)
				}
				last = n.progress
				m := progressMessage.FindStringSubmatch(n.message)
				if m == nil {
					t.Errorf("notification %d: message %q", i, n.message)
					continue
				}
				if done, total := atoi(m[2]), atoi(m[3]); done < 1 || done > total {
					t.Errorf("notification %d: message %q", i, n.message)
				}
				perAction[m[1]]++
			}
			for action, want := range tc.wantActions {
				if got := perAction[action]; got < want[0] || got > want[1] {
					t.Errorf("%s: %d notifications, want %d to %d", action, got, want[0], want[1])
				}
				delete(perAction, action)
			}
			if len(perAction) > 0 {
				t.Errorf("unexpected actions reported: %v", perAction)
			}
			if t.Failed() {
				for _, n := range all {
					t.Logf("  %v %q", n.progress, n.message)
				}
			}
		})
	}
}

// Every page of a listing is a finished request, and is reported: a
// listing of two pages read cold (page 1, then page 2) takes two round
// trips one after the other, just where a client would show progress.
func TestProgressReportsEveryPage(t *testing.T) {
	t.Parallel()
	const region = "ap-southeast-1"
	for _, tc := range []struct {
		keyPairs, pages int
	}{
		{60, 2},
		{300, 6},
	} {
		t.Run(fmt.Sprintf("%d pages", tc.pages), func(t *testing.T) {
			h := newHarness(t, false)
			if _, _, err := h.emu.Populate(region, tc.keyPairs, 0); err != nil {
				t.Fatal(err)
			}
			notes := watchProgress(h.client)
			callWithToken(t, h, "describe_key_pairs", map[string]any{"regionId": region}, "t1")
			// The in-process transport hands notifications on from a
			// goroutine of its own: wait for them (a few milliseconds).
			for deadline := time.Now().Add(2 * time.Second); len(notes.snapshot()) < tc.pages && time.Now().Before(deadline); {
				time.Sleep(time.Millisecond)
			}
			if got := len(notes.snapshot()); got != tc.pages {
				t.Errorf("%d key pairs in %d pages: %d progress notifications, want one per page", tc.keyPairs, tc.pages, got)
			}
		})
	}
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func bulkNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("bulk-%04d", i+1)
	}
	return names
}

// decode reads a result's structured content as T.
func decode[T any](t *testing.T, res *mcp.CallToolResult) T {
	t.Helper()
	var out T
	text := ""
	for _, c := range res.Content {
		if tc, ok := c.(mcp.TextContent); ok {
			text += tc.Text
		}
	}
	if res.IsError {
		t.Fatalf("error result: %s", text)
	}
	b, err := json.Marshal(res.StructuredContent)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("structured content %s: %v", strings.TrimSpace(string(b)), err)
	}
	return out
}
