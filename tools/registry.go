// Package tools defines the MCP tools: for each, its definition (name,
// title, description, the four annotation hints, input and output schemas)
// and its handler (bind and validate the arguments, preview or confirm, call
// the cloud, shape the result).
//
// Every call passes the same steps (steps.go): the audit trail, hiding, the
// region allow-list and the call's time bound, each on its own; then the
// tool's own work, which for destructive tools asks for approval
// (approval.go) before it writes.
package tools

import (
	"context"
	"log/slog"
	"slices"

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

// Kind is a tool's effect, from which its four annotation hints follow.
type Kind int

const (
	// KindRead tools only read.
	KindRead Kind = iota
	// KindWrite tools create something new and destroy nothing.
	KindWrite
	// KindDestructive tools may remove or replace what exists.
	KindDestructive
)

func (k Kind) String() string {
	return [...]string{"read-only", "write", "destructive"}[k]
}

// Tool is a tool definition with its handler.
type Tool struct {
	Kind       Kind
	Definition mcp.Tool
	Handler    server.ToolHandlerFunc

	// readOnly is the handler under --read-only, for tools it hides.
	readOnly server.ToolHandlerFunc
}

// ReadOnly reports whether the tool never changes anything.
func (t Tool) ReadOnly() bool { return t.Kind == KindRead }

// All returns every tool, in the order clients list them.
func All(d Deps) []Tool {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return []Tool{
		describeRegions(d),
		describeInstances(d),
		describeKeyPairs(d),
		createKeyPair(d),
		importKeyPair(d),
		deleteKeyPairs(d),
		attachKeyPair(d),
		detachKeyPair(d),
		rebootInstances(d),
		rotateKeyPair(d),
	}
}

// Register adds the tools to s. With readOnly, clients see only the
// read-only tools, and a call of another by name is refused with the
// reason and recorded. When the Approver requires approval, clients that
// cannot ask their user do not see the destructive tools either.
//
// Hidden tools stay registered, so that a call by name reaches a handler
// that says why the tool is hidden (mcp-go's tool filters would refuse it
// with a bare "tool not found"); tools/list leaves them out.
func Register(s *server.MCPServer, d Deps, readOnly bool) {
	requireApproval := d.Approver != nil && d.Approver.Required
	all := map[string]Tool{}
	for _, t := range All(d) {
		all[t.Definition.Name] = t
		if HiddenBy(t, readOnly, false, true) != "" {
			t = hiddenByReadOnly(t)
		}
		s.AddTool(t.Definition, t.Handler)
	}
	hooks := &server.Hooks{}
	hooks.AddAfterListTools(func(ctx context.Context, _ any, _ *mcp.ListToolsRequest, res *mcp.ListToolsResult) {
		canElicit := ClientCanElicit(ctx)
		res.Tools = slices.DeleteFunc(res.Tools, func(t mcp.Tool) bool {
			return HiddenBy(all[t.Name], readOnly, requireApproval, canElicit) != ""
		})
	})
	server.WithHooks(hooks)(s)
}

// HiddenBy names the flag that hides t from a client, or "" when nothing
// does: --read-only hides every tool that is not read-only, and
// --require-approval the destructive ones from a client that cannot ask
// its user.
func HiddenBy(t Tool, readOnly, requireApproval, canElicit bool) string {
	switch {
	case readOnly && t.Kind != KindRead:
		return "--read-only"
	case requireApproval && t.Kind == KindDestructive && !canElicit:
		return "--require-approval"
	}
	return ""
}

// toolSpec is one tool: what clients see and what a call does.
type toolSpec[In any] struct {
	kind               Kind
	name, title, about string
	// repeats marks a tool whose call, made again, acts again (a reboot):
	// not idempotent, unlike the other reads and destructive tools.
	repeats bool
	// subject says what a call is about, for the region check and the
	// audit log.
	subject func(in *In) subject
	run     func(ctx context.Context, c *call, in *In) (*mcpResult, error)
}

// newTool builds a tool from its input and output types and its spec.
func newTool[In, Out any, PIn interface {
	*In
	validator
}](d Deps, spec toolSpec[In]) Tool {
	def := mcp.NewToolWithRawSchema(spec.name, spec.about, schema.For[In]())
	def.RawOutputSchema = schema.For[Out]()
	def.Title = spec.title
	def.Annotations = mcp.ToolAnnotation{
		Title:           spec.title,
		ReadOnlyHint:    mcp.ToBoolPtr(spec.kind == KindRead),
		DestructiveHint: mcp.ToBoolPtr(spec.kind == KindDestructive),
		// Reads and previews change nothing; a create twice fails the second
		// time; attach, detach, delete and a rotation reach the same end
		// state when repeated; a reboot reboots again.
		IdempotentHint: mcp.ToBoolPtr(spec.kind != KindWrite && !spec.repeats),
		// Every tool talks to Alibaba Cloud.
		OpenWorldHint: mcp.ToBoolPtr(true),
	}
	if len(d.Regions) > 0 {
		def.RawInputSchema = restrictRegions(def.RawInputSchema, d.Regions)
	}
	// Arguments are bound before the steps run, so that each step sees what
	// the call is about; a call whose arguments are wrong still passes the
	// audit step, and fails where its work would begin.
	prepare := func(c *call) handler {
		in, err := schema.Bind[In](rawArguments(c.req))
		if err == nil {
			err = PIn(&in).Validate()
		}
		if err != nil {
			c.about.attempt = spec.kind == KindWrite
			return func(context.Context, *call) (*mcpResult, error) { return nil, err }
		}
		c.about = spec.subject(&in)
		return func(ctx context.Context, c *call) (*mcpResult, error) { return spec.run(ctx, c, &in) }
	}
	return Tool{Kind: spec.kind, Definition: def,
		Handler:  d.handler(spec.name, prepare, d.steps(spec.kind)...),
		readOnly: d.handler(spec.name, prepare, d.recordAudit, refuseReadOnly)}
}

// validator is an input that checks itself.
type validator interface{ Validate() error }
