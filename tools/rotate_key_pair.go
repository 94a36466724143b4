package tools

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
)

func rotateKeyPair(d Deps) Tool {
	return newTool[schema.RotateKeyPairInput, schema.RotateKeyPairOutput](d, toolSpec[schema.RotateKeyPairInput]{
		kind: KindDestructive, name: "rotate_key_pair", title: "Rotate a key pair on instances",
		about: "Replace a key pair with another on the instances that carry it, as one plan with one approval: the new " +
			"key pair (reused if it exists, else imported from publicKeyBody, else created), attached to every instance " +
			"carrying fromKeyPairName (or to the given instanceIds among them); with reboot, Running ones rebooted; with " +
			"deleteOld, the old key pair deleted once nothing carries it. Use it instead of attach_key_pair plus " +
			"delete_key_pairs. It stops at the first failure; the same call again continues. Without confirm: true it " +
			"returns the plan: show it to the user and confirm only after they agree.",
		subject: func(in *schema.RotateKeyPairInput) subject {
			return subject{regions: []string{in.RegionID}, keyPairName: in.FromKeyPairName, items: in.InstanceIDs, attempt: in.Confirm}
		},
		run: runRotateKeyPair,
	})
}

// Rotation steps, in order.
const (
	stepNewKey    = "new_key"
	stepAttach    = "attach"
	stepReboot    = "reboot"
	stepDeleteOld = "delete_old"
)

// rotationPlan is what a rotation would do, from what the region holds now.
type rotationPlan struct {
	in       *schema.RotateKeyPairInput
	from, to *schema.KeyPair // nil when absent
	// newKey is would_reuse, would_import or would_create; newFP is the
	// new key pair's fingerprint ("" until a created one exists).
	newKey, newFP string
	// attach lists the instances the rotation concerns, with their fate;
	// targets are those to attach, in order.
	attach  []schema.RotationItem
	targets []string
	insts   map[string]schema.Instance
	// carriers are the instances that carry the old key pair now.
	carriers []string
	// keyDir is where a created key pair's private key goes.
	keyDir string
}

