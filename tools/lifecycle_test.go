package tools_test

import (
	"context"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud/emulator"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/tools"
)

// paramWire records the parameters of every request of one action.
type paramWire struct {
	emu    http.Handler
	action string
	mu     sync.Mutex
	seen   []map[string]string
}

func (w *paramWire) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	if r.Form.Get("Action") == w.action {
		p := map[string]string{}
		for k, v := range r.Form {
			p[k] = v[0]
		}
		w.mu.Lock()
		w.seen = append(w.seen, p)
		w.mu.Unlock()
	}
	w.emu.ServeHTTP(rw, r)
}

func outcomesOf(out schema.RebootInstancesOutput) map[string]string {
	m := map[string]string{}
	for _, o := range out.Instances {
		m[o.InstanceID] = o.Outcome
	}
	return m
}

// reboot_instances previews, then reboots the Running instances and waits
// for them, reporting them as they come back; Stopped or transitional
// ones are left alone, unknown ones reported.
func TestRebootInstances(t *testing.T) {
	t.Parallel()
	var wire *paramWire
	h := newHarnessWith(t, harnessOptions{wire: func(emu http.Handler) http.Handler {
		wire = &paramWire{emu: emu, action: "RebootInstances"}
		return wire
	}})
	web1, web2, db, ci := h.instanceID("web-prod-01"), h.instanceID("web-prod-02"), h.instanceID("db-replica-01"), h.instanceID("ci-runner-01")
	ids := []string{web1, web2, db, ci, "i-bp1nothere0000000000"}
	preview, text := ok[schema.RebootInstancesOutput](h, "reboot_instances", map[string]any{"regionId": "cn-hangzhou", "instanceIds": ids})
	want := map[string]string{web1: "would_reboot", web2: "would_reboot", db: "not_running", ci: "not_running", "i-bp1nothere0000000000": "not_found"}
	if got := outcomesOf(preview); preview.Executed || !maps.Equal(got, want) || !strings.HasPrefix(text, "Not executed") {
		t.Errorf("preview: executed %v, %v, %q", preview.Executed, got, text)
	}
	if len(wire.seen) != 0 {
		t.Fatal("the preview rebooted")
	}

	progress := watchProgress(h.client)
	res := callWithToken(t, h, "reboot_instances", map[string]any{"regionId": "cn-hangzhou", "instanceIds": ids, "confirm": true, "forceReboot": true}, "r1")
	out := decode[schema.RebootInstancesOutput](t, res)
	want[web1], want[web2] = "rebooted", "rebooted"
	if got := outcomesOf(out); !out.Executed || !maps.Equal(got, want) {
		t.Errorf("confirmed: %v", got)
	}
	for _, o := range out.Instances[:2] {
		if o.Status != "Running" {
			t.Errorf("%s: status %s after the wait", o.InstanceID, o.Status)
		}
	}
	if len(wire.seen) != 1 || wire.seen[0]["ForceReboot"] != "true" || wire.seen[0]["InstanceId.1"] != web1 || wire.seen[0]["InstanceId.3"] != "" {
		t.Errorf("RebootInstances sent %v; want one request for the two Running instances, forced", wire.seen)
	}
	var back []string
	for _, n := range progress.snapshot() {
		if strings.Contains(n.message, "instances Running again") {
			back = append(back, n.message)
		}
	}
	if !slices.Equal(back, []string{"in cn-hangzhou: 1 of 2 instances Running again", "in cn-hangzhou: 2 of 2 instances Running again"}) {
		t.Errorf("progress while waiting: %q", back)
	}

	// wait: false returns once the reboot is sent.
	sent, _ := ok[schema.RebootInstancesOutput](h, "reboot_instances", map[string]any{"regionId": "cn-hangzhou", "instanceIds": []string{web1}, "confirm": true, "wait": false})
	if sent.Instances[0].Outcome != "reboot_sent" || sent.Instances[0].Status != "Stopping" {
		t.Errorf("wait: false: %+v", sent.Instances[0])
	}
}

