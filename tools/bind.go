package tools

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
)

// binding is attach or detach: the two share their preview and execution.
type binding struct {
	attach bool
	tool   string // "attach_key_pair" or "detach_key_pair"
	verb   string // "attach" or "detach"
	done   string // outcome of a success: "attached" or "detached"
}

var (
	attaching = binding{attach: true, tool: "attach_key_pair", verb: "attach", done: "attached"}
	detaching = binding{attach: false, tool: "detach_key_pair", verb: "detach", done: "detached"}
)

func (b binding) spec(title, about string) toolSpec[schema.BindKeyPairInput] {
	return toolSpec[schema.BindKeyPairInput]{
		kind: KindDestructive, name: b.tool, title: title, about: about,
		subject: func(in *schema.BindKeyPairInput) subject {
			return subject{regions: []string{in.RegionID}, keyPairName: in.KeyPairName, items: in.InstanceIDs, attempt: in.Confirm}
		},
		run: b.run,
	}
}

func (b binding) call(ctx context.Context, c *call, region, name string, ids []string) ([]cloud.InstanceResult, []string, error) {
	if b.attach {
		return c.Cloud.AttachKeyPair(ctx, region, name, ids)
	}
	return c.Cloud.DetachKeyPair(ctx, region, name, ids)
}

// outcomeFor decides what would happen to one instance.
func (b binding) outcomeFor(in schema.Instance, known bool, id, name string) schema.BindOutcome {
	o := schema.BindOutcome{InstanceID: id}
	if !known {
		o.Outcome, o.Code = "not_found", "InvalidInstanceId.NotFound"
		o.Message = "no such instance in this region; see describe_instances"
		return o
	}
	o.InstanceName, o.Status, o.OSType, o.CurrentKeyPairName = in.InstanceName, in.Status, in.OSType, in.KeyPairName
	switch {
	case in.OSType == "windows":
		o.Outcome, o.Code = "would_fail", "DependencyViolation.WindowsInstance"
		o.Message = "Windows instances cannot use SSH key pairs"
	case in.Status != "Running" && in.Status != "Stopped":
		o.Outcome, o.Code = "would_fail", "IncorrectInstanceStatus"
		o.Message = fmt.Sprintf("the instance is %s; key pairs change only on Running or Stopped instances", escapeText(in.Status))
	case b.attach && in.KeyPairName == name:
		o.Outcome, o.Message = "unchanged", "already carries this key pair"
	case b.attach && in.KeyPairName != "":
		o.Outcome = "would_replace"
		o.Message = fmt.Sprintf("replaces key pair %s; logins with that key will stop working, and password login is turned off", quoted(in.KeyPairName))
	case b.attach:
		o.Outcome, o.Message = "would_attach", "password login will be turned off"
	case in.KeyPairName == name:
		o.Outcome, o.Message = "would_detach", "the instance falls back to password login"
	case in.KeyPairName == "":
		o.Outcome, o.Message = "unchanged", "carries no key pair"
	default:
		o.Outcome, o.Message = "unchanged", fmt.Sprintf("carries key pair %s, not this one; it is left in place", quoted(in.KeyPairName))
	}
	return o
}

// bindPlan is what an attach or detach would do, from what the region
// holds now.
type bindPlan struct {
	out   schema.BindKeyPairOutput
	send  []string
	index map[string]int // instance ID -> position in out.Instances
}

func (b binding) plan(ctx context.Context, c *call, in *schema.BindKeyPairInput) (*bindPlan, error) {
	view, err := loadBinding(ctx, c, in.RegionID, in.KeyPairName, in.InstanceIDs)
	if err != nil {
		return nil, err
	}
	kp, exists := view.keyPairs[in.KeyPairName]
	if !exists {
		return nil, failure("InvalidKeyPairName.NotFound", "key pair %s does not exist in %s; create or import it first",
			quoted(in.KeyPairName), in.RegionID)
	}
	p := &bindPlan{index: map[string]int{}, out: schema.BindKeyPairOutput{KeyPairName: in.KeyPairName,
		KeyPairFingerPrint: kp.KeyPairFingerPrint, Instances: make([]schema.BindOutcome, len(in.InstanceIDs))}}
	for i, id := range in.InstanceIDs {
		inst, known := view.instances[id]
		o := b.outcomeFor(inst, known, id, in.KeyPairName)
		p.out.Instances[i] = o
		if strings.HasPrefix(o.Outcome, "would_") && o.Outcome != "would_fail" {
			p.send = append(p.send, id)
			p.index[id] = i
		}
	}
	p.out.RebootRequired, p.out.TakesEffectOnStart = effect(p.out.Instances, p.send)
	return p, nil
}

