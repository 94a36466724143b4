package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud/emulator"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/tools"
)

// mcp-go's stdio server keeps its session (writer, client capabilities) in
// a package variable: these tests, like the others on serveStdio, do not
// run in parallel.

// After notifications/cancelled the server sends no response for the
// request (MCP: it should not; the official TypeScript client reports
// one as "Received a response for an unknown message ID"). The session
// goes on.
func TestStdioNoResponseAfterCancel(t *testing.T) {
	s := server.NewMCPServer("test", "0", server.WithToolCapabilities(false))
	started, returned := make(chan struct{}), make(chan struct{})
	s.AddTool(mcp.NewTool("held"), func(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		defer close(returned)
		close(started)
		<-ctx.Done() // the cancel
		return mcp.NewToolResultError("cancelled"), nil
	})
	ss := startStdioWith(t, s, stdioConfig{})
	ss.send(`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"held","arguments":{}}}`)
	<-started
	ss.send(`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":7,"reason":"the user gave up"}}`)
	<-returned // its answer, were it sent, is on its way to stdout now
	ss.send(`{"jsonrpc":"2.0","id":8,"method":"ping"}`)
	if m := ss.next(); m["id"] != float64(8) {
		t.Fatalf("after the cancel, the next message is %v, want the answer to the ping", m)
	}
	ss.in.Close()
	rest, err := ss.rest()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range rest {
		t.Errorf("after the ping: %v", m)
	}
}

// approvalSession is the real tools behind serveStdio, for a client of the
// initialize-era protocol that can elicit, with an emulator behind them
// holding one key pair, "old-1".
func approvalSession(t *testing.T, approvalTimeout time.Duration) (*stdioSession, *emulator.Emulator) {
	t.Helper()
	emu, c := emulatedCloud(t)
	approver := tools.NewApprover(true)
	approver.Timeout = approvalTimeout
	deps := tools.Deps{Cloud: c, PrivateKeyDir: filepath.Join(t.TempDir(), "keys"), Approver: approver,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ss := startStdioWithCaps(t, newMCPServer(deps, false), stdioConfig{}, `{"elicitation":{}}`)
	ss.send(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"create_key_pair","arguments":{"regionId":"cn-hangzhou","keyPairName":"old-1"}}}`)
	if m := ss.next(); m["id"] != float64(1) || isErrorResult(m) {
		t.Fatalf("create_key_pair: %v", m)
	}
	return ss, emu
}

func isErrorResult(m map[string]any) bool {
	res, _ := m["result"].(map[string]any)
	return res == nil || res["isError"] == true
}

func resultText(m map[string]any) string {
	res, _ := m["result"].(map[string]any)
	content, _ := res["content"].([]any)
	if len(content) == 0 {
		return ""
	}
	first, _ := content[0].(map[string]any)
	text, _ := first["text"].(string)
	return text
}

func keyPairCount(t *testing.T, emu *emulator.Emulator) int {
	t.Helper()
	s, err := emu.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	return len(s.KeyPairs)
}

const confirmedDelete = `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"delete_key_pairs",` +
	`"arguments":{"regionId":"cn-hangzhou","keyPairNames":["old-1"],"confirm":true}}}`

// The person's approval is asked with elicitation/create, and their
// answer lets the delete go ahead.
func TestStdioApprovalAnswered(t *testing.T) {
	ss, emu := approvalSession(t, time.Minute)
	ss.send(confirmedDelete)
	ask := ss.next()
	params, _ := ask["params"].(map[string]any)
	id, _ := ask["id"].(string)
	if ask["method"] != "elicitation/create" || !strings.HasPrefix(id, askPrefix) || !strings.Contains(fmt.Sprint(params["message"]), `"old-1"`) {
		t.Fatalf("want the approval request, got %v", ask)
	}
	ss.send(fmt.Sprintf(`{"jsonrpc":"2.0","id":%q,"result":{"action":"accept","content":{"confirmation":"old-1"}}}`, id))
	if m := ss.next(); m["id"] != float64(2) || isErrorResult(m) || !strings.HasPrefix(resultText(m), "Deleted 1 of 1") {
		t.Fatalf("delete_key_pairs after the approval: %v", m)
	}
	if n := keyPairCount(t, emu); n != 0 {
		t.Errorf("%d key pairs left, want 0", n)
	}
}

// An approval nobody answers ends with ApprovalTimeout; the pending
// request is withdrawn with notifications/cancelled, and an answer that
// comes later changes nothing.
func TestStdioApprovalTimeout(t *testing.T) {
	ss, emu := approvalSession(t, 300*time.Millisecond)
	ss.send(confirmedDelete)
	ask := ss.next()
	id, _ := ask["id"].(string)
	if ask["method"] != "elicitation/create" {
		t.Fatalf("want the approval request, got %v", ask)
	}
	withdrawn, answered := false, false
	for !withdrawn || !answered {
		m := ss.next()
		params, _ := m["params"].(map[string]any)
		switch {
		case m["method"] == "notifications/cancelled" && params["requestId"] == id:
			withdrawn = true
		case m["id"] == float64(2):
			if !isErrorResult(m) || !strings.HasPrefix(resultText(m), "ApprovalTimeout: ") {
				t.Fatalf("want ApprovalTimeout, got %v", m)
			}
			answered = true
		default:
			t.Fatalf("unexpected %v", m)
		}
	}
	// The person accepts, too late.
	ss.send(fmt.Sprintf(`{"jsonrpc":"2.0","id":%q,"result":{"action":"accept","content":{"confirmation":"old-1"}}}`, id))
	ss.send(`{"jsonrpc":"2.0","id":3,"method":"ping"}`)
	if m := ss.next(); m["id"] != float64(3) {
		t.Fatalf("after the late answer: %v, want the answer to the ping", m)
	}
	if n := keyPairCount(t, emu); n != 1 {
		t.Errorf("%d key pairs left, want 1: the late accept deleted", n)
	}
}

// A client whose elicitation fails gets a tool result that says so, not a
// JSON-RPC error.
func TestStdioApprovalFails(t *testing.T) {
	ss, emu := approvalSession(t, time.Minute)
	ss.send(confirmedDelete)
	id, _ := ss.next()["id"].(string)
	ss.send(fmt.Sprintf(`{"jsonrpc":"2.0","id":%q,"error":{"code":-32603,"message":"the form could not be shown"}}`, id))
	m := ss.next()
	if m["id"] != float64(2) || m["error"] != nil || !isErrorResult(m) ||
		!strings.HasPrefix(resultText(m), "ApprovalFailed: the client could not ask its user (the client answered with error -32603: the form could not be shown)") {
		t.Fatalf("want an ApprovalFailed tool result, got %v", m)
	}
	if n := keyPairCount(t, emu); n != 1 {
		t.Errorf("%d key pairs left, want 1", n)
	}
}
