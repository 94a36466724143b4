package tools

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
)

func rebootInstances(d Deps) Tool {
	return newTool[schema.RebootInstancesInput, schema.RebootInstancesOutput](d, toolSpec[schema.RebootInstancesInput]{
		kind: KindDestructive, name: "reboot_instances", title: "Reboot instances", repeats: true,
		about: "Reboot Running instances, e.g. so that a key pair attached or detached takes effect (rebootRequired), " +
			"and by default wait until they are Running again. Stopped or transitional instances are left alone. " +
			"Without confirm: true this changes nothing and returns a preview per instance: show it to the user and " +
			"call again with confirm: true only after they agree. Up to " + strconv.Itoa(schema.MaxListItems) + " instances per call.",
		subject: func(in *schema.RebootInstancesInput) subject {
			return subject{regions: []string{in.RegionID}, items: in.InstanceIDs, attempt: in.Confirm}
		},
		run: runRebootInstances,
	})
}

// rebootPlan is what a reboot would do, from the instances' status now.
type rebootPlan struct {
	out   schema.RebootInstancesOutput
	send  []string
	index map[string]int // instance ID -> position in out.Instances
	state []stateLine
	lines []string
}

func planReboot(ctx context.Context, c *call, region string, ids []string) (*rebootPlan, error) {
	found, err := c.Cloud.DescribeInstances(ctx, schema.DescribeInstancesInput{RegionID: region, InstanceIDs: ids})
	if err != nil {
		return nil, err
	}
	byID := map[string]schema.Instance{}
	for _, in := range found.Instances {
		byID[in.InstanceID] = in
	}
	p := &rebootPlan{out: schema.RebootInstancesOutput{Instances: make([]schema.RebootOutcome, len(ids))}, index: map[string]int{}}
	for i, id := range ids {
		in, ok := byID[id]
		o := schema.RebootOutcome{InstanceID: id}
		switch {
		case !ok:
			o.Outcome, o.Code, o.Message = "not_found", "InvalidInstanceId.NotFound", "no such instance in this region"
			p.state = append(p.state, stateLine{Item: id, State: "not found"})
		case in.Status == "Running":
			o.InstanceName, o.Status, o.Outcome = in.InstanceName, in.Status, "would_reboot"
			p.send = append(p.send, id)
			p.index[id] = i
			p.state = append(p.state, stateLine{Item: id, State: in.Status})
		default:
			o.InstanceName, o.Status, o.Outcome = in.InstanceName, in.Status, "not_running"
			o.Message = fmt.Sprintf("the instance is %s; only Running instances are rebooted", escapeText(in.Status))
			p.state = append(p.state, stateLine{Item: id, State: in.Status})
		}
		p.out.Instances[i] = o
		line := escapeText(id)
		if ok {
			line += fmt.Sprintf(" %s (%s, %s)", quoted(in.InstanceName), escapeText(in.Status), escapeText(in.OSType))
		}
		p.lines = append(p.lines, line+": "+o.Outcome)
	}
	return p, nil
}

func (p *rebootPlan) approval(in *schema.RebootInstancesInput) approvalRequest {
	about := []string{"A normal reboot: the operating system shuts down cleanly."}
	if in.ForceReboot {
		about = []string{"A FORCED reboot, like cutting the power: unsaved data on the instances is lost."}
	}
	return approvalRequest{tool: "reboot_instances", region: in.RegionID, items: in.InstanceIDs, changes: len(p.send),
		state: p.state, about: about, lines: p.lines, totals: rebootSummary(p.out), preview: p.out}
}

func runRebootInstances(ctx context.Context, c *call, in *schema.RebootInstancesInput) (*mcpResult, error) {
	p, err := planReboot(ctx, c, in.RegionID, in.InstanceIDs)
	if err != nil {
		return nil, err
	}
	if !in.Confirm {
		return previewResult(rebootSummary(p.out), p.out)
	}
	ctx, stop, err := c.approve(ctx, p.approval(in), func(ctx context.Context) (approvalRequest, error) {
		if p, err = planReboot(ctx, c, in.RegionID, in.InstanceIDs); err != nil {
			return approvalRequest{}, err
		}
		return p.approval(in), nil
	})
	if stop != nil || err != nil {
		return stop, err
	}
	out := p.out
	out.Executed = true
	if len(p.send) == 0 {
		c.trail.outcome(AuditEntry{Items: in.InstanceIDs, ConfirmedBy: c.confirmedBy, Outcomes: rebootAudit(out.Instances, nil), Reason: "nothing to reboot"})
		return textResult(rebootSummary(out), out)
	}
	if err := c.trail.intent(AuditEntry{Items: p.send, ConfirmedBy: c.confirmedBy, Outcomes: rebootAudit(out.Instances, nil)}); err != nil {
		return nil, err
	}
	outcomes, requestIDs, maybe, err := c.reboot(ctx, in.RegionID, p.send, in.ForceReboot, in.Wait == nil || *in.Wait)
	if err != nil {
		return nil, err
	}
	out.RequestIDs = requestIDs
	rebooted := 0
	for _, o := range outcomes {
		i := p.index[o.InstanceID]
		o.InstanceName = out.Instances[i].InstanceName
		out.Instances[i] = o
		if o.Outcome != "failed" {
			rebooted++
		}
	}
	c.trail.outcome(AuditEntry{Items: p.send, ConfirmedBy: c.confirmedBy, Executed: rebooted > 0, Outcomes: rebootAudit(out.Instances, maybe), RequestIDs: requestIDs})
	return textResult(rebootSummary(out), out)
}

