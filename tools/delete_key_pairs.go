package tools

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
)

func deleteKeyPairs(d Deps) Tool {
	return Tool{
		Definition: define[schema.DeleteKeyPairsInput, schema.DeleteKeyPairsOutput](
			"delete_key_pairs", "Delete SSH key pairs",
			"Delete key pairs from a region. Without confirm: true this changes nothing and returns a preview, "+
				"key pair by key pair: would_delete, not_found, or bound (attached to instances, listed in "+
				"boundInstances: such a key pair cannot be deleted; detach it with detach_key_pair first). Show the "+
				"preview to the user and call again with confirm: true only after they agree. Deletion cannot be "+
				"undone, but instances keep working: their authorized keys are not touched. Names are exact (no "+
				"wildcards); up to 500 per call.",
			destructive),
		Handler: handle(func(ctx context.Context, in schema.DeleteKeyPairsInput) (*mcpResult, error) {
			return runDeleteKeyPairs(ctx, d, in)
		}),
	}
}

func runDeleteKeyPairs(ctx context.Context, d Deps, in schema.DeleteKeyPairsInput) (*mcpResult, error) {
	view, err := loadRegion(ctx, d, in.RegionID)
	if err != nil {
		return nil, err
	}
	out := schema.DeleteKeyPairsOutput{KeyPairs: make([]schema.DeleteOutcome, len(in.KeyPairNames))}
	var deletable []string
	index := map[string]int{}
	for i, name := range in.KeyPairNames {
		o := schema.DeleteOutcome{KeyPairName: name}
		switch bound := view.boundTo[name]; {
		case !view.keyPairs[name]:
			o.Outcome = "not_found"
			o.Message = fmt.Sprintf("no key pair %q in %s", name, in.RegionID)
		case len(bound) > 0:
			o.Outcome = "bound"
			o.BoundInstances = bound
			o.Code = "InvalidParameter.KeypairAlreadyAttachedInstance"
			o.Message = fmt.Sprintf("attached to %d instance(s); detach it with detach_key_pair before deleting it", len(bound))
		default:
			o.Outcome = "would_delete"
			deletable = append(deletable, name)
			index[name] = i
		}
		out.KeyPairs[i] = o
	}
	if !in.Confirm {
		return previewResult(deleteSummary(out, false), out)
	}
	// The person types the name, or for several the count: a deliberate
	// act, unlike clicking through.
	typed, typedWhat := strconv.Itoa(len(deletable)), "the number of key pairs to delete"
	if len(deletable) == 1 {
		typed, typedWhat = deletable[0], "the key pair's name"
	}
	v, why, ask, err := d.approve(ctx, approvalRequest{
		tool: "delete_key_pairs", region: in.RegionID, items: in.KeyPairNames, send: deletable,
		preview: deleteSummary(out, false) + "\n" + deleteLines(out), typed: typed, typedWhat: typedWhat,
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
	if len(deletable) > 0 {
		batches, err := d.Cloud.DeleteKeyPairs(ctx, in.RegionID, deletable)
		if err != nil {
			return nil, err
		}
		failed := 0
		for _, b := range batches {
			if b.RequestID != "" {
				out.RequestIDs = append(out.RequestIDs, b.RequestID)
			}
			for _, name := range b.Items {
				o := &out.KeyPairs[index[name]]
				if b.Err != nil {
					failed++
					o.Outcome, o.Code, o.Message = "failed", errorCode(b.Err), b.Err.Error()
				} else {
					o.Outcome = "deleted"
				}
			}
		}
		if failed == len(deletable) {
			// Nothing was deleted: report the cause as the error it is.
			return nil, batches[0].Err
		}
	}
	return summaryResult(deleteSummary(out, true), out)
}

// deleteLines lists the preview key pair by key pair, for a person to
// approve.
func deleteLines(out schema.DeleteKeyPairsOutput) string {
	var sb strings.Builder
	for _, o := range out.KeyPairs {
		fmt.Fprintf(&sb, "- %s: %s", o.KeyPairName, o.Outcome)
		if len(o.BoundInstances) > 0 {
			fmt.Fprintf(&sb, " (attached to %s)", strings.Join(o.BoundInstances, ", "))
		}
		sb.WriteByte('\n')
	}
	return sb.String()
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