func planRotation(ctx context.Context, c *call, in *schema.RotateKeyPairInput) (*rotationPlan, error) {
	var fromKeys, toKeys schema.DescribeKeyPairsOutput
	var withOld, withNew, named schema.DescribeInstancesOutput
	reads := []func() error{
		func() (err error) {
			fromKeys, err = c.Cloud.DescribeKeyPairs(ctx, schema.DescribeKeyPairsInput{RegionID: in.RegionID, KeyPairName: in.FromKeyPairName})
			return err
		},
		func() (err error) {
			toKeys, err = c.Cloud.DescribeKeyPairs(ctx, schema.DescribeKeyPairsInput{RegionID: in.RegionID, KeyPairName: in.ToKeyPairName})
			return err
		},
		func() (err error) {
			withOld, err = c.Cloud.DescribeInstances(ctx, schema.DescribeInstancesInput{RegionID: in.RegionID, KeyPairName: in.FromKeyPairName})
			return err
		},
	}
	if in.InstanceIDs != nil {
		reads = append(reads, func() (err error) {
			named, err = c.Cloud.DescribeInstances(ctx, schema.DescribeInstancesInput{RegionID: in.RegionID, InstanceIDs: in.InstanceIDs})
			return err
		})
	} else {
		// Without instanceIds, those already moved (by an earlier run or
		// otherwise) are considered too.
		reads = append(reads, func() (err error) {
			withNew, err = c.Cloud.DescribeInstances(ctx, schema.DescribeInstancesInput{RegionID: in.RegionID, KeyPairName: in.ToKeyPairName})
			return err
		})
	}
	if err := concurrently(reads...); err != nil {
		return nil, err
	}
	p := &rotationPlan{in: in, from: exact(fromKeys.KeyPairs, in.FromKeyPairName), to: exact(toKeys.KeyPairs, in.ToKeyPairName),
		insts: map[string]schema.Instance{}}
	want, _ := cloud.Fingerprint(in.PublicKeyBody) // "" without publicKeyBody
	switch {
	case p.to != nil && in.PublicKeyBody != "" && !strings.EqualFold(p.to.KeyPairFingerPrint, want):
		return nil, failure("KeyPair.AlreadyExist", "toKeyPairName %s exists in %s with another public key (fingerprint %s, not %s "+
			"of publicKeyBody); nothing was changed. Choose another toKeyPairName, or leave publicKeyBody out to use the existing one.",
			quoted(in.ToKeyPairName), in.RegionID, p.to.KeyPairFingerPrint, want)
	case p.to != nil:
		p.newKey, p.newFP = "would_reuse", p.to.KeyPairFingerPrint
	case in.PublicKeyBody != "":
		p.newKey, p.newFP = "would_import", want
	case strings.Contains(in.ToKeyPairName, "."):
		return nil, failure("InvalidKeyPairName.Malformed", "toKeyPairName %s has a '.', which only imported key pairs may have: "+
			"give publicKeyBody to import it, or choose a name without '.' to have it created", quoted(in.ToKeyPairName))
	default:
		p.newKey = "would_create"
	}
	if p.from == nil && p.to == nil {
		return nil, failure("InvalidKeyPairName.NotFound", "neither fromKeyPairName %s nor toKeyPairName %s exists in %s: there is "+
			"nothing to rotate", quoted(in.FromKeyPairName), quoted(in.ToKeyPairName), in.RegionID)
	}
	for _, list := range [][]schema.Instance{withOld.Instances, withNew.Instances, named.Instances} {
		for _, inst := range list {
			p.insts[inst.InstanceID] = inst
		}
	}
	for _, inst := range withOld.Instances {
		p.carriers = append(p.carriers, inst.InstanceID)
	}
	consider := in.InstanceIDs
	if consider == nil {
		for _, inst := range withOld.Instances {
			consider = append(consider, inst.InstanceID)
		}
		// Those already moved, by an earlier run or otherwise.
		for _, inst := range withNew.Instances {
			consider = append(consider, inst.InstanceID)
		}
	}
	for _, id := range consider {
		inst, known := p.insts[id]
		item := schema.RotationItem{Item: id, Status: inst.Status}
		switch {
		case !known:
			item.Outcome, item.Code, item.Message = "not_found", "InvalidInstanceId.NotFound", "no such instance in this region"
		case inst.KeyPairName == in.ToKeyPairName:
			item.Outcome = "already_attached"
		case inst.KeyPairName != in.FromKeyPairName:
			item.Outcome, item.Message = "not_carrying", "does not carry "+quoted(in.FromKeyPairName)+"; left alone"
		case inst.Status != "Running" && inst.Status != "Stopped":
			item.Outcome, item.Code = "would_fail", "IncorrectInstanceStatus"
			item.Message = fmt.Sprintf("the instance is %s; key pairs change only on Running or Stopped instances", escapeText(inst.Status))
		default:
			item.Outcome = "would_attach"
			p.targets = append(p.targets, id)
		}
		p.attach = append(p.attach, item)
	}
	return p, nil
}

// exact is the key pair of exactly this name (the name filter reads '*'
// as a wildcard).
func exact(keys []schema.KeyPair, name string) *schema.KeyPair {
	for i := range keys {
		if keys[i].KeyPairName == name {
			return &keys[i]
		}
	}
	return nil
}

// kept lists the instances that would still carry the old key pair after
// the attach step: the rotation cannot delete it then.
func (p *rotationPlan) kept() []string {
	moving := map[string]bool{}
	for _, id := range p.targets {
		moving[id] = true
	}
	var out []string
	for _, id := range p.carriers {
		if !moving[id] {
			out = append(out, id)
		}
	}
	return out
}

// runningTargets are the instances to attach that are Running: the new
// key takes effect on them after a reboot.
func (p *rotationPlan) runningTargets() []string { return p.running(p.targets) }