// reboot reboots Running instances and, with wait, waits until they are
// Running again, bounded by ctx: one outcome per instance, in order, and
// the instances whose reboot may have started though it failed.
func (c *call) reboot(ctx context.Context, region string, ids []string, force, wait bool) (_ []schema.RebootOutcome, requestIDs []string, maybe map[string]bool, _ error) {
	results, requestIDs, err := c.Cloud.RebootInstances(ctx, region, ids, force)
	if err != nil {
		return nil, nil, nil, err
	}
	maybe = map[string]bool{}
	out := make([]schema.RebootOutcome, len(results))
	after := map[string]string{}
	for i, r := range results {
		o := schema.RebootOutcome{InstanceID: r.InstanceID, Status: r.Status}
		switch {
		case r.Success:
			o.Outcome = "reboot_sent"
			after[r.InstanceID] = r.Status
		default:
			o.Outcome, o.Code, o.Message = "failed", r.Code, escapeText(r.Message)
			if r.MaybeApplied {
				o.Message += "; the reboot may or may not have started: read the status again to see"
				maybe[r.InstanceID] = true
			}
		}
		out[i] = o
	}
	if !wait || len(after) == 0 {
		return out, requestIDs, maybe, nil
	}
	status := c.Cloud.WaitRunning(ctx, region, after)
	for i := range out {
		o := &out[i]
		if o.Outcome != "reboot_sent" {
			continue
		}
		switch s := status[o.InstanceID]; s {
		case "Running":
			o.Outcome, o.Status = "rebooted", s
		case "":
			o.Outcome, o.Code, o.Message = "failed", "InvalidInstanceId.NotFound", "the instance went away during its reboot"
		default:
			o.Outcome, o.Status = "timed_out_waiting", s
			o.Message = "not Running again within the call's time; describe_instances shows its status"
		}
	}
	return out, requestIDs, maybe, nil
}

// rebootAudit is the outcomes of a reboot for the audit log; maybe are the
// instances whose reboot may have started though it failed.
func rebootAudit(outcomes []schema.RebootOutcome, maybe map[string]bool) []AuditOutcome {
	a := make([]AuditOutcome, len(outcomes))
	for i, o := range outcomes {
		a[i] = AuditOutcome{Item: o.InstanceID, Outcome: fate(o.Outcome, maybe[o.InstanceID]), Code: o.Code}
	}
	return a
}

// rebootSummary says in a few words what happened or would happen.
func rebootSummary(out schema.RebootInstancesOutput) string {
	counts := map[string]int{}
	for _, o := range out.Instances {
		counts[o.Outcome]++
	}
	n := len(out.Instances)
	var parts []string
	if out.Executed {
		parts = append(parts, fmt.Sprintf("Rebooted %d of %d instance(s), Running again.", counts["rebooted"], n))
		if k := counts["reboot_sent"]; k > 0 {
			parts = append(parts, fmt.Sprintf("%d reboot(s) sent, not waited for.", k))
		}
		if k := counts["timed_out_waiting"]; k > 0 {
			parts = append(parts, fmt.Sprintf("%d not Running again within the call's time.", k))
		}
	} else {
		parts = append(parts, fmt.Sprintf("%d of %d instance(s) would be rebooted.", counts["would_reboot"], n))
	}
	if k := counts["not_running"]; k > 0 {
		parts = append(parts, fmt.Sprintf("%d not Running, left alone.", k))
	}
	if k := counts["not_found"]; k > 0 {
		parts = append(parts, fmt.Sprintf("%d not found in the region.", k))
	}
	if k := counts["failed"]; k > 0 {
		parts = append(parts, fmt.Sprintf("%d failed (see code and message).", k))
	}
	return strings.Join(parts, " ")
}