// A reboot the API refuses is reported per instance; one that takes longer
// than the call is timed_out_waiting.
func TestRebootFailures(t *testing.T) {
	t.Parallel()
	h := newHarness(t, false)
	web := h.instanceID("web-prod-01")
	h.emu.SetFaults(emulator.FaultPlan{PerAction: map[string]emulator.Faults{"RebootInstances": {ThrottleRate: 1}}})
	out, _ := ok[schema.RebootInstancesOutput](h, "reboot_instances", map[string]any{"regionId": "cn-hangzhou", "instanceIds": []string{web}, "confirm": true})
	if o := out.Instances[0]; o.Outcome != "failed" || o.Code != "Throttling" {
		t.Errorf("throttled: %+v", o)
	}
	h.emu.SetFaults(emulator.FaultPlan{})

	slow := newHarnessWith(t, harnessOptions{reboot: time.Minute})
	web = slow.instanceID("web-prod-01")
	req := mcp.CallToolRequest{}
	req.Params.Name = "reboot_instances"
	req.Params.Arguments = map[string]any{"regionId": "cn-hangzhou", "instanceIds": []string{web}, "confirm": true}
	start := time.Now()
	res, err := slow.client.CallTool(tools.WithCallTimeout(context.Background(), 700*time.Millisecond), req)
	if err != nil {
		t.Fatal(err)
	}
	got := decode[schema.RebootInstancesOutput](t, res)
	if o := got.Instances[0]; o.Outcome != "timed_out_waiting" || (o.Status != "Stopping" && o.Status != "Starting") || time.Since(start) > 4*time.Second {
		t.Errorf("after %s: %+v", time.Since(start), o)
	}
}

func stepOf(out schema.RotateKeyPairOutput, step string) map[string]string {
	m := map[string]string{}
	for _, s := range out.Steps {
		if s.Step == step {
			for _, it := range s.Items {
				m[it.Item] = it.Outcome
			}
		}
	}
	return m
}

// A whole rotation with one approval: the plan first, then the new key
// imported, attached to every instance carrying the old one, the Running
// ones rebooted, the old key deleted; every step in the audit log; a run
// again finds nothing left.
func TestRotation(t *testing.T) {
	t.Parallel()
	for _, proto := range protocols {
		t.Run(proto.name, func(t *testing.T) {
			t.Parallel()
			auditPath := filepath.Join(t.TempDir(), "audit.log")
			p := &person{action: mcp.ElicitationResponseActionAccept, content: map[string]any{"confirmation": "old-key", "approve": true}}
			h := approvalHarness(t, proto.version, p, true, auditPath)
			h.importKey("cn-hangzhou", "old-key")
			web1, web2, db := h.instanceID("web-prod-01"), h.instanceID("web-prod-02"), h.instanceID("db-replica-01")
			ok[schema.BindKeyPairOutput](h, "attach_key_pair", map[string]any{"regionId": "cn-hangzhou", "keyPairName": "old-key",
				"instanceIds": []string{web1, web2, db}, "confirm": true})
			args := map[string]any{"regionId": "cn-hangzhou", "fromKeyPairName": "old-key", "toKeyPairName": "new-key",
				"publicKeyBody": fixture(t, "rsa2048.pub"), "reboot": true, "deleteOld": true}
			asked := len(p.asked())

			plan, text := ok[schema.RotateKeyPairOutput](h, "rotate_key_pair", args)
			if plan.Executed || !strings.HasPrefix(text, "Not executed") || len(plan.Remaining) != 4 ||
				stepOf(plan, "new_key")["new-key"] != "would_import" ||
				!maps.Equal(stepOf(plan, "attach"), map[string]string{web1: "would_attach", web2: "would_attach", db: "would_attach"}) ||
				!maps.Equal(stepOf(plan, "reboot"), map[string]string{web1: "would_reboot", web2: "would_reboot"}) ||
				stepOf(plan, "delete_old")["old-key"] != "would_delete" {
				t.Fatalf("plan %+v, %q", plan, text)
			}

			args["confirm"] = true
			out, _ := ok[schema.RotateKeyPairOutput](h, "rotate_key_pair", args)
			shown := p.asked()[asked:]
			if len(shown) != 1 || !strings.Contains(shown[0], `Old key pair (replaced): "old-key", fingerprint `+md5Fixture(t, "ecdsa256.md5")) ||
				!strings.Contains(shown[0], `New key pair: "new-key", to be imported, fingerprint `+md5Fixture(t, "rsa2048.md5")) ||
				!strings.Contains(shown[0], "type the old key pair's name: old-key") {
				t.Errorf("the person was asked %d times: %q", len(shown), shown)
			}
			if !out.Executed || len(out.Remaining) != 0 || len(out.RebootRequired) != 0 ||
				stepOf(out, "new_key")["new-key"] != "imported" ||
				!maps.Equal(stepOf(out, "attach"), map[string]string{web1: "attached", web2: "attached", db: "attached"}) ||
				!maps.Equal(stepOf(out, "reboot"), map[string]string{web1: "rebooted", web2: "rebooted"}) ||
				stepOf(out, "delete_old")["old-key"] != "deleted" {
				t.Errorf("rotation %+v", out)
			}
			for _, id := range []string{web1, web2, db} {
				if h.keyOf(id) != "new-key" {
					t.Errorf("%s carries %q", id, h.keyOf(id))
				}
			}
			if slices.Contains(h.keyPairNames(), "old-key") {
				t.Error("the old key pair is still there")
			}
			var steps []string
			for _, l := range readAudit(t, auditPath) {
				if l.Tool == "rotate_key_pair" {
					steps = append(steps, l.Event+" "+l.Step)
				}
			}
			wantSteps := []string{"intent new_key", "outcome new_key", "intent attach", "outcome attach", "intent reboot", "outcome reboot",
				"intent delete_old", "outcome delete_old"}
			if !slices.Equal(steps, wantSteps) {
				t.Errorf("audit lines %v, want %v", steps, wantSteps)
			}

			// Again: nothing remains, and the plan says so.
			delete(args, "confirm")
			again, text := ok[schema.RotateKeyPairOutput](h, "rotate_key_pair", args)
			if len(again.Remaining) != 0 || !strings.HasPrefix(text, "Nothing remains") {
				t.Errorf("after the rotation: %+v, %q", again.Remaining, text)
			}
		})
	}
}