// preview is the plan as a result: every step with what would happen.
func (p *rotationPlan) preview() schema.RotateKeyPairOutput {
	in := p.in
	out := schema.RotateKeyPairOutput{Steps: emptySteps(), RebootRequired: []string{}, Remaining: []string{}}
	newKey := schema.RotationItem{Item: in.ToKeyPairName, Outcome: p.newKey}
	if p.newFP != "" {
		newKey.Message = "fingerprint " + p.newFP
	}
	out.Steps[0].Items = []schema.RotationItem{newKey}
	out.Steps[1].Items = append(out.Steps[1].Items, p.attach...)
	if in.Reboot {
		for _, id := range p.runningTargets() {
			out.Steps[2].Items = append(out.Steps[2].Items, schema.RotationItem{Item: id, Outcome: "would_reboot", Status: "Running"})
		}
	} else {
		out.RebootRequired = append(out.RebootRequired, p.runningTargets()...)
	}
	if in.DeleteOld {
		out.Steps[3].Items = []schema.RotationItem{p.deleteItem(p.kept())}
	}
	out.Remaining = p.remaining(out)
	return out
}

// deleteItem is the old key pair's fate in the delete_old step, given the
// instances that still carry it.
func (p *rotationPlan) deleteItem(carriers []string) schema.RotationItem {
	item := schema.RotationItem{Item: p.in.FromKeyPairName, Outcome: "would_delete"}
	switch {
	case p.from == nil:
		item.Outcome, item.Message = "not_found", "already deleted"
	case len(carriers) > 0:
		item.Outcome = "kept"
		item.Message = fmt.Sprintf("still carried by %s, which this rotation does not change; it is deleted only once no instance carries it",
			strings.Join(carriers, ", "))
	}
	return item
}

func emptySteps() []schema.RotationStep {
	steps := make([]schema.RotationStep, 4)
	for i, name := range []string{stepNewKey, stepAttach, stepReboot, stepDeleteOld} {
		steps[i] = schema.RotationStep{Step: name, Items: []schema.RotationItem{}}
	}
	return steps
}

// remaining says what is still to do after out: a plan's whole work, or
// what a run that stopped left.
func (p *rotationPlan) remaining(out schema.RotateKeyPairOutput) []string {
	rem := []string{}
	to := quoted(p.in.ToKeyPairName)
	for _, it := range out.Steps[0].Items {
		switch it.Outcome {
		case "would_import", "failed":
			if p.newKey == "would_create" {
				rem = append(rem, "create key pair "+to)
			} else if p.newKey == "would_import" {
				rem = append(rem, "import key pair "+to)
			}
		case "would_create":
			rem = append(rem, "create key pair "+to)
		}
	}
	var attach []string
	for _, it := range out.Steps[1].Items {
		if it.Outcome == "would_attach" || it.Outcome == "would_fail" || it.Outcome == "failed" {
			attach = append(attach, it.Item)
		}
	}
	if len(attach) > 0 {
		rem = append(rem, fmt.Sprintf("attach %s to %s", to, strings.Join(attach, ", ")))
	}
	var reboot []string
	for _, it := range out.Steps[2].Items {
		if it.Outcome == "would_reboot" {
			reboot = append(reboot, it.Item)
		}
	}
	if len(reboot) > 0 {
		rem = append(rem, "reboot "+strings.Join(reboot, ", "))
	}
	if out.Executed && p.in.Reboot && len(out.RebootRequired) > 0 {
		// A run again skips the instances that carry the new key already,
		// and so their reboot: say which tool finishes them.
		rem = append(rem, fmt.Sprintf("reboot %s with reboot_instances, once each carries %s: a run again does not reboot "+
			"instances that carry it already", strings.Join(out.RebootRequired, ", "), to))
	}
	for _, it := range out.Steps[3].Items {
		switch it.Outcome {
		case "would_delete", "failed":
			rem = append(rem, "delete key pair "+quoted(p.in.FromKeyPairName))
		case "kept":
			rem = append(rem, fmt.Sprintf("delete key pair %s once no instance carries it (%s)", quoted(p.in.FromKeyPairName), it.Message))
		}
	}
	return rem
}

