package tools_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud/emulator"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
)

// quietFaultHarness is a fault harness without faults: a test puts its own
// where it wants them (setDropAfter).
func quietFaultHarness(t *testing.T, instances int) (*faultHarness, []string) {
	t.Helper()
	h := newFaultHarness(t, 1, &bytes.Buffer{})
	h.emu.SetFaults(emulator.FaultPlan{})
	h.wire.mu.Lock()
	h.wire.rate = 0
	h.wire.mu.Unlock()
	_, ids, err := h.emu.Populate("cn-hangzhou", 0, instances)
	if err != nil {
		t.Fatal(err)
	}
	return h, ids
}

// carryingOldKey is a quiet harness with one instance, which carries the
// key pair old-k: what a rotation from old-k starts from.
func carryingOldKey(t *testing.T) (*faultHarness, string) {
	t.Helper()
	h, ids := quietFaultHarness(t, 1)
	id := ids[0]
	if o := h.callOnce(t, "import_key_pair", map[string]any{"regionId": "cn-hangzhou", "keyPairName": "old-k",
		"publicKeyBody": fixture(t, "ecdsa256.pub")}); o.code != "" {
		t.Fatal(o.text)
	}
	if o := h.callOnce(t, "attach_key_pair", map[string]any{"regionId": "cn-hangzhou", "keyPairName": "old-k",
		"instanceIds": []string{id}, "confirm": true}); o.code != "" {
		t.Fatal(o.text)
	}
	return h, id
}

// TestRotationAfterLostAnswers: every answer to the rotation's
// AttachKeyPair, or to its RebootInstances, is lost after the cloud made
// the change (the connection closes). The result must not report as
// simply failed what may have happened: each item that may have been
// applied says so, with the error's code, as attach_key_pair and
// reboot_instances do. And the same call again, which finishes the
// rotation, must not leave an instance that got the new key pair without
// the reboot that was asked for, unless a result says it still needs one.
func TestRotationAfterLostAnswers(t *testing.T) {
	for _, tc := range []struct {
		action, step string
	}{
		{"AttachKeyPair", "attach"},
		{"RebootInstances", "reboot"},
	} {
		t.Run(tc.action, func(t *testing.T) {
			h, id := carryingOldKey(t)
			var sent atomic.Int32
			h.wire.setDropAfter(func(action string) bool {
				if action == tc.action {
					sent.Add(1)
					return true
				}
				return false
			})
			o := h.callOnce(t, "rotate_key_pair", map[string]any{"regionId": "cn-hangzhou", "fromKeyPairName": "old-k",
				"toKeyPairName": "new-k", "publicKeyBody": fixture(t, "rsa2048.pub"), "reboot": true, "deleteOld": true, "confirm": true})
			h.wire.setDropAfter(nil)
			if sent.Load() == 0 {
				t.Fatalf("no %s sent: %s", tc.action, o.text)
			}
			if o.code != "" {
				t.Fatalf("rotation: %s", o.text)
			}
			var out schema.RotateKeyPairOutput
			if err := json.Unmarshal(o.structured, &out); err != nil {
				t.Fatal(err)
			}
			var it *schema.RotationItem
			for _, s := range out.Steps {
				if s.Step == tc.step && len(s.Items) == 1 {
					it = &s.Items[0]
				}
			}
			if it == nil {
				t.Fatalf("no %s item: %s", tc.step, o.structured)
			}
			// The change was made.
			if got := h.keyOf(id); got != "new-k" {
				t.Fatalf("the instance carries %q; the lost answers should not have stopped the attach", got)
			}
			if it.Outcome == "failed" && (it.Code == "" || !strings.Contains(it.Message, "may or may not")) {
				t.Errorf("%s step: the cloud made the change, but the result says %q, code %q, message %q: "+
					"nothing says it may have been applied (attach_key_pair and reboot_instances say so)\n%s",
					tc.step, it.Outcome, it.Code, it.Message, o.structured)
			}

			// The same call again, the cloud well, finishes the rotation. The
			// instance carries the new key pair; it takes effect after a
			// reboot, which was asked for: either a run reboots it, or a
			// result says it still needs one.
			first := out
			o = h.callOnce(t, "rotate_key_pair", map[string]any{"regionId": "cn-hangzhou", "fromKeyPairName": "old-k",
				"toKeyPairName": "new-k", "publicKeyBody": fixture(t, "rsa2048.pub"), "reboot": true, "deleteOld": true, "confirm": true})
			if o.code != "" {
				t.Fatalf("re-run: %s", o.text)
			}
			var again schema.RotateKeyPairOutput
			if err := json.Unmarshal(o.structured, &again); err != nil {
				t.Fatal(err)
			}
			told := slices.Contains(first.RebootRequired, id) || slices.Contains(again.RebootRequired, id) ||
				stepOf(again, "reboot")[id] == "rebooted" || len(again.Remaining) > 0
			for _, r := range first.Remaining {
				told = told || strings.Contains(r, id) && strings.Contains(r, "reboot")
			}
			if !told {
				t.Errorf("%s got the new key pair in the first run, was never rebooted after, and no result says it needs "+
					"a reboot: first run %s\nre-run %s", id, mustJSON(first), o.structured)
			}
		})
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestRotationStepTimesOut: the call's time runs out while the request of
// the rotation's attach step, or of its reboot step, is on its way. The
// items that failed must say why, with a code and a message, as every
// other failed item does (the request may have reached the cloud).
func TestRotationStepTimesOut(t *testing.T) {
	for _, tc := range []struct {
		action string
		step   int
	}{
		{"AttachKeyPair", 1},
		{"RebootInstances", 2},
	} {
		t.Run(tc.action, func(t *testing.T) {
			h, _ := carryingOldKey(t)
			h.emu.SetFaults(emulator.FaultPlan{PerAction: map[string]emulator.Faults{tc.action: {Latency: 2 * callDeadline}}})
			o := h.callOnce(t, "rotate_key_pair", map[string]any{"regionId": "cn-hangzhou", "fromKeyPairName": "old-k",
				"toKeyPairName": "new-k", "publicKeyBody": fixture(t, "rsa2048.pub"), "reboot": true, "confirm": true})
			if o.code != "" {
				t.Fatalf("rotation: %s", o.text)
			}
			var out schema.RotateKeyPairOutput
			if err := json.Unmarshal(o.structured, &out); err != nil {
				t.Fatal(err)
			}
			if len(out.Steps) != 4 || len(out.Steps[tc.step].Items) != 1 {
				t.Fatalf("rotation: %s", o.structured)
			}
			if it := out.Steps[tc.step].Items[0]; it.Outcome != "failed" || it.Code == "" || it.Message == "" {
				t.Errorf("%s step, its request timed out: outcome %q, code %q, message %q: a failure without its reason\n%s",
					out.Steps[tc.step].Step, it.Outcome, it.Code, it.Message, o.text)
			}
		})
	}
}