// The old key pair stays while an instance the rotation does not change
// carries it; a created new key pair's private key is written to a file.
func TestRotationKeepsACarriedKeyAndCreatesTheNewOne(t *testing.T) {
	t.Parallel()
	h := newHarness(t, false)
	h.importKey("cn-hangzhou", "old-key")
	web1, web2 := h.instanceID("web-prod-01"), h.instanceID("web-prod-02")
	ok[schema.BindKeyPairOutput](h, "attach_key_pair", map[string]any{"regionId": "cn-hangzhou", "keyPairName": "old-key",
		"instanceIds": []string{web1, web2}, "confirm": true})
	out, _ := ok[schema.RotateKeyPairOutput](h, "rotate_key_pair", map[string]any{"regionId": "cn-hangzhou",
		"fromKeyPairName": "old-key", "toKeyPairName": "made-key", "instanceIds": []string{web1}, "deleteOld": true, "confirm": true})
	if stepOf(out, "new_key")["made-key"] != "created" || stepOf(out, "delete_old")["old-key"] != "kept" ||
		!slices.Equal(out.RebootRequired, []string{web1}) || len(out.Remaining) != 1 {
		t.Errorf("rotation %+v", out)
	}
	if h.keyOf(web1) != "made-key" || h.keyOf(web2) != "old-key" || !slices.Contains(h.keyPairNames(), "old-key") {
		t.Errorf("%s carries %q, %s carries %q, key pairs %v", web1, h.keyOf(web1), web2, h.keyOf(web2), h.keyPairNames())
	}
	info, err := os.Stat(out.PrivateKeyFile)
	if err != nil || info.Mode().Perm() != 0o600 || out.PrivateKeyFile != filepath.Join(h.keyDir, "made-key.cn-hangzhou.pem") {
		t.Errorf("private key file %q: %v", out.PrivateKeyFile, err)
	}
}

// A rotation that fails at any step stops there, says what remains, and
// the same call again, once the cloud is well, finishes it.
func TestRotationFailsMidwayAndConverges(t *testing.T) {
	t.Parallel()
	for _, action := range []string{"ImportKeyPair", "AttachKeyPair", "RebootInstances", "DeleteKeyPairs"} {
		t.Run(action, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, false)
			h.importKey("cn-hangzhou", "old-key")
			web, db := h.instanceID("web-prod-01"), h.instanceID("db-replica-01")
			ok[schema.BindKeyPairOutput](h, "attach_key_pair", map[string]any{"regionId": "cn-hangzhou", "keyPairName": "old-key",
				"instanceIds": []string{web, db}, "confirm": true})
			args := map[string]any{"regionId": "cn-hangzhou", "fromKeyPairName": "old-key", "toKeyPairName": "new-key",
				"publicKeyBody": fixture(t, "rsa2048.pub"), "reboot": true, "deleteOld": true, "confirm": true}
			h.emu.SetFaults(emulator.FaultPlan{PerAction: map[string]emulator.Faults{action: {ThrottleRate: 1}}})
			first, text := ok[schema.RotateKeyPairOutput](h, "rotate_key_pair", args)
			if len(first.Remaining) == 0 || !strings.Contains(text, "Stopped before the end") {
				t.Errorf("first run: %+v, %q", first, text)
			}
			// Never the old key pair deleted while an instance carries it.
			if !slices.Contains(h.keyPairNames(), "old-key") && (h.keyOf(web) == "old-key" || h.keyOf(db) == "old-key") {
				t.Fatal("the old key pair was deleted while an instance carries it")
			}
			h.emu.SetFaults(emulator.FaultPlan{})
			second, _ := ok[schema.RotateKeyPairOutput](h, "rotate_key_pair", args)
			if len(second.Remaining) != 0 {
				t.Errorf("second run left %v", second.Remaining)
			}
			if h.keyOf(web) != "new-key" || h.keyOf(db) != "new-key" || slices.Contains(h.keyPairNames(), "old-key") {
				t.Errorf("after the second run: %s carries %q, %s carries %q, key pairs %v", web, h.keyOf(web), db, h.keyOf(db), h.keyPairNames())
			}
		})
	}
}

