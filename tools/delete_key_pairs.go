package tools

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
)

func deleteKeyPairs(d Deps) Tool {
	return newTool[schema.DeleteKeyPairsInput, schema.DeleteKeyPairsOutput](d, toolSpec[schema.DeleteKeyPairsInput]{
		kind: KindDestructive, name: "delete_key_pairs", title: "Delete SSH key pairs",
		about: "Delete key pairs from a region. Without confirm: true this changes nothing and returns a preview, " +
			"key pair by key pair: would_delete, not_found, or bound (attached to instances, listed in " +
			"boundInstances: such a key pair cannot be deleted; detach it with detach_key_pair first). Show the " +
			"preview to the user and call again with confirm: true only after they agree. Deletion cannot be " +
			"undone, but instances keep working: their authorized keys are not touched. Names are exact (no " +
			"wildcards); up to " + strconv.Itoa(schema.MaxListItems) + " per call.",
		subject: func(in *schema.DeleteKeyPairsInput) subject {
			return subject{regions: []string{in.RegionID}, items: in.KeyPairNames, attempt: in.Confirm}
		},
		run: runDeleteKeyPairs,
	})
}

// deletePlan is what a delete would do, from what the region holds now.
type deletePlan struct {
	out       schema.DeleteKeyPairsOutput
	deletable []string
	index     map[string]int // deletable name -> position in out.KeyPairs
}

func planDelete(ctx context.Context, c *call, in *schema.DeleteKeyPairsInput) (*deletePlan, error) {
	view, err := loadRegion(ctx, c, in.RegionID)
	if err != nil {
		return nil, err
	}
	p := &deletePlan{out: schema.DeleteKeyPairsOutput{KeyPairs: make([]schema.DeleteOutcome, len(in.KeyPairNames))}, index: map[string]int{}}
	for i, name := range in.KeyPairNames {
		o := schema.DeleteOutcome{KeyPairName: name, KeyPairFingerPrint: view.fingerprint(name)}
		_, exists := view.keyPairs[name]
		switch bound := view.boundTo[name]; {
		case !exists:
			o.Outcome = "not_found"
			o.Message = "no such key pair in " + in.RegionID
		case len(bound) > 0:
			o.Outcome = "bound"
			o.BoundInstances = bound
			o.Code = "InvalidParameter.KeypairAlreadyAttachedInstance"
			o.Message = fmt.Sprintf("attached to %d instance(s); detach it with detach_key_pair before deleting it", len(bound))
		default:
			o.Outcome = "would_delete"
			p.deletable = append(p.deletable, name)
			p.index[name] = i
		}
		p.out.KeyPairs[i] = o
	}
	return p, nil
}

// approval is what a person approves: every key pair by name and
// fingerprint, and what would become of it.
func (p *deletePlan) approval(in *schema.DeleteKeyPairsInput) approvalRequest {
	ar := approvalRequest{tool: "delete_key_pairs", region: in.RegionID, items: in.KeyPairNames, changes: len(p.deletable),
		totals: deleteSummary(p.out, false), preview: p.out}
	for _, o := range p.out.KeyPairs {
		state := "does not exist"
		if o.KeyPairFingerPrint != "" {
			state = "fingerprint " + o.KeyPairFingerPrint + ", attached to no instance"
			if len(o.BoundInstances) > 0 {
				state = "fingerprint " + o.KeyPairFingerPrint + ", attached to " + strings.Join(o.BoundInstances, ", ")
			}
		}
		ar.state = append(ar.state, stateLine{Item: "key pair " + o.KeyPairName, State: state})
		ar.lines = append(ar.lines, fmt.Sprintf("%s: %s (%s)", quoted(o.KeyPairName), o.Outcome, escapeText(state)))
	}
	// The person types the name, or for several the count: a deliberate
	// act, unlike clicking through.
	ar.typed, ar.typedWhat = countText(len(p.deletable)), "the number of key pairs to delete"
	if len(p.deletable) == 1 {
		ar.typed, ar.typedWhat = p.deletable[0], "the key pair's name"
	}
	return ar
}