// approval is what a person approves: the key pair by name and
// fingerprint, and every instance with its state and fate.
func (b binding) approval(p *bindPlan, in *schema.BindKeyPairInput) approvalRequest {
	role := "Key pair to attach"
	if !b.attach {
		role = "Key pair to detach"
	}
	ar := approvalRequest{tool: b.tool, region: in.RegionID, items: in.InstanceIDs, changes: len(p.send),
		about:   []string{keyPairLine(role, in.KeyPairName, p.out.KeyPairFingerPrint)},
		totals:  b.summary(p.out),
		preview: p.out,
		state:   []stateLine{{Item: "key pair " + in.KeyPairName, State: "fingerprint " + p.out.KeyPairFingerPrint}},
	}
	for _, o := range p.out.Instances {
		ar.state = append(ar.state, stateLine{Item: o.InstanceID, State: instanceState(o)})
		ar.lines = append(ar.lines, bindLine(o))
	}
	return ar
}

// instanceState is what an approval is bound to of an instance.
func instanceState(o schema.BindOutcome) string {
	if o.Outcome == "not_found" {
		return "not found"
	}
	key := "no key pair"
	if o.CurrentKeyPairName != "" {
		key = "key pair " + o.CurrentKeyPairName
	}
	return fmt.Sprintf("%s, %s, %s", o.Status, o.OSType, key)
}

// bindLine shows one instance to a person: its ID, name and state, and
// what would happen.
func bindLine(o schema.BindOutcome) string {
	var sb strings.Builder
	sb.WriteString(escapeText(o.InstanceID))
	if o.Outcome != "not_found" {
		fmt.Fprintf(&sb, " %s (%s, %s", quoted(o.InstanceName), escapeText(o.Status), escapeText(o.OSType))
		if o.CurrentKeyPairName != "" {
			fmt.Fprintf(&sb, ", carries %s", quoted(o.CurrentKeyPairName))
		} else {
			sb.WriteString(", carries no key pair")
		}
		sb.WriteString(")")
	}
	fmt.Fprintf(&sb, ": %s", o.Outcome)
	if o.Message != "" {
		fmt.Fprintf(&sb, ", %s", o.Message)
	}
	return sb.String()
}

func (b binding) run(ctx context.Context, c *call, in *schema.BindKeyPairInput) (*mcpResult, error) {
	p, err := b.plan(ctx, c, in)
	if err != nil {
		return nil, err
	}
	if !in.Confirm {
		return previewResult(b.summary(p.out), p.out)
	}
	ctx, stop, err := c.approve(ctx, b.approval(p, in), func(ctx context.Context) (approvalRequest, error) {
		if p, err = b.plan(ctx, c, in); err != nil {
			return approvalRequest{}, err
		}
		return b.approval(p, in), nil
	})
	if stop != nil || err != nil {
		return stop, err
	}

	out := p.out
	out.Executed = true
	for i := range out.Instances {
		if o := &out.Instances[i]; o.Outcome == "would_fail" {
			o.Outcome, o.Message = "failed", "not sent: "+o.Message
		}
	}
	if len(p.send) == 0 {
		c.trail.outcome(AuditEntry{KeyPairName: in.KeyPairName, KeyPairFingerPrint: out.KeyPairFingerPrint, Items: in.InstanceIDs,
			ConfirmedBy: c.confirmedBy, Outcomes: bindAudit(out, nil), Reason: "nothing to " + b.verb})
		return textResult(b.summary(out), out)
	}
	if err := c.trail.intent(AuditEntry{KeyPairName: in.KeyPairName, KeyPairFingerPrint: out.KeyPairFingerPrint, Items: p.send,
		ConfirmedBy: c.confirmedBy, Outcomes: bindAudit(out, p.send)}); err != nil {
		return nil, err
	}
	results, requestIDs, err := b.call(ctx, c, in.RegionID, in.KeyPairName, p.send)
	if err != nil {
		return nil, err
	}
	out.RequestIDs = requestIDs
	var changed []string
	unknown := map[string]bool{}
	for _, r := range results {
		o := &out.Instances[p.index[r.InstanceID]]
		if r.Success {
			if b.attach && o.CurrentKeyPairName != "" && o.CurrentKeyPairName != in.KeyPairName {
				o.ReplacedKeyPairName = o.CurrentKeyPairName
			}
			o.Outcome, o.Code, o.Message = b.done, "", ""
			changed = append(changed, r.InstanceID)
		} else {
			o.Outcome, o.Code, o.Message = "failed", r.Code, escapeText(r.Message)
			if r.MaybeApplied {
				o.Message += mayHaveApplied
				unknown[r.InstanceID] = true
			}
		}
	}
	out.RebootRequired, out.TakesEffectOnStart = effect(out.Instances, changed)
	outcomes := bindAudit(out, p.send)
	for i := range outcomes {
		if unknown[outcomes[i].Item] {
			outcomes[i].Outcome = "unknown"
		}
	}
	c.trail.outcome(AuditEntry{KeyPairName: in.KeyPairName, KeyPairFingerPrint: out.KeyPairFingerPrint, Items: p.send,
		ConfirmedBy: c.confirmedBy, Executed: len(changed) > 0, Outcomes: outcomes, RequestIDs: requestIDs})
	return textResult(b.summary(out), out)
}

