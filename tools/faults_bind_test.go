package tools_test

import (
	"bytes"
	"encoding/json"
	"sync/atomic"
	"testing"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud/emulator"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
)

// TestBindAfterLostAnswer: the answer to an AttachKeyPair or DetachKeyPair
// request is lost after the change was made (the connection closes), and
// the cloud client sends the request again, as it may: both are
// idempotent. The result must report what the call did.
// For a detach, the second DetachKeyPair finds the key pair no longer on the
// instance and answers InvalidParameter.KeyPairNotAttached for it; the call
// must still report "detached", since this very call detached it.
func TestBindAfterLostAnswer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		action string
		tool   string
		before string // the key pair the instance carries before the call
		after  string
		done   string
	}{
		{"AttachKeyPair", "attach_key_pair", "", "repro-k", "attached"},
		{"DetachKeyPair", "detach_key_pair", "repro-k", "", "detached"},
	} {
		t.Run(tc.tool, func(t *testing.T) {
			h := newFaultHarness(t, 1, &bytes.Buffer{})
			h.emu.SetFaults(emulator.FaultPlan{})
			h.wire.mu.Lock()
			h.wire.rate = 0
			h.wire.mu.Unlock()
			_, ids, err := h.emu.Populate("cn-hangzhou", 0, 1)
			if err != nil {
				t.Fatal(err)
			}
			id := ids[0]
			if o := h.callOnce(t, "import_key_pair", map[string]any{"regionId": "cn-hangzhou", "keyPairName": "repro-k",
				"publicKeyBody": fixture(t, "ecdsa256.pub")}); o.code != "" {
				t.Fatal(o.text)
			}
			if tc.before != "" {
				if o := h.callOnce(t, "attach_key_pair", map[string]any{"regionId": "cn-hangzhou", "keyPairName": tc.before,
					"instanceIds": []string{id}, "confirm": true}); o.code != "" {
					t.Fatal(o.text)
				}
			}
			var sent atomic.Int32
			h.wire.setDropAfter(func(action string) bool {
				return action == tc.action && sent.Add(1) == 1
			})
			o := h.callOnce(t, tc.tool, map[string]any{"regionId": "cn-hangzhou", "keyPairName": "repro-k",
				"instanceIds": []string{id}, "confirm": true})
			if n := sent.Load(); n != 2 {
				t.Fatalf("%s sent %d times, want 2 (the first answer lost, then once again)", tc.action, n)
			}
			if got := h.keyOf(id); got != tc.after {
				t.Fatalf("%s: the instance carries %q, want %q", tc.tool, got, tc.after)
			}
			if o.code != "" {
				t.Fatalf("%s: %s", tc.tool, o.text)
			}
			var out schema.BindKeyPairOutput
			if err := json.Unmarshal(o.structured, &out); err != nil {
				t.Fatal(err)
			}
			if r := out.Instances[0]; r.Outcome != tc.done {
				t.Errorf("%s: the instance now carries %q as asked, but the result says outcome %q, code %s: %s",
					tc.tool, tc.after, r.Outcome, r.Code, r.Message)
			}
		})
	}
}