// approval is what a person approves: both key pairs, every instance with
// its state and fate, and what follows.
func (p *rotationPlan) approval(out schema.RotateKeyPairOutput) approvalRequest {
	in := p.in
	fromFP, toState := "", "does not exist"
	if p.from != nil {
		fromFP = p.from.KeyPairFingerPrint
	}
	about := []string{keyPairLine("Old key pair (replaced)", in.FromKeyPairName, fromFP)}
	switch p.newKey {
	case "would_reuse":
		about = append(about, keyPairLine("New key pair (exists)", in.ToKeyPairName, p.newFP))
		toState = "fingerprint " + p.newFP
	case "would_import":
		about = append(about, fmt.Sprintf("New key pair: %s, to be imported, fingerprint %s", quoted(in.ToKeyPairName), p.newFP))
	default:
		about = append(about, fmt.Sprintf("New key pair: %s, to be created (RSA 2048; its private key written to a file in %s)",
			quoted(in.ToKeyPairName), escapeText(p.keyDir)))
	}
	then := "Running instances are not rebooted: the new key takes effect on them after a reboot."
	if in.Reboot {
		then = "Running instances are then rebooted, and waited for."
	}
	if in.DeleteOld {
		then += " Then the old key pair is deleted, if no instance carries it any more."
	}
	about = append(about, then)
	ar := approvalRequest{tool: "rotate_key_pair", region: in.RegionID, items: in.InstanceIDs, about: about,
		totals: rotationSummary(out), preview: out, typed: in.FromKeyPairName, typedWhat: "the old key pair's name",
		state: []stateLine{{Item: "key pair " + in.FromKeyPairName, State: stateOfKey(p.from)}, {Item: "key pair " + in.ToKeyPairName, State: toState}}}
	for _, it := range p.attach {
		inst := p.insts[it.Item]
		state := "not found"
		if it.Outcome != "not_found" {
			state = instanceState(schema.BindOutcome{InstanceID: it.Item, Status: inst.Status, OSType: inst.OSType, CurrentKeyPairName: inst.KeyPairName})
		}
		ar.state = append(ar.state, stateLine{Item: it.Item, State: state})
		ar.lines = append(ar.lines, fmt.Sprintf("%s %s (%s): %s", escapeText(it.Item), quoted(inst.InstanceName), escapeText(state), it.Outcome))
	}
	ar.changes = len(out.Remaining)
	return ar
}

func stateOfKey(k *schema.KeyPair) string {
	if k == nil {
		return "does not exist"
	}
	return "fingerprint " + k.KeyPairFingerPrint
}

func runRotateKeyPair(ctx context.Context, c *call, in *schema.RotateKeyPairInput) (*mcpResult, error) {
	p, err := planRotation(ctx, c, in)
	if err != nil {
		return nil, err
	}
	p.keyDir = c.PrivateKeyDir
	plan := p.preview()
	if !in.Confirm {
		lead := "Not executed: this is the plan and nothing was changed. " + rotationSummary(plan)
		if len(plan.Remaining) == 0 {
			lead = "Nothing remains: the rotation is complete. " + rotationSummary(plan)
		} else {
			lead += " Call again with confirm: true to carry it out."
		}
		return textResult(lead, plan)
	}
	ctx, stop, err := c.approve(ctx, p.approval(plan), func(ctx context.Context) (approvalRequest, error) {
		if p, err = planRotation(ctx, c, in); err != nil {
			return approvalRequest{}, err
		}
		p.keyDir = c.PrivateKeyDir
		plan = p.preview()
		return p.approval(plan), nil
	})
	if stop != nil || err != nil {
		return stop, err
	}
	out := c.rotate(ctx, p)
	out.Remaining = p.remaining(out)
	return textResult(rotationSummary(out), out)
}

// rotate carries the plan out, step by step, and stops at the first
// failure.
func (c *call) rotate(ctx context.Context, p *rotationPlan) schema.RotateKeyPairOutput {
	out := schema.RotateKeyPairOutput{Executed: true, Steps: emptySteps(), RebootRequired: []string{}}
	item, ok := c.newKeyPair(ctx, p, &out)
	out.Steps[0].Items = []schema.RotationItem{item}
	if !ok {
		return out
	}
	running, ok := c.attachStep(ctx, p, &out)
	if !ok {
		return out
	}
	if !c.rebootStep(ctx, p, &out, running) {
		return out
	}
	c.deleteOldStep(ctx, p, &out)
	return out
}

