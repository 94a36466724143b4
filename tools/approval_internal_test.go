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
// to the state carried between the two rounds, and what changes in the
// region meanwhile: every case must be refused before anything is written.
func TestApprovalTicket(t *testing.T) {
	t.Parallel()
	clock := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	a := NewApprover(true)
	a.now = func() time.Time { return clock }
	d := Deps{Approver: a}
	caps := &mcp.ClientCapabilities{Elicitation: &mcp.ElicitationCapability{Form: &struct{}{}}}
	ctx := server.WithRequestProtocolInfo(context.Background(),
		&server.RequestProtocolInfo{Modern: true, ProtocolVersion: "2026-07-28", ClientCapabilities: caps})
	ar := approvalRequest{tool: "detach_key_pair", region: "cn-hangzhou", items: []string{"i-a1", "i-b2"}, changes: 1,
		state: []stateLine{{"key pair deploy", "fingerprint aa"}, {"i-a1", "Running, linux, key pair deploy"}, {"i-b2", "Stopped, linux, no key pair"}}}

	// The first round asks, with a sealed state; each case has its own,
	// since a ticket is spent once it is answered.
	ask := func() string {
		t.Helper()
		clock = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
		_, res, err := (&call{Deps: d, tool: ar.tool}).approve(ctx, ar, nil)
		if err != nil || res == nil || !res.NeedsInput() || res.RequestState == "" {
			t.Fatalf("first round: err %v, result %+v", err, res)
		}
		return res.RequestState
	}
	valid := ask()
	accept := mcp.InputResponses{approvalID: mcp.NewElicitationInputResponse(mcp.ElicitationResult{
		ElicitationResponse: mcp.ElicitationResponse{Action: mcp.ElicitationResponseActionAccept, Content: map[string]any{"approve": true}}})}
	retry := func(state string, r approvalRequest, after time.Duration) (*call, *mcp.CallToolResult, error) {
		clock = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC).Add(after)
		c := &call{Deps: d, tool: r.tool}
		c.req.Params.MultiRoundTripParams = mcp.MultiRoundTripParams{RequestState: state, InputResponses: accept}
		_, res, err := c.approve(ctx, r, nil)
		return c, res, err
	}
	flip := func(s string) string {
		b := []byte(s)
		b[len(b)/3] ^= 0x01
		return string(b)
	}
	other := func(change func(*approvalRequest)) approvalRequest {
		r := ar
		r.items = append([]string(nil), ar.items...)
		r.state = append([]stateLine(nil), ar.state...)
		change(&r)
		return r
	}
	forged := func() string {
		payload, _ := json.Marshal(ticket{Tool: "detach_key_pair", Region: "cn-hangzhou",
			Items: ar.items, State: ar.state, Expires: clock.Add(time.Hour).UnixMilli(), Nonce: "x"})
		enc := base64.RawURLEncoding
		return enc.EncodeToString(payload) + "." + enc.EncodeToString(make([]byte, 32))
	}
	for _, tc := range []struct {
		name  string
		state string
		req   approvalRequest
		after time.Duration
		code  string
		say   string
	}{
		{"altered state", flip(ask()), ar, 0, "ApprovalInvalid", ""},
		{"forged signature", forged(), ar, 0, "ApprovalInvalid", "altered"},
		{"garbage", "not-a-ticket", ar, 0, "ApprovalInvalid", "malformed"},
		{"answered too late", ask(), ar, DefaultApprovalTimeout + time.Second, "ApprovalTimeout", "time ran out"},
		{"other region", ask(), other(func(r *approvalRequest) { r.region = "cn-shanghai" }), 0, "ApprovalInvalid", "differ"},
		{"other tool", ask(), other(func(r *approvalRequest) { r.tool = "attach_key_pair" }), 0, "ApprovalInvalid", "differ"},
		{"an item added", ask(), other(func(r *approvalRequest) { r.items = append(r.items, "i-c3") }), 0, "ApprovalInvalid", "differ"},
		{"another key pair put on an instance meanwhile", ask(), other(func(r *approvalRequest) {
			r.state[2] = stateLine{"i-b2", "Stopped, linux, key pair intruder"}
		}), 0, "ApprovalStale", `i-b2 was Stopped, linux, no key pair, is now Stopped, linux, key pair intruder`},
		{"the key pair replaced meanwhile", ask(), other(func(r *approvalRequest) {
			r.state[0] = stateLine{"key pair deploy", "fingerprint bb"}
		}), 0, "ApprovalStale", "key pair deploy was fingerprint aa, is now fingerprint bb"},
		{"valid", valid, ar, time.Minute, "", ""},
		{"replayed", valid, ar, 2 * time.Minute, "ApprovalInvalid", "already used"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, res, err := retry(tc.state, tc.req, tc.after)
			if tc.code == "" {
				if err != nil || res != nil || c.confirmedBy != "person" {
					t.Fatalf("err %v, result %v, confirmed by %q; want the person's approval", err, res, c.confirmedBy)
				}
				return
			}
			var se *schema.Error
			if !errors.As(err, &se) || se.Code != tc.code || !strings.Contains(se.Message, "nothing was changed") ||
				!strings.Contains(se.Message, tc.say) {
				t.Fatalf("err %v; want %s saying %q", err, tc.code, tc.say)
			}
		})
	}
}