// bindAudit is the outcomes of an attach or detach for the audit log: of
// the instances sent (all when sent is nil), with the key pair each had
// that an attach replaces.
func bindAudit(out schema.BindKeyPairOutput, sent []string) []AuditOutcome {
	want := map[string]bool{}
	for _, id := range sent {
		want[id] = true
	}
	var a []AuditOutcome
	for _, o := range out.Instances {
		if sent != nil && !want[o.InstanceID] {
			continue
		}
		e := AuditOutcome{Item: o.InstanceID, Outcome: o.Outcome, Code: o.Code, Replaced: o.ReplacedKeyPairName}
		if o.Outcome == "would_replace" {
			e.Replaced = o.CurrentKeyPairName
		}
		a = append(a, e)
	}
	return a
}

// effect splits the changed (or to be changed) instances into those that
// need a reboot (Running) and those that pick the change up at start.
func effect(outcomes []schema.BindOutcome, ids []string) (reboot, onStart []string) {
	reboot, onStart = []string{}, []string{}
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	for _, o := range outcomes {
		switch {
		case !want[o.InstanceID]:
		case o.Status == "Running":
			reboot = append(reboot, o.InstanceID)
		case o.Status == "Stopped":
			onStart = append(onStart, o.InstanceID)
		}
	}
	return reboot, onStart
}

// summary says in a few words what happened or would happen.
func (b binding) summary(out schema.BindKeyPairOutput) string {
	counts := map[string]int{}
	replaced := map[string]int{}
	for _, o := range out.Instances {
		counts[o.Outcome]++
		if o.ReplacedKeyPairName != "" {
			replaced[o.ReplacedKeyPairName]++
		}
	}
	n := len(out.Instances)
	var parts []string
	if out.Executed {
		parts = append(parts, fmt.Sprintf("%s key pair %s: %d of %d instance(s) %s.", strings.ToUpper(b.verb[:1])+b.verb[1:],
			quoted(out.KeyPairName), counts[b.done], n, b.done))
		for _, name := range slices.Sorted(maps.Keys(replaced)) {
			parts = append(parts, fmt.Sprintf("It replaced key pair %s on %d.", quoted(name), replaced[name]))
		}
	} else {
		would := counts["would_attach"] + counts["would_replace"] + counts["would_detach"]
		parts = append(parts, fmt.Sprintf("Key pair %s (fingerprint %s): %d of %d instance(s) would be %s.",
			quoted(out.KeyPairName), out.KeyPairFingerPrint, would, n, b.done))
		if r := counts["would_replace"]; r > 0 {
			parts = append(parts, fmt.Sprintf("%d carry another key pair that would be replaced.", r))
		}
		if f := counts["would_fail"]; f > 0 {
			parts = append(parts, fmt.Sprintf("%d would fail (Windows, or not Running or Stopped) and will not be sent.", f))
		}
	}
	if f := counts["failed"]; f > 0 {
		parts = append(parts, fmt.Sprintf("%d failed (see code and message).", f))
	}
	if c := counts["not_found"]; c > 0 {
		parts = append(parts, fmt.Sprintf("%d not found in the region.", c))
	}
	if c := counts["unchanged"]; c > 0 {
		parts = append(parts, fmt.Sprintf("%d unchanged.", c))
	}
	if len(out.RebootRequired) > 0 {
		parts = append(parts, fmt.Sprintf("Running instances take the change only after a reboot: %s; reboot them with reboot_instances.",
			strings.Join(out.RebootRequired, ", ")))
	}
	if len(out.TakesEffectOnStart) > 0 {
		parts = append(parts, fmt.Sprintf("Stopped instances take it when started: %s.", strings.Join(out.TakesEffectOnStart, ", ")))
	}
	return strings.Join(parts, " ")
}