// attachStep attaches the new key pair to the targets. It returns the
// Running instances that took it, and false when any instance failed: the
// rotation stops then, and the Running instances that carry, or may carry,
// the new key are listed for a reboot.
func (c *call) attachStep(ctx context.Context, p *rotationPlan, out *schema.RotateKeyPairOutput) ([]string, bool) {
	in := p.in
	items := append(out.Steps[1].Items, p.attach...)
	out.Steps[1].Items = items
	// attached got the new key; maybe may have: their answers were lost.
	var attached, maybe []string
	if len(p.targets) > 0 {
		intent := AuditEntry{Step: stepAttach, KeyPairName: in.ToKeyPairName, KeyPairFingerPrint: p.newFP, Items: p.targets}
		err := c.step(intent, func() (AuditEntry, error) {
			results, requestIDs, err := c.Cloud.AttachKeyPair(ctx, in.RegionID, in.ToKeyPairName, p.targets)
			e := intent
			e.RequestIDs = requestIDs
			if err != nil {
				return e, err
			}
			out.RequestIDs = append(out.RequestIDs, requestIDs...)
			byID := map[string]cloud.InstanceResult{}
			for _, r := range results {
				byID[r.InstanceID] = r
			}
			for i := range items {
				it := &items[i]
				r, sent := byID[it.Item]
				if !sent {
					continue
				}
				switch {
				case r.Success:
					it.Outcome = "attached"
					attached = append(attached, it.Item)
				case r.MaybeApplied:
					it.Outcome, it.Code, it.Message = "failed", r.Code, escapeText(r.Message)+mayHaveApplied
					maybe = append(maybe, it.Item)
				default:
					it.Outcome, it.Code, it.Message = "failed", r.Code, escapeText(r.Message)
				}
				e.Outcomes = append(e.Outcomes, AuditOutcome{Item: it.Item, Outcome: fate(it.Outcome, r.MaybeApplied), Code: it.Code, Replaced: in.FromKeyPairName})
			}
			e.Executed = len(attached) > 0
			return e, nil
		})
		if err != nil {
			markFailed(items, "would_attach", err)
			if cloud.MaybeApplied(err) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
				out.RebootRequired = append(out.RebootRequired, p.running(p.targets)...)
			}
			return nil, false
		}
	}
	failed := false
	for i := range items {
		switch it := &items[i]; it.Outcome {
		case "would_fail":
			it.Outcome, it.Message = "failed", "not sent: "+it.Message
			failed = true
		case "failed":
			failed = true
		}
	}
	running := p.running(attached)
	if failed {
		out.RebootRequired = append(out.RebootRequired, running...)
		out.RebootRequired = append(out.RebootRequired, p.running(maybe)...)
		return nil, false
	}
	return running, true
}

// rebootStep reboots the Running instances that took the new key, with
// reboot, and waits for them; without, it lists them in rebootRequired.
// It reports false when a reboot did not finish.
func (c *call) rebootStep(ctx context.Context, p *rotationPlan, out *schema.RotateKeyPairOutput, running []string) bool {
	if !p.in.Reboot || len(running) == 0 {
		out.RebootRequired = append(out.RebootRequired, running...)
		return true
	}
	finished := true
	intent := AuditEntry{Step: stepReboot, Items: running}
	err := c.step(intent, func() (AuditEntry, error) {
		outcomes, requestIDs, maybe, err := c.reboot(ctx, p.in.RegionID, running, false, true)
		e := intent
		e.RequestIDs = requestIDs
		if err != nil {
			return e, err
		}
		out.RequestIDs = append(out.RequestIDs, requestIDs...)
		for _, o := range outcomes {
			out.Steps[2].Items = append(out.Steps[2].Items, schema.RotationItem{Item: o.InstanceID, Outcome: o.Outcome,
				Status: o.Status, Code: o.Code, Message: o.Message})
			e.Outcomes = append(e.Outcomes, AuditOutcome{Item: o.InstanceID, Outcome: fate(o.Outcome, maybe[o.InstanceID]), Code: o.Code})
			if o.Outcome != "rebooted" {
				finished = false
				out.RebootRequired = append(out.RebootRequired, o.InstanceID)
			}
		}
		e.Executed = true
		return e, nil
	})
	if err != nil {
		msg := stepFailure(err)
		for _, id := range running {
			out.Steps[2].Items = append(out.Steps[2].Items, schema.RotationItem{Item: id, Outcome: "failed",
				Code: errorCode(err), Message: msg})
		}
		out.RebootRequired = append(out.RebootRequired, running...)
		return false
	}
	return finished
}