// A rotation whose new key pair fails to be imported or created writes one
// intent and one outcome for that step, naming it, with the key pair once:
// nothing left open for the audit log to close as unknown.
func TestRotationNewKeyFailureInTheAuditLog(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, action string
		args         map[string]any
	}{
		{"import", "ImportKeyPair", map[string]any{"publicKeyBody": fixture(t, "rsa2048.pub")}},
		{"create", "CreateKeyPair", map[string]any{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			auditPath := filepath.Join(t.TempDir(), "audit.log")
			h := newHarnessWith(t, harnessOptions{deps: func(d *tools.Deps) { d.Audit = openAudit(t, auditPath) }})
			h.importKey("cn-hangzhou", "old-key")
			web := h.instanceID("web-prod-01")
			ok[schema.BindKeyPairOutput](h, "attach_key_pair", map[string]any{"regionId": "cn-hangzhou", "keyPairName": "old-key",
				"instanceIds": []string{web}, "confirm": true})
			h.emu.SetFaults(emulator.FaultPlan{PerAction: map[string]emulator.Faults{tc.action: {ThrottleRate: 1}}})
			args := map[string]any{"regionId": "cn-hangzhou", "fromKeyPairName": "old-key", "toKeyPairName": "new-key", "confirm": true}
			maps.Copy(args, tc.args)
			out, _ := ok[schema.RotateKeyPairOutput](h, "rotate_key_pair", args)
			if stepOf(out, "new_key")["new-key"] != "failed" {
				t.Fatalf("rotation %+v", out)
			}
			var lines []string
			for _, l := range readAudit(t, auditPath) {
				if l.Tool != "rotate_key_pair" {
					continue
				}
				line := l.Event + " " + l.Step
				for _, o := range l.Outcomes {
					line += " " + o.Item + ":" + o.Outcome + ":" + o.Code
				}
				lines = append(lines, line)
			}
			want := []string{"intent new_key", "outcome new_key new-key:failed:Throttling"}
			if !slices.Equal(lines, want) {
				t.Errorf("audit lines %q, want %q", lines, want)
			}
		})
	}
}

// A reboot whose answer is lost after the cloud took it may have started:
// the result says so, and the audit log records its outcome as unknown,
// not failed.
func TestLostRebootIsUnknownInTheAuditLog(t *testing.T) {
	t.Parallel()
	auditPath := filepath.Join(t.TempDir(), "audit.log")
	h := newHarnessWith(t, harnessOptions{deps: func(d *tools.Deps) { d.Audit = openAudit(t, auditPath) }})
	web := h.instanceID("web-prod-01")
	h.emu.SetFaults(emulator.FaultPlan{PerAction: map[string]emulator.Faults{"RebootInstances": {DropAfterRate: 1}}})
	out, _ := ok[schema.RebootInstancesOutput](h, "reboot_instances", map[string]any{"regionId": "cn-hangzhou",
		"instanceIds": []string{web}, "wait": false, "confirm": true})
	if o := out.Instances[0]; o.Outcome != "failed" || !strings.Contains(o.Message, "may or may not have started") {
		t.Fatalf("result %+v", o)
	}
	var fates []string
	for _, l := range readAudit(t, auditPath) {
		if l.Tool == "reboot_instances" && l.Event == "outcome" {
			for _, o := range l.Outcomes {
				fates = append(fates, o.Item+":"+o.Outcome)
			}
		}
	}
	if want := []string{web + ":unknown"}; !slices.Equal(fates, want) {
		t.Errorf("audit outcomes %q, want %q", fates, want)
	}
}
