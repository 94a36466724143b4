package tools_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
)

// rebootSlack is added to a reboot's end as the results bound it: a
// request may reach the emulator a little after its call gave up on it.
const rebootSlack = faultRebootTime

// mayReboot records that a reboot of the instance may be under way from
// now on: one was sent, or may have been.
func (w *worker) mayReboot(id string) {
	if !w.own(id) {
		return
	}
	if by := time.Now().Add(faultRebootTime); by.After(w.rebootBy[id]) {
		w.rebootBy[id] = by
	}
}

// observe checks an instance's status as a result showed it during the
// current call: the worker's instances are Running, or rebooting while a
// reboot the results left open may last.
func (w *worker) observe(t *testing.T, id, status, how string) {
	if !w.own(id) || status == "Running" {
		return
	}
	switch by := w.rebootBy[id].Add(rebootSlack); {
	case status != "Stopping" && status != "Starting":
		t.Errorf("%s: %s: %s, though nothing stops the worker's instances", id, how, status)
	case w.start.After(by):
		t.Errorf("%s: %s: %s at %s, though every reboot the results left open was over by %s",
			id, how, status, w.start.Format("15:04:05.000"), by.Format("15:04:05.000"))
	}
}

// someOf returns a random subset of the worker's instances, never empty,
// now and then with an instance that does not exist.
func (w *worker) someOf() []string {
	var ids []string
	for _, id := range w.insts {
		if w.rng.IntN(2) == 0 {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		ids = append(ids, w.insts[w.rng.IntN(len(w.insts))])
	}
	if w.rng.IntN(10) == 0 {
		ids = append(ids, fmt.Sprintf("i-nosuch%d", w.id))
	}
	w.rng.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	return ids
}

// reboot makes one reboot_instances call, with confirm, on some of the
// worker's instances, and checks and records what its result says. A
// reboot changes no key pair: what it says is checked against the reboots
// the results left open, and the instances' end (all Running).
func (w *worker) reboot(t *testing.T, h *faultHarness) (string, outcome) {
	const tool = "reboot_instances"
	targets := w.someOf()
	wait := w.rng.IntN(2) == 0
	args := map[string]any{"regionId": w.region, "instanceIds": targets, "wait": wait, "confirm": true}
	if w.rng.IntN(4) == 0 {
		args["forceReboot"] = true
	}
	o := h.callOnce(t, tool, args)
	if o.code != "" {
		// The reboots may have been sent.
		for _, id := range targets {
			w.mayReboot(id)
		}
		return tool, o
	}
	var out schema.RebootInstancesOutput
	if err := json.Unmarshal(o.structured, &out); err != nil || !out.Executed || len(out.Instances) != len(targets) {
		t.Errorf("reboot %v: %s", targets, o.structured)
		for _, id := range targets {
			w.mayReboot(id)
		}
		return tool, o
	}
	sentTransient := false
	for i, r := range out.Instances {
		id := targets[i]
		key := "reboot:" + r.Outcome
		if r.Outcome == "failed" {
			key += ":" + r.Code
		}
		w.lifecycle[key]++
		if r.InstanceID != id {
			t.Errorf("reboot: instances[%d] is %s, want %s", i, r.InstanceID, id)
			w.mayReboot(id)
			continue
		}
		if !w.own(id) {
			if r.Outcome != "not_found" {
				t.Errorf("reboot: no such instance %s: outcome %s", id, r.Outcome)
			}
			continue
		}
		switch r.Outcome {
		case "rebooted":
			// Rebooted and Running again: the reboot is over.
			if !wait || r.Status != "Running" {
				t.Errorf("reboot (wait %v): %s rebooted, status %s", wait, id, r.Status)
			}
		case "reboot_sent":
			w.mayReboot(id)
			if wait {
				t.Errorf("reboot (wait): %s reboot_sent, not waited for", id)
			}
		case "timed_out_waiting":
			w.mayReboot(id)
			if !wait || r.Status == "Running" {
				t.Errorf("reboot (wait %v): %s timed_out_waiting, status %s", wait, id, r.Status)
			}
		case "not_running":
			// Left alone: it was rebooting already.
			w.observe(t, id, r.Status, "reboot left it alone")
			if r.Status == "Running" {
				t.Errorf("reboot: %s not_running, though Running", id)
			}
		case "failed":
			// Refused, or sent without an answer: the reboot may be under
			// way all the same.
			w.mayReboot(id)
			if absorbable[r.Code] && !strings.Contains(r.Message, "may or may not") {
				sentTransient = true
			}
		default:
			t.Errorf("reboot: %s: outcome %q %s", id, r.Outcome, r.Code)
			w.mayReboot(id)
		}
	}
	if sentTransient {
		w.transient[tool]++
	}
	return tool, o
}

// rotate makes one rotate_key_pair call, with confirm, from one of the
// worker's key pair names to another, on its instances (all that carry
// the old one, or some of them), and records what each step says.
func (w *worker) rotate(t *testing.T, h *faultHarness, rsa, ecdsa string) (string, outcome) {
	const tool = "rotate_key_pair"
	// Mostly from a key pair an instance carries, as the results said.
	var carried []string
	for _, id := range w.insts {
		if b := w.bound[id]; b != "" && b != unknownKey && !slices.Contains(carried, b) {
			carried = append(carried, b)
		}
	}
	from := w.names[w.rng.IntN(len(w.names))]
	if len(carried) > 0 && w.rng.IntN(4) > 0 {
		from = carried[w.rng.IntN(len(carried))]
	}
	to := from
	for to == from {
		to = w.names[w.rng.IntN(len(w.names))]
	}
	reboot, deleteOld := w.rng.IntN(2) == 0, w.rng.IntN(3) > 0
	args := map[string]any{"regionId": w.region, "fromKeyPairName": from, "toKeyPairName": to,
		"reboot": reboot, "deleteOld": deleteOld, "confirm": true}
	body := ""
	switch w.rng.IntN(4) {
	case 0:
		body = rsa
	case 1:
		body = ecdsa
	}
	if body != "" {
		args["publicKeyBody"] = body
	}
	var ids []string
	if w.rng.IntN(3) == 0 {
		ids = w.someOf()
		args["instanceIds"] = ids
	}
	// The instances the rotation may change: those it names, or all.
	scope := w.insts
	if ids != nil {
		scope = ids
	}
	o := h.callOnce(t, tool, args)

	switch o.code {
	case "":
	case "InvalidKeyPairName.NotFound":
		// The plan found neither key pair; nothing was sent.
		w.keyAbsent(t, h, from, "rotation said InvalidKeyPairName.NotFound")
		w.keyAbsent(t, h, to, "rotation said InvalidKeyPairName.NotFound")
		return tool, o
	case "KeyPair.AlreadyExist":
		// The new key pair exists with another public key; nothing was sent.
		if body == "" {
			t.Errorf("rotate %s to %s: KeyPair.AlreadyExist without publicKeyBody: %s", from, to, o.text)
		}
		w.keyExists(t, to, "rotation said KeyPair.AlreadyExist")
		return tool, o
	default:
		// Any step may have run: the new key pair made, attached to the
		// instances that carried the old one, those rebooted, the old one
		// deleted.
		w.rotationOpen(from, to, scope, reboot)
		return tool, o
	}
	var out schema.RotateKeyPairOutput
	if err := json.Unmarshal(o.structured, &out); err != nil || !out.Executed || len(out.Steps) != 4 {
		t.Errorf("rotate %s to %s: %s", from, to, o.structured)
		w.rotationOpen(from, to, scope, reboot)
		return tool, o
	}
	for i, step := range []string{"new_key", "attach", "reboot", "delete_old"} {
		if out.Steps[i].Step != step {
			t.Errorf("rotate %s to %s: step %d is %q, want %q", from, to, i, out.Steps[i].Step, step)
		}
	}
	r := rotation{w: w, t: t, from: from, to: to, out: out}
	sentTransient := false
	count := func(step string, it schema.RotationItem) {
		key := "rotate." + step + ":" + it.Outcome
		if it.Outcome == "failed" {
			code := it.Code
			if code == "" {
				code = "(no code)"
			}
			key += ":" + code
			if strings.HasPrefix(it.Message, "not sent: ") {
				key += ":not_sent"
			}
			if absorbable[it.Code] && !strings.Contains(it.Message, "may or may not") {
				sentTransient = true
			}
		}
		w.lifecycle[key]++
	}
	for i, step := range []string{"new_key", "attach", "reboot", "delete_old"} {
		for _, it := range out.Steps[i].Items {
			count(step, it)
		}
	}
	if sentTransient {
		w.transient[tool]++
	}

	// 1. The new key pair.
	ok := r.newKey(h, body)
	// 2. Attached, to the instances named, or to those that carry either.
	attached, attachFailed := r.attach(ok, ids)
	// 3. Rebooted, the Running ones, when asked and every attach succeeded.
	rebootFailed := r.reboot(ok && !attachFailed, reboot, attached)
	// 4. The old key pair deleted once nothing carries it, when asked and
	// every step before succeeded.
	r.deleteOld(h, ok && !attachFailed && !rebootFailed && deleteOld)

	if !reboot || attachFailed {
		// The instances that took the new key, and those that may have (an
		// attach whose answer was lost): all the worker's instances run.
		want := slices.Clone(attached)
		for _, it := range out.Steps[1].Items {
			if it.Outcome == "failed" && strings.Contains(it.Message, "may or may not") {
				want = append(want, it.Item)
			}
		}
		if !slices.Equal(sorted(out.RebootRequired), sorted(want)) {
			t.Errorf("rotate %s to %s: rebootRequired %v, but attached %v, maybe %v", from, to, out.RebootRequired, attached, want[len(attached):])
		}
	}
	created := len(out.Steps[0].Items) == 1 && out.Steps[0].Items[0].Outcome == "created"
	if (out.PrivateKeyFile != "") != created {
		t.Errorf("rotate %s to %s: privateKeyFile %q, new key %v", from, to, out.PrivateKeyFile, out.Steps[0].Items)
	}
	// Nothing remains only when nothing failed.
	if len(out.Remaining) == 0 {
		for _, s := range out.Steps {
			for _, it := range s.Items {
				if it.Outcome == "failed" || it.Outcome == "would_fail" || it.Outcome == "timed_out_waiting" || it.Outcome == "kept" {
					t.Errorf("rotate %s to %s: nothing remains, though %s: %s %s", from, to, s.Step, it.Item, it.Outcome)
				}
			}
		}
	}
	return tool, o
}

// rotationOpen records a rotation whose result left every step open.
func (w *worker) rotationOpen(from, to string, scope []string, reboot bool) {
	if w.state[to] == absent {
		w.state[to] = unknown
	}
	if w.state[from] != absent {
		w.state[from] = unknown
	}
	for _, id := range scope {
		if !w.own(id) {
			continue
		}
		switch w.bound[id] {
		case from, unknownKey:
			w.bound[id] = unknownKey
			if reboot {
				w.mayReboot(id)
			}
		}
	}
}

// rotation checks and records one rotation's result, step by step.
type rotation struct {
	w        *worker
	t        *testing.T
	from, to string
	out      schema.RotateKeyPairOutput
}

func (r *rotation) errorf(format string, args ...any) {
	r.t.Helper()
	r.t.Errorf("rotate %s to %s: %s", r.from, r.to, fmt.Sprintf(format, args...))
}

// newKey records the new_key step; it reports whether it succeeded.
func (r *rotation) newKey(h *faultHarness, body string) bool {
	w, t, to := r.w, r.t, r.to
	items := r.out.Steps[0].Items
	if len(items) != 1 || items[0].Item != to {
		r.errorf("new_key items %+v", items)
		if w.state[to] == absent {
			w.state[to] = unknown
		}
		return false
	}
	it := items[0]
	pem := filepath.Join(h.keyDir, to+"."+w.region+".pem")
	made := func(st keyState) {
		if s := w.state[to]; s != absent && s != unknown {
			r.errorf("%s the new key pair, though the results said it exists (state %d)", it.Outcome, s)
		}
		w.state[to] = st
	}
	switch it.Outcome {
	case "reused":
		w.keyExists(t, to, "rotation reused it")
		return true
	case "imported":
		if body == "" {
			r.errorf("imported without publicKeyBody")
		}
		made(imported)
		return true
	case "created":
		if body != "" {
			r.errorf("created, though publicKeyBody was given")
		}
		made(withKey)
		if info, err := os.Stat(pem); r.out.PrivateKeyFile != pem || err != nil || info.Size() == 0 {
			r.errorf("created, private key file %q (want %s): %v", r.out.PrivateKeyFile, pem, err)
		}
		return true
	case "failed":
		switch it.Code {
		case cloud.CodeCreatedWithoutPrivateKey, "PrivateKeyNotSaved":
			w.state[to] = keyLost
		case cloud.CodeOutcomeUnknown:
			w.state[to] = unknown
		case "PrivateKeyFile.AlreadyExists":
			// A key file from an earlier create: nothing was sent.
			return false
		case "KeyPair.AlreadyExist":
			w.keyExists(t, to, "rotation's new_key said KeyPair.AlreadyExist")
		}
		// Any other failure said so: nothing was made.
		if _, err := os.Stat(pem); err == nil && w.state[to] != withKey {
			r.errorf("new_key failed (%s) but left %s", it.Code, pem)
		}
		return false
	default:
		r.errorf("new_key outcome %q", it.Outcome)
		w.state[to] = unknown
		return false
	}
}

// attach records the attach step: the instances attached, in order, and
// whether any failed (the rotation stops then).
func (r *rotation) attach(ran bool, ids []string) (attached []string, failed bool) {
	w, t, from, to := r.w, r.t, r.from, r.to
	items := r.out.Steps[1].Items
	if !ran {
		if len(items) > 0 {
			r.errorf("attach items %+v after the new key pair failed", items)
		}
		return nil, false
	}
	var listed []string
	for _, it := range items {
		listed = append(listed, it.Item)
	}
	if ids != nil {
		if !slices.Equal(listed, ids) {
			r.errorf("attach lists %v, want the instances named %v", listed, ids)
		}
	} else {
		for _, id := range w.insts {
			if b := w.bound[id]; (b == from || b == to) && !slices.Contains(listed, id) {
				r.errorf("attach lists %v, not %s, which carries %q as the results said", listed, id, b)
			}
		}
	}
	for _, it := range items {
		id := it.Item
		if !w.own(id) {
			if it.Outcome != "not_found" {
				r.errorf("no such instance %s: outcome %s", id, it.Outcome)
			}
			continue
		}
		w.observe(t, id, it.Status, "rotation's plan")
		prev := w.bound[id]
		switch it.Outcome {
		case "attached":
			if prev != unknownKey && prev != from {
				r.errorf("attached to %s, which carried %q as the results said", id, prev)
			}
			w.bound[id] = to
			attached = append(attached, id)
		case "already_attached":
			if prev != unknownKey && prev != to {
				r.errorf("%s already_attached, though it carries %q as the results said", id, prev)
			}
			w.bound[id] = to
		case "not_carrying":
			if ids == nil {
				r.errorf("%s not_carrying, though the instances were not named", id)
			}
			if prev == from || prev == to {
				r.errorf("%s not_carrying, though it carries %q as the results said", id, prev)
			}
		case "would_fail", "failed":
			// Planned (it carried the old key pair, and was rebooting) and
			// not sent: it carries the old key pair still. would_fail: the
			// step stopped before it said so.
			failed = true
			if it.Outcome == "would_fail" || strings.HasPrefix(it.Message, "not sent: ") {
				if it.Code != "IncorrectInstanceStatus" {
					r.errorf("%s not sent, code %s: %s", id, it.Code, it.Message)
				}
				switch prev {
				case unknownKey:
					w.bound[id] = from
				case from:
				default:
					r.errorf("%s planned for the attach, though it carries %q as the results said", id, prev)
				}
				break
			}
			// Sent: whether it ran is open.
			w.bound[id] = unknownKey
		default:
			r.errorf("%s: attach outcome %q %s", id, it.Outcome, it.Code)
			w.bound[id] = unknownKey
			failed = true
		}
	}
	return attached, failed
}

// reboot records the reboot step; it reports whether any reboot did not
// end Running (the rotation stops then).
func (r *rotation) reboot(ran, asked bool, attached []string) (failed bool) {
	w := r.w
	items := r.out.Steps[2].Items
	var listed []string
	for _, it := range items {
		listed = append(listed, it.Item)
	}
	if !ran || !asked {
		if len(items) > 0 {
			r.errorf("reboot items %+v (reboot %v, the steps before succeeded %v)", items, asked, ran)
		}
		return false
	}
	// Every instance the rotation attached is Running: each is rebooted.
	if !slices.Equal(listed, attached) {
		r.errorf("rebooted %v, attached %v", listed, attached)
	}
	var notBack []string
	for _, it := range items {
		switch it.Outcome {
		case "rebooted":
			if it.Status != "Running" {
				r.errorf("%s rebooted, status %s", it.Item, it.Status)
			}
		case "failed", "timed_out_waiting":
			w.mayReboot(it.Item)
			notBack = append(notBack, it.Item)
			failed = true
		default:
			r.errorf("%s: reboot outcome %q %s", it.Item, it.Outcome, it.Code)
			w.mayReboot(it.Item)
			notBack = append(notBack, it.Item)
			failed = true
		}
	}
	if !slices.Equal(r.out.RebootRequired, notBack) {
		r.errorf("rebootRequired %v, but not rebooted %v", r.out.RebootRequired, notBack)
	}
	return failed
}

// deleteOld records the delete_old step. A rotation that says it deleted
// the old key pair must have left no instance carrying it, as the results
// say (the wire checks the cloud's state as the request arrived); one that
// kept it names every instance that carries it.
func (r *rotation) deleteOld(h *faultHarness, ran bool) {
	w, t, from := r.w, r.t, r.from
	items := r.out.Steps[3].Items
	if !ran {
		if len(items) > 0 {
			r.errorf("delete_old items %+v, though it was not asked for or a step before failed", items)
		}
		return
	}
	if len(items) != 1 || items[0].Item != from {
		r.errorf("delete_old items %+v", items)
		w.state[from] = unknown
		return
	}
	it := items[0]
	switch it.Outcome {
	case "deleted":
		w.keyExists(t, from, "the rotation deleted it")
		w.state[from] = absent
		w.keyAbsent(t, h, from, "the rotation deleted it")
		moveKeyFile(h, w.region, from)
	case "not_found":
		w.keyAbsent(t, h, from, "the rotation found it gone")
	case "kept":
		w.keyExists(t, from, "the rotation kept it")
		list, _, found := strings.Cut(strings.TrimPrefix(it.Message, "still carried by "), ", which ")
		if !found || !strings.HasPrefix(it.Message, "still carried by ") {
			r.errorf("kept: %q", it.Message)
			return
		}
		carriers := strings.Split(list, ", ")
		for _, id := range carriers {
			switch {
			case !w.own(id):
				r.errorf("kept: carried by %s, not one of worker %d's instances", id, w.id)
			case w.bound[id] == unknownKey:
				w.bound[id] = from
			case w.bound[id] != from:
				r.errorf("kept: carried by %s, which carries %q as the results said", id, w.bound[id])
			}
		}
		for _, id := range w.insts {
			if w.bound[id] == from && !slices.Contains(carriers, id) {
				r.errorf("kept: carried by %v, but the results said %s carries it too", carriers, id)
			}
		}
	case "failed":
		if it.Code == "InvalidParameter.KeypairAlreadyAttachedInstance" {
			r.errorf("the cloud refused to delete the old key pair as attached: the rotation sent the delete while an instance carried it: %s", it.Message)
		}
		if strings.HasPrefix(it.Message, "not deleted: ") {
			return // the carriers could not be read: nothing was sent
		}
		w.state[from] = unknown
	default:
		r.errorf("delete_old outcome %q", it.Outcome)
		w.state[from] = unknown
	}
}