// deleteOldStep deletes the old key pair, with deleteOld, only once
// nothing carries it: it reads which instances carry it again now, since
// the attach may have missed one, or another process may have put it
// somewhere meanwhile.
func (c *call) deleteOldStep(ctx context.Context, p *rotationPlan, out *schema.RotateKeyPairOutput) {
	in := p.in
	if !in.DeleteOld {
		return
	}
	if p.from == nil {
		out.Steps[3].Items = []schema.RotationItem{p.deleteItem(nil)}
		return
	}
	still, err := c.Cloud.DescribeInstances(ctx, schema.DescribeInstancesInput{RegionID: in.RegionID, KeyPairName: in.FromKeyPairName})
	if err != nil {
		out.Steps[3].Items = []schema.RotationItem{{Item: in.FromKeyPairName, Outcome: "failed", Code: errorCode(err),
			Message: "not deleted: could not read which instances still carry it: " + itemFailure(err)}}
		return
	}
	var carriers []string
	for _, inst := range still.Instances {
		carriers = append(carriers, inst.InstanceID)
	}
	if item := p.deleteItem(carriers); item.Outcome != "would_delete" {
		out.Steps[3].Items = []schema.RotationItem{item}
		return
	}
	item := schema.RotationItem{Item: in.FromKeyPairName, Outcome: "failed"}
	intent := AuditEntry{Step: stepDeleteOld, Items: []string{in.FromKeyPairName}}
	err = c.step(intent, func() (AuditEntry, error) {
		batches, err := c.Cloud.DeleteKeyPairs(ctx, in.RegionID, []string{in.FromKeyPairName})
		e := intent
		if err == nil && len(batches) == 1 {
			err = batches[0].Err
			if batches[0].RequestID != "" {
				e.RequestIDs = []string{batches[0].RequestID}
				out.RequestIDs = append(out.RequestIDs, batches[0].RequestID)
			}
		}
		if err != nil {
			item.Code, item.Message = errorCode(err), itemFailure(err)
			e.Outcomes = []AuditOutcome{{Item: in.FromKeyPairName, Outcome: "failed", Code: item.Code}}
			e.Error = item.Code
			return e, nil
		}
		item.Outcome = "deleted"
		e.Executed, e.Outcomes = true, []AuditOutcome{{Item: in.FromKeyPairName, Outcome: "deleted"}}
		return e, nil
	})
	if err != nil { // the intent could not be recorded: nothing was sent
		item.Code, item.Message = errorCode(err), itemFailure(err)
	}
	out.Steps[3].Items = []schema.RotationItem{item}
}

// step runs one write between its audit lines: an intent, or nothing is
// sent; then the outcome run returns, of the same step. When run fails
// without saying what became of the items, each is failed, or unknown when
// the request may have been applied. It returns run's error, or the audit
// log's.
func (c *call) step(intent AuditEntry, run func() (AuditEntry, error)) error {
	intent.ConfirmedBy = c.confirmedBy
	if err := c.trail.intent(intent); err != nil {
		return err
	}
	outcome, err := run()
	outcome.Step, outcome.ConfirmedBy = intent.Step, c.confirmedBy
	if err != nil {
		if outcome.Error == "" {
			outcome.Error = errorCode(err)
		}
		if len(outcome.Outcomes) == 0 {
			for _, item := range intent.Items {
				outcome.Outcomes = append(outcome.Outcomes, AuditOutcome{Item: item, Outcome: fate("failed", cloud.MaybeApplied(err)), Code: outcome.Error})
			}
		}
	}
	c.trail.outcome(outcome)
	return err
}

// fate is an item's outcome for the audit log: unknown when its request
// failed in a way that does not prove it was refused.
func fate(outcome string, maybeApplied bool) string {
	if maybeApplied {
		return "unknown"
	}
	return outcome
}

// markFailed marks the items still at outcome would as failed by the
// step's error.
func markFailed(items []schema.RotationItem, would string, err error) {
	msg := stepFailure(err)
	for i := range items {
		if items[i].Outcome == would {
			items[i].Outcome, items[i].Code, items[i].Message = "failed", errorCode(err), msg
		}
	}
}

