package tools

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
)

// TestApprovalTicket covers what a client (or a model behind it) could do
// to the state carried between the two rounds: every case must be refused
// before anything is written.
func TestApprovalTicket(t *testing.T) {
	clock := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	a := NewApprover(true)
	a.now = func() time.Time { return clock }
	d := Deps{Approver: a}
	caps := &mcp.ClientCapabilities{Elicitation: &mcp.ElicitationCapability{Form: &struct{}{}}}
	ctx := server.WithRequestProtocolInfo(context.Background(),
		&server.RequestProtocolInfo{Modern: true, ProtocolVersion: "2026-07-28", ClientCapabilities: caps})
	req := approvalRequest{tool: "detach_key_pair", region: "cn-hangzhou", keyPairName: "deploy",
		items: []string{"i-a1", "i-b2"}, send: []string{"i-a1"}, preview: "1 of 2 instance(s) would be detached."}

	// The first round asks, with a sealed state.
	v, _, res, err := d.approve(ctx, req)
	if err != nil || v != askPerson || !res.NeedsInput() || res.RequestState == "" {
		t.Fatalf("first round: verdict %v, err %v, result %+v", v, err, res)
	}
	state := res.RequestState
	accept := mcp.InputResponses{approvalID: mcp.NewElicitationInputResponse(mcp.ElicitationResult{
		ElicitationResponse: mcp.ElicitationResponse{Action: mcp.ElicitationResponseActionAccept, Content: map[string]any{"approve": true}}})}
	retry := func(state string, r approvalRequest, after time.Duration) (verdict, error) {
		clock = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC).Add(after)
		rctx := withRoundTrip(ctx, mcp.MultiRoundTripParams{RequestState: state, InputResponses: accept})
		v, _, _, err := d.approve(rctx, r)
		return v, err
	}
	flip := func(s string) string {
		b := []byte(s)
		b[len(b)/3] ^= 0x01
		return string(b)
	}
	other := func(change func(*approvalRequest)) approvalRequest {
		r := req
		r.items = append([]string(nil), req.items...)
		change(&r)
		return r
	}
	forged := func() string {
		payload, _ := json.Marshal(ticket{Tool: "detach_key_pair", Region: "cn-hangzhou", KeyPairName: "deploy",
			Items: req.items, Send: req.send, Expires: clock.Add(time.Hour).Unix(), Nonce: "x"})
		enc := base64.RawURLEncoding
		return enc.EncodeToString(payload) + "." + enc.EncodeToString(make([]byte, 32))
	}
	for _, tc := range []struct {
		name  string
		state string
		req   approvalRequest
		after time.Duration
		code  string
	}{
		{"altered state", flip(state), req, 0, "ApprovalInvalid"},
		{"forged signature", forged(), req, 0, "ApprovalInvalid"},
		{"garbage", "not-a-ticket", req, 0, "ApprovalInvalid"},
		{"expired", state, req, ApprovalTTL + time.Second, "ApprovalInvalid"},
		{"other region", state, other(func(r *approvalRequest) { r.region = "cn-shanghai" }), 0, "ApprovalInvalid"},
		{"other tool", state, other(func(r *approvalRequest) { r.tool = "attach_key_pair" }), 0, "ApprovalInvalid"},
		{"other key pair", state, other(func(r *approvalRequest) { r.keyPairName = "other" }), 0, "ApprovalInvalid"},
		{"an item added", state, other(func(r *approvalRequest) { r.items = append(r.items, "i-c3") }), 0, "ApprovalInvalid"},
		{"the region changed meanwhile", state, other(func(r *approvalRequest) { r.send = []string{"i-a1", "i-b2"} }), 0, "ApprovalStale"},
		{"valid", state, req, time.Minute, ""},
		{"replayed", state, req, 2 * time.Minute, "ApprovalInvalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := retry(tc.state, tc.req, tc.after)
			if tc.code == "" {
				if err != nil || v != proceedByPerson {
					t.Fatalf("verdict %v, err %v; want approval", v, err)
				}
				return
			}
			var se *schema.Error
			if !errors.As(err, &se) || se.Code != tc.code || !strings.Contains(se.Message, "nothing was changed") {
				t.Fatalf("verdict %v, err %v; want %s", v, err, tc.code)
			}
		})
	}
}

func TestClientCanElicit(t *testing.T) {
	for _, tc := range []struct {
		name string
		caps *mcp.ClientCapabilities
		want bool
	}{
		{"none", &mcp.ClientCapabilities{}, false},
		{"form", &mcp.ClientCapabilities{Elicitation: &mcp.ElicitationCapability{Form: &struct{}{}}}, true},
		{"empty means form", &mcp.ClientCapabilities{Elicitation: &mcp.ElicitationCapability{}}, true},
		{"url only", &mcp.ClientCapabilities{Elicitation: &mcp.ElicitationCapability{URL: &struct{}{}}}, false},
	} {
		ctx := server.WithRequestProtocolInfo(context.Background(), &server.RequestProtocolInfo{Modern: true, ClientCapabilities: tc.caps})
		if got := ClientCanElicit(ctx); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	if ClientCanElicit(context.Background()) {
		t.Error("no session: can elicit")
	}
}
