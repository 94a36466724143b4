package tools_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud/emulator"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/tools"
)

// A call that outlasts its timeout ends promptly with RequestTimeout, and a
// create cut short says whether the key pair exists.
func TestCallTimeout(t *testing.T) {
	t.Parallel()
	h := newHarness(t, false)
	h.emu.SetFaults(emulator.FaultPlan{Default: emulator.Faults{Latency: 2 * time.Second}})
	for _, tc := range []struct {
		tool string
		args map[string]any
		want string
	}{
		{"describe_regions", map[string]any{}, "RequestTimeout: the call did not finish within 200ms"},
		{"create_key_pair", map[string]any{"regionId": "cn-hangzhou", "keyPairName": "late"}, `"late" does not exist`},
	} {
		t.Run(tc.tool, func(t *testing.T) {
			if tc.tool == "create_key_pair" {
				// The look-up after the cut must get through.
				h.emu.SetFaults(emulator.FaultPlan{PerAction: map[string]emulator.Faults{"CreateKeyPair": {Latency: 2 * time.Second}}})
			}
			ctx := tools.WithCallTimeout(context.Background(), 200*time.Millisecond)
			req := mcp.CallToolRequest{}
			req.Params.Name, req.Params.Arguments = tc.tool, tc.args
			start := time.Now()
			res, err := h.client.CallTool(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			text := res.Content[0].(mcp.TextContent).Text
			if d := time.Since(start); d > 3*time.Second || !res.IsError || !strings.Contains(text, tc.want) {
				t.Errorf("after %s: %q, want an error containing %q", d, text, tc.want)
			}
		})
	}
	if len(h.snapshot().KeyPairs) != 0 {
		t.Error("the create cut short was applied")
	}
}