func runDeleteKeyPairs(ctx context.Context, c *call, in *schema.DeleteKeyPairsInput) (*mcpResult, error) {
	p, err := planDelete(ctx, c, in)
	if err != nil {
		return nil, err
	}
	if !in.Confirm {
		return previewResult(deleteSummary(p.out, false), p.out)
	}
	ctx, stop, err := c.approve(ctx, p.approval(in), func(ctx context.Context) (approvalRequest, error) {
		if p, err = planDelete(ctx, c, in); err != nil {
			return approvalRequest{}, err
		}
		return p.approval(in), nil
	})
	if stop != nil || err != nil {
		return stop, err
	}

	out := p.out
	out.Executed = true
	if len(p.deletable) == 0 {
		c.trail.outcome(AuditEntry{Items: in.KeyPairNames, ConfirmedBy: c.confirmedBy, Outcomes: deleteAudit(out), Reason: "nothing to delete"})
		return textResult(deleteSummary(out, true), out)
	}
	if err := c.trail.intent(AuditEntry{Items: p.deletable, ConfirmedBy: c.confirmedBy, Outcomes: deleteAudit(out)}); err != nil {
		return nil, err
	}
	batches, err := c.Cloud.DeleteKeyPairs(ctx, in.RegionID, p.deletable)
	if err != nil {
		return nil, err
	}
	failed := 0
	unknown := map[string]bool{}
	for _, b := range batches {
		if b.RequestID != "" {
			out.RequestIDs = append(out.RequestIDs, b.RequestID)
		}
		for _, name := range b.Items {
			o := &out.KeyPairs[p.index[name]]
			if b.Err != nil {
				failed++
				o.Outcome, o.Code, o.Message = "failed", errorCode(b.Err), itemFailure(b.Err)
				unknown[name] = cloud.MaybeApplied(b.Err)
			} else {
				o.Outcome = "deleted"
			}
		}
	}
	outcomes := deleteAudit(out)
	for i := range outcomes {
		if unknown[outcomes[i].Item] {
			outcomes[i].Outcome = "unknown"
		}
	}
	c.trail.outcome(AuditEntry{Items: p.deletable, ConfirmedBy: c.confirmedBy, Executed: failed < len(p.deletable),
		Outcomes: outcomes, RequestIDs: out.RequestIDs})
	if failed == len(p.deletable) {
		// Nothing was deleted: report the cause as the error it is.
		return nil, batches[0].Err
	}
	return textResult(deleteSummary(out, true), out)
}

// deleteAudit is the outcomes of a delete, for the audit log.
func deleteAudit(out schema.DeleteKeyPairsOutput) []AuditOutcome {
	a := make([]AuditOutcome, len(out.KeyPairs))
	for i, o := range out.KeyPairs {
		a[i] = AuditOutcome{Item: o.KeyPairName, Outcome: o.Outcome, Code: o.Code}
	}
	return a
}

// itemFailure is the message of an item whose request failed: the cloud's
// words, and whether the change may have happened all the same.
func itemFailure(err error) string {
	msg := err.Error()
	var ce *cloud.Error
	if errors.As(err, &ce) {
		msg = ce.Message
	}
	msg = escapeText(msg)
	if cloud.MaybeApplied(err) {
		msg += mayHaveApplied
	}
	return msg
}

// deleteSummary says in one sentence what happened or would happen.
func deleteSummary(out schema.DeleteKeyPairsOutput, executed bool) string {
	counts := map[string]int{}
	for _, o := range out.KeyPairs {
		counts[o.Outcome]++
	}
	var parts []string
	if executed {
		parts = append(parts, fmt.Sprintf("Deleted %d of %d key pair(s).", counts["deleted"], len(out.KeyPairs)))
	} else {
		parts = append(parts, fmt.Sprintf("%d of %d key pair(s) would be deleted.", counts["would_delete"], len(out.KeyPairs)))
	}
	if n := counts["bound"]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d attached to instances cannot be deleted until detached.", n))
	}
	if n := counts["not_found"]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d do not exist.", n))
	}
	if n := counts["failed"]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d failed (see code and message).", n))
	}
	return strings.Join(parts, " ")
}