func TestClientCanElicit(t *testing.T) {
	t.Parallel()
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

// TestApprovalTicketBindsArguments: the retried call must be the one the
// person was asked about, argument for argument (confirm aside), not only
// the same tool, region and items.
func TestApprovalTicketBindsArguments(t *testing.T) {
	t.Parallel()
	a := NewApprover(true)
	d := Deps{Approver: a}
	caps := &mcp.ClientCapabilities{Elicitation: &mcp.ElicitationCapability{Form: &struct{}{}}}
	ctx := server.WithRequestProtocolInfo(context.Background(),
		&server.RequestProtocolInfo{Modern: true, ProtocolVersion: "2026-07-28", ClientCapabilities: caps})
	ar := approvalRequest{tool: "reboot_instances", region: "cn-hangzhou", items: []string{"i-a1"}, changes: 1,
		state: []stateLine{{"i-a1", "Running"}}}
	asked := map[string]any{"regionId": "cn-hangzhou", "instanceIds": []any{"i-a1"}, "confirm": true}
	accept := mcp.InputResponses{approvalID: mcp.NewElicitationInputResponse(mcp.ElicitationResult{
		ElicitationResponse: mcp.ElicitationResponse{Action: mcp.ElicitationResponseActionAccept, Content: map[string]any{"approve": true}}})}
	for _, tc := range []struct {
		name  string
		retry map[string]any
		code  string
	}{
		{"forceReboot added", map[string]any{"regionId": "cn-hangzhou", "instanceIds": []any{"i-a1"}, "forceReboot": true, "confirm": true}, "ApprovalInvalid"},
		{"wait turned off", map[string]any{"regionId": "cn-hangzhou", "instanceIds": []any{"i-a1"}, "wait": false, "confirm": true}, "ApprovalInvalid"},
		{"the same, in another order", map[string]any{"confirm": true, "instanceIds": []any{"i-a1"}, "regionId": "cn-hangzhou"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			first := &call{Deps: d, tool: ar.tool}
			first.req.Params.Arguments = asked
			_, res, err := first.approve(ctx, ar, nil)
			if err != nil || res == nil || res.RequestState == "" {
				t.Fatalf("first round: err %v, result %+v", err, res)
			}
			c := &call{Deps: d, tool: ar.tool}
			c.req.Params.Arguments = tc.retry
			c.req.Params.MultiRoundTripParams = mcp.MultiRoundTripParams{RequestState: res.RequestState, InputResponses: accept}
			_, res, err = c.approve(ctx, ar, nil)
			if tc.code == "" {
				if err != nil || res != nil || c.confirmedBy != "person" {
					t.Fatalf("err %v, result %v, confirmed by %q; want the person's approval", err, res, c.confirmedBy)
				}
				return
			}
			var se *schema.Error
			if !errors.As(err, &se) || se.Code != tc.code || !strings.Contains(se.Message, "other arguments differ") {
				t.Fatalf("err %v; want %s naming the arguments", err, tc.code)
			}
		})
	}
}