// stepFailure is the message of the items of a step whose request failed
// as a whole: the cloud's words, and whether the change may have happened
// all the same (also when the call's time ran out with the request on its
// way).
func stepFailure(err error) string {
	msg := itemFailure(err)
	if !cloud.MaybeApplied(err) && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)) {
		msg += mayHaveApplied
	}
	return msg
}

// running keeps the instances of ids that were Running when planned.
func (p *rotationPlan) running(ids []string) []string {
	var out []string
	for _, id := range ids {
		if p.insts[id].Status == "Running" {
			out = append(out, id)
		}
	}
	return out
}

// newKeyPair is the rotation's first step: the new key pair reused,
// imported or created. ok is false when it failed.
func (c *call) newKeyPair(ctx context.Context, p *rotationPlan, out *schema.RotateKeyPairOutput) (schema.RotationItem, bool) {
	in := p.in
	item := schema.RotationItem{Item: in.ToKeyPairName}
	fail := func(err error) (schema.RotationItem, bool) {
		item.Outcome, item.Code, item.Message = "failed", errorCode(err), escapeText(errorText(err))
		return item, false
	}
	switch p.newKey {
	case "would_reuse":
		item.Outcome, item.Message = "reused", "fingerprint "+p.newFP
		return item, true
	case "would_import":
		var got schema.ImportKeyPairOutput
		err := c.step(AuditEntry{Step: stepNewKey, Items: []string{in.ToKeyPairName}}, func() (AuditEntry, error) {
			var err error
			got, err = c.Cloud.ImportKeyPair(ctx, schema.ImportKeyPairInput{RegionID: in.RegionID, KeyPairName: in.ToKeyPairName, PublicKeyBody: in.PublicKeyBody})
			if err != nil {
				return writeFailed(in.ToKeyPairName, err), err
			}
			out.RequestIDs = append(out.RequestIDs, got.RequestID)
			return AuditEntry{Items: []string{in.ToKeyPairName}, Executed: true, KeyPairFingerPrint: got.KeyPairFingerPrint,
				RequestIDs: []string{got.RequestID}, Outcomes: []AuditOutcome{{Item: in.ToKeyPairName, Outcome: "imported"}}}, nil
		})
		if err != nil {
			return fail(err)
		}
		p.newFP = got.KeyPairFingerPrint
		item.Outcome, item.Message = "imported", "fingerprint "+p.newFP
		return item, true
	}
	// Created: its private key goes to a file, as create_key_pair's does.
	created, err := c.createToFile(ctx, schema.CreateKeyPairInput{RegionID: in.RegionID, KeyPairName: in.ToKeyPairName},
		stepNewKey, "run the rotation again")
	if err != nil {
		return fail(err)
	}
	out.RequestIDs = append(out.RequestIDs, created.RequestID)
	p.newFP = created.KeyPairFingerPrint
	out.PrivateKeyFile = created.PrivateKeyFile
	item.Outcome, item.Message = "created", "fingerprint "+p.newFP
	return item, true
}

// rotationSummary says in a few words what a rotation did or would do.
func rotationSummary(out schema.RotateKeyPairOutput) string {
	var parts []string
	for _, s := range out.Steps {
		counts := map[string]int{}
		for _, it := range s.Items {
			counts[it.Outcome]++
		}
		if len(s.Items) == 0 {
			parts = append(parts, s.Step+": nothing")
			continue
		}
		var cs []string
		for _, o := range []string{"would_create", "would_import", "would_reuse", "created", "imported", "reused", "would_attach",
			"attached", "already_attached", "not_carrying", "would_reboot", "rebooted", "reboot_sent", "timed_out_waiting",
			"would_delete", "deleted", "kept", "not_found", "would_fail", "failed"} {
			if counts[o] > 0 {
				cs = append(cs, fmt.Sprintf("%d %s", counts[o], o))
			}
		}
		parts = append(parts, s.Step+": "+strings.Join(cs, ", "))
	}
	s := strings.Join(parts, "; ") + "."
	if len(out.RebootRequired) > 0 {
		s += fmt.Sprintf(" Running instances take the new key after a reboot (reboot_instances): %s.", strings.Join(out.RebootRequired, ", "))
	}
	if out.Executed && len(out.Remaining) > 0 {
		s += " Stopped before the end; remaining: " + strings.Join(out.Remaining, "; ") + ". Calling again with the same arguments continues."
	}
	return s
}
