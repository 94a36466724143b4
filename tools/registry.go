// Package tools defines the MCP tools: for each, its definition (name,
// title, description, the four annotation hints, input and output schemas)
// and its handler (bind and validate the arguments, preview or confirm, call
// the cloud, shape the result).
package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
)

// Deps is what the handlers need.
type Deps struct {
	Cloud *cloud.Client
	// PrivateKeyDir is where create_key_pair writes private keys.
	PrivateKeyDir string
	Logger        *slog.Logger
	// Approver asks a person before destructive changes where the client
	// can; nil takes confirm: true as the approval.
	Approver *Approver
	// Regions, when set, are the only regions the tools act in: a call for
	// another is refused before any cloud call, and the input schemas'
	// regionId lists them.
	Regions []string
	// Audit, when set, records every write attempt.
	Audit *AuditLog
}

// Tool is a tool definition with its handler.
type Tool struct {
	Definition mcp.Tool
	Handler    server.ToolHandlerFunc
}

// ReadOnly reports whether the tool never changes anything.
func (t Tool) ReadOnly() bool {
	h := t.Definition.Annotations.ReadOnlyHint
	return h != nil && *h
}

// All returns every tool, in the order clients list them.
func All(d Deps) []Tool {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	all := []Tool{
		describeRegions(d),
		describeInstances(d),
		describeKeyPairs(d),
		createKeyPair(d),
		importKeyPair(d),
		deleteKeyPairs(d),
		attachKeyPair(d),
		detachKeyPair(d),
	}
	for i := range all {
		all[i] = d.guard(all[i])
	}
	return all
}

// Register adds the tools to s; with readOnly, only the read-only ones.
// When the Approver requires approval, s also hides the destructive tools
// from clients that cannot ask their user.
func Register(s *server.MCPServer, d Deps, readOnly bool) {
	destructiveTools := map[string]bool{}
	for _, t := range All(d) {
		if readOnly && !t.ReadOnly() {
			continue
		}
		if h := t.Definition.Annotations.DestructiveHint; h != nil && *h {
			destructiveTools[t.Definition.Name] = true
		}
		s.AddTool(t.Definition, t.Handler)
	}
	if d.Approver != nil && d.Approver.Required {
		server.WithToolFilter(hideUnapprovable(destructiveTools))(s)
	}
}

// guard wraps a tool with what applies to every call: the region
// allow-list (before anything else, so a refused region is never sent to
// the cloud), the multi round-trip parameters for the approval gate, and
// the audit line of a write attempt (written before the result returns).
func (d Deps) guard(t Tool) Tool {
	k := readOnly
	switch {
	case t.Definition.Annotations.DestructiveHint != nil && *t.Definition.Annotations.DestructiveHint:
		k = destructive
	case !t.ReadOnly():
		k = write
	}
	if len(d.Regions) > 0 {
		t.Definition.RawInputSchema = restrictRegions(t.Definition.RawInputSchema, d.Regions)
	}
	name, next := t.Definition.Name, t.Handler
	t.Handler = func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		raw := rawArguments(req)
		note := &auditNote{}
		var res *mcp.CallToolResult
		if err := d.checkRegion(raw); err != nil {
			// Refused, and recorded below: an attempt outside the allowed
			// regions is what an operator wants to hear about.
			res = errorResult(err)
		} else {
			ctx = withRoundTrip(ctx, req.Params.MultiRoundTripParams)
			if k != readOnly && d.Audit != nil {
				ctx = context.WithValue(ctx, auditNoteKey{}, note)
			}
			var err error
			if res, err = next(ctx, req); err != nil {
				return res, err
			}
		}
		if k == readOnly || d.Audit == nil {
			return res, nil
		}
		if e, ok := entryFor(name, k, raw, res, note); ok {
			if aerr := d.Audit.Record(e); aerr != nil {
				// The change is made; say so, and that it is unrecorded.
				d.Logger.Error("audit log write failed", "tool", name, "err", aerr)
				res.Content = append(res.Content, mcp.NewTextContent("Warning: this call could not be written to the audit log: "+aerr.Error()))
			}
		}
		return res, nil
	}
	return t
}

// checkRegion refuses a regionId outside the allow-list. Arguments that
// do not decode are left to the tool's own checks.
func (d Deps) checkRegion(raw json.RawMessage) error {
	if len(d.Regions) == 0 {
		return nil
	}
	var args struct {
		RegionID any `json:"regionId"`
	}
	if json.Unmarshal(raw, &args) != nil {
		return nil
	}
	region, ok := args.RegionID.(string)
	if !ok || region == "" || slices.Contains(d.Regions, region) {
		return nil
	}
	return &schema.Error{Code: "Forbidden.Region", Message: fmt.Sprintf(
		"regionId %q is not one this server may act in: it is limited to %s (--regions); nothing was sent to the cloud",
		region, strings.Join(d.Regions, ", "))}
}

// restrictRegions puts the allowed regions into an input schema's
// regionId, as an enum and in its description.
func restrictRegions(raw json.RawMessage, regions []string) json.RawMessage {
	var s map[string]any
	if json.Unmarshal(raw, &s) != nil {
		return raw
	}
	props, _ := s["properties"].(map[string]any)
	prop, _ := props["regionId"].(map[string]any)
	if prop == nil {
		return raw
	}
	prop["enum"] = regions
	delete(prop, "pattern")
	prop["description"] = "Region ID; this server acts only in " + strings.Join(regions, ", ") + "."
	out, err := json.Marshal(s)
	if err != nil {
		return raw
	}
	return out
}

// kind is a tool's effect, from which its four annotation hints follow.
type kind int

const (
	readOnly    kind = iota // reads only
	write                   // creates something new; destroys nothing
	destructive             // may remove or replace what exists
)

// define builds a tool definition from its input and output types. Every
// hint is set explicitly: clients assume the worst for a missing one.
func define[In, Out any](name, title, description string, k kind) mcp.Tool {
	t := mcp.NewToolWithRawSchema(name, description, schema.For[In]())
	t.RawOutputSchema = schema.For[Out]()
	t.Title = title
	t.Annotations = mcp.ToolAnnotation{
		Title:           title,
		ReadOnlyHint:    mcp.ToBoolPtr(k == readOnly),
		DestructiveHint: mcp.ToBoolPtr(k == destructive),
		// Reads and previews change nothing; a create twice fails the second
		// time; attach, detach and delete reach the same end state when
		// repeated.
		IdempotentHint: mcp.ToBoolPtr(k != write),
		// Every tool talks to Alibaba Cloud.
		OpenWorldHint: mcp.ToBoolPtr(true),
	}
	return t
}
