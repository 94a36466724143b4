package tools

import (
	"context"
	"fmt"
	"strings"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
)

// binding is attach or detach: the two share their preview and execution.
type binding struct {
	attach bool
	verb   string // "attach" or "detach"
	done   string // outcome of a success: "attached" or "detached"
}

var (
	attaching = binding{attach: true, verb: "attach", done: "attached"}
	detaching = binding{attach: false, verb: "detach", done: "detached"}
)

func (b binding) call(ctx context.Context, d Deps, region, name string, ids []string) ([]cloud.InstanceResult, []string, error) {
	if b.attach {
		return d.Cloud.AttachKeyPair(ctx, region, name, ids)
	}
	return d.Cloud.DetachKeyPair(ctx, region, name, ids)
}

// plan decides what would happen to one instance.
func (b binding) plan(in schema.Instance, known bool, id, name string) schema.BindOutcome {
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
		o.Message = fmt.Sprintf("the instance is %s; key pairs change only on Running or Stopped instances", in.Status)
	case b.attach && in.KeyPairName == name:
		o.Outcome, o.Message = "unchanged", "already carries this key pair"
	case b.attach && in.KeyPairName != "":
		o.Outcome = "would_replace"
		o.Message = fmt.Sprintf("replaces key pair %q; logins with that key will stop working, and password login is turned off", in.KeyPairName)
	case b.attach:
		o.Outcome, o.Message = "would_attach", "password login will be turned off"
	case in.KeyPairName == name:
		o.Outcome, o.Message = "would_detach", "the instance falls back to password login"
	case in.KeyPairName == "":
		o.Outcome, o.Message = "unchanged", "carries no key pair"
	default:
		o.Outcome, o.Message = "unchanged", fmt.Sprintf("carries key pair %q, not this one; it is left in place", in.KeyPairName)
	}
	return o
}

func (b binding) run(ctx context.Context, d Deps, in schema.BindKeyPairInput) (*mcpResult, error) {
	view, err := loadBinding(ctx, d, in.RegionID, in.KeyPairName, in.InstanceIDs)
	if err != nil {
		return nil, err
	}
	if !view.keyPairs[in.KeyPairName] {
		return nil, &schema.Error{Code: "InvalidKeyPairName.NotFound", Message: fmt.Sprintf(
			"key pair %q does not exist in %s; see describe_key_pairs, or create or import it first", in.KeyPairName, in.RegionID)}
	}
	out := schema.BindKeyPairOutput{KeyPairName: in.KeyPairName, Instances: make([]schema.BindOutcome, len(in.InstanceIDs))}
	var send []string
	index := map[string]int{}
	for i, id := range in.InstanceIDs {
		inst, known := view.instances[id]
		out.Instances[i] = b.plan(inst, known, id, in.KeyPairName)
		if strings.HasPrefix(out.Instances[i].Outcome, "would_") && out.Instances[i].Outcome != "would_fail" {
			send = append(send, id)
			index[id] = i
		}
	}
	out.RebootRequired, out.TakesEffectOnStart = effect(out.Instances, send)
	if !in.Confirm {
		return previewResult(b.summary(out), out)
	}
	v, why, ask, err := d.approve(ctx, approvalRequest{
		tool: b.verb + "_key_pair", region: in.RegionID, keyPairName: in.KeyPairName,
		items: in.InstanceIDs, send: send, preview: b.summary(out) + "\n" + b.lines(out),
	})
	switch {
	case err != nil:
		return nil, err
	case v == askPerson:
		return ask, nil
	case v == declined:
		noteFromContext(ctx).declined = why
		return declinedResult(why, out)
	}
	noteFromContext(ctx).confirmedBy = confirmedBy(v)

	out.Executed = true
	for i := range out.Instances {
		if o := &out.Instances[i]; o.Outcome == "would_fail" {
			o.Outcome, o.Message = "failed", "not sent: "+o.Message
		}
	}
	var changed []string
	if len(send) > 0 {
		results, requestIDs, err := b.call(ctx, d, in.RegionID, in.KeyPairName, send)
		if err != nil {
			return nil, err
		}
		out.RequestIDs = requestIDs
		for _, r := range results {
			o := &out.Instances[index[r.InstanceID]]
			if r.Success {
				o.Outcome, o.Code, o.Message = b.done, "", ""
				changed = append(changed, r.InstanceID)
			} else {
				o.Outcome, o.Code, o.Message = "failed", r.Code, r.Message
			}
		}
	}
	out.RebootRequired, out.TakesEffectOnStart = effect(out.Instances, changed)
	return summaryResult(b.summary(out), out)
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

// lines lists the preview instance by instance, for a person to approve.
func (b binding) lines(out schema.BindKeyPairOutput) string {
	var sb strings.Builder
	for _, o := range out.Instances {
		fmt.Fprintf(&sb, "- %s", o.InstanceID)
		if o.InstanceName != "" {
			fmt.Fprintf(&sb, " (%s, %s, %s)", o.InstanceName, o.Status, o.OSType)
		}
		fmt.Fprintf(&sb, ": %s", o.Outcome)
		if o.Message != "" {
			fmt.Fprintf(&sb, ", %s", o.Message)
		}
		sb.WriteByte('\n')
	}
	return sb.String()
}

// summary says in a few words what happened or would happen.
func (b binding) summary(out schema.BindKeyPairOutput) string {
	counts := map[string]int{}
	for _, o := range out.Instances {
		counts[o.Outcome]++
	}
	n := len(out.Instances)
	var parts []string
	if out.Executed {
		parts = append(parts, fmt.Sprintf("%s key pair %q: %d of %d instance(s) %s.", strings.ToUpper(b.verb[:1])+b.verb[1:], out.KeyPairName, counts[b.done], n, b.done))
	} else {
		would := counts["would_attach"] + counts["would_replace"] + counts["would_detach"]
		parts = append(parts, fmt.Sprintf("%d of %d instance(s) would be %s.", would, n, b.done))
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
		parts = append(parts, fmt.Sprintf("%d not found in %s.", c, "the region"))
	}
	if c := counts["unchanged"]; c > 0 {
		parts = append(parts, fmt.Sprintf("%d unchanged.", c))
	}
	if len(out.RebootRequired) > 0 {
		parts = append(parts, fmt.Sprintf("Running instances take the change only after a reboot: %s.", strings.Join(out.RebootRequired, ", ")))
	}
	if len(out.TakesEffectOnStart) > 0 {
		parts = append(parts, fmt.Sprintf("Stopped instances take it when started: %s.", strings.Join(out.TakesEffectOnStart, ", ")))
	}
	return strings.Join(parts, " ")
}
