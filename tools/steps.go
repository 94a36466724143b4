package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
)

// A step wraps a call's work with one concern that applies to every tool
// of a kind. Each is testable on its own, with any handler inside.
type step func(next handler) handler

// steps are the steps of a tool of kind k, outermost first: the audit
// trail sees every refusal the others make.
func (d Deps) steps(k Kind) []step {
	s := []step{d.recordAudit}
	if k == KindDestructive && d.Approver != nil && d.Approver.Required {
		s = append(s, requireElicitation)
	}
	if len(d.Regions) > 0 {
		s = append(s, checkRegions(d.Regions))
	}
	return append(s, bound)
}

// recordAudit keeps the call's audit trail. The work writes its own intent
// and outcome lines, since only it knows when it is about to send; this step
// records what the work cannot: a write attempt refused before it sent
// anything (a hidden tool, a region outside the allow-list, bad arguments,
// an approval declined, stale, failed or timed out), and the end of a write
// whose work returned without saying what became of it. An outcome line
// that could not be written is said in the result.
func (d Deps) recordAudit(next handler) handler {
	return func(ctx context.Context, c *call) (*mcpResult, error) {
		c.trail = newTrail(d.Audit, c.tool, c.about.region())
		res, err := next(ctx, c)
		if c.trail == nil {
			return res, err
		}
		switch open := c.trail.pending(); {
		case len(open) > 0:
			fate := "failed"
			if err == nil || cloud.MaybeApplied(err) {
				fate = "unknown"
			}
			for _, o := range open {
				e := AuditEntry{Step: o.Step, Region: o.Region, KeyPairName: o.KeyPairName, Items: o.Items, ConfirmedBy: o.ConfirmedBy, Error: errorCode(err)}
				for _, item := range o.Items {
					e.Outcomes = append(e.Outcomes, AuditOutcome{Item: item, Outcome: fate})
				}
				c.trail.outcome(e)
			}
		case !c.trail.wrote() && c.about.attempt && (err != nil || c.refusal != ""):
			e := AuditEntry{KeyPairName: c.about.keyPairName, Items: c.about.items, Reason: c.refusal}
			if err != nil {
				e.Error = errorCode(err)
			}
			c.trail.refused(e)
		}
		if werr := c.trail.writeError(); werr != nil {
			d.Logger.Error("audit log write failed", "tool", c.tool, "err", werr)
			if err != nil {
				res, err = errorResult(err), nil
			}
			if res != nil {
				res.Content = append(res.Content, mcp.NewTextContent("Warning: this call's outcome could not be written to the audit log: "+
					escapeText(werr.Error())))
			}
		}
		return res, err
	}
}

// hiddenByReadOnly is t as a server with --read-only offers it: not listed,
// and refused, with the reason and an audit line, when called by name.
func hiddenByReadOnly(t Tool) Tool {
	t.Handler = t.readOnly
	return t
}

// refuseReadOnly is the work of a tool --read-only hides.
func refuseReadOnly(next handler) handler {
	return func(_ context.Context, c *call) (*mcpResult, error) {
		c.about.attempt = true
		return nil, failure(codeForbiddenReadOnly, "%s is hidden: this server runs with --read-only, which offers only the "+
			"read-only tools (describe_*); nothing was sent. Ask the user to make this change another way, or to restart the "+
			"server without --read-only.", c.tool)
	}
}

// requireElicitation refuses a destructive tool to a client that cannot ask
// its user, under --require-approval: the tool is hidden from it.
func requireElicitation(next handler) handler {
	return func(ctx context.Context, c *call) (*mcpResult, error) {
		if !ClientCanElicit(ctx) {
			c.about.attempt = true
			return nil, approvalRequired(c.tool)
		}
		return next(ctx, c)
	}
}

// checkRegions refuses a call for a region outside the allow-list before
// anything is sent to the cloud.
func checkRegions(allowed []string) step {
	return func(next handler) handler {
		return func(ctx context.Context, c *call) (*mcpResult, error) {
			for _, r := range c.about.regions {
				if !slices.Contains(allowed, r) {
					return nil, failure(codeForbiddenRegion, "region %s is not one this server may act in: it is limited to %s "+
						"(--regions); nothing was sent to the cloud", quoted(r), strings.Join(allowed, ", "))
				}
			}
			return next(ctx, c)
		}
	}
}

// bound gives the call's cloud work its time (--timeout) and its progress
// reporting.
func bound(next handler) handler {
	return func(ctx context.Context, c *call) (*mcpResult, error) {
		pctx, settle := withProgress(ctx, c.req)
		c.base = pctx
		c.timeout = callTimeout(ctx)
		c.deadline = time.Now().Add(c.timeout)
		cctx, cancel := context.WithDeadline(pctx, c.deadline)
		defer func() {
			cancel()
			for _, f := range c.cancels {
				f()
			}
		}()
		res, err := next(cctx, c)
		settle()
		if err != nil && !time.Now().Before(c.deadline) {
			err = timedOut(err, c.timeout)
		}
		return res, err
	}
}

// restrictRegions puts the allowed regions into an input schema's
// regionId, as an enum and in its description. The property is rewritten
// in place, so that the arguments keep their order.
func restrictRegions(raw json.RawMessage, regions []string) json.RawMessage {
	enum, err := json.Marshal(regions)
	if err != nil {
		return raw
	}
	desc, _ := json.Marshal("Region ID; this server acts only in " + strings.Join(regions, ", ") + ".")
	prop := []byte(fmt.Sprintf(`"regionId":{"type":"string","description":%s,"minLength":1,"maxLength":%d,"enum":%s}`,
		desc, schema.RegionIDMaxLength, enum))
	return regionIDProperty.ReplaceAllLiteral(raw, prop)
}

// regionIDProperty is the regionId property of a generated input schema:
// an object of scalars only.
var regionIDProperty = regexp.MustCompile(`"regionId":\{[^{}]*\}`)
