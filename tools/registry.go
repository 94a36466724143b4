// Package tools defines the MCP tools: for each, its definition (name,
// title, description, the four annotation hints, input and output schemas)
// and its handler (bind and validate the arguments, preview or confirm, call
// the cloud, shape the result).
package tools

import (
	"log/slog"

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
	return []Tool{
		describeRegions(d),
		describeInstances(d),
		describeKeyPairs(d),
		createKeyPair(d),
		importKeyPair(d),
		deleteKeyPairs(d),
		attachKeyPair(d),
		detachKeyPair(d),
	}
}

// Register adds the tools to s; with readOnly, only the read-only ones.
func Register(s *server.MCPServer, d Deps, readOnly bool) {
	for _, t := range All(d) {
		if readOnly && !t.ReadOnly() {
			continue
		}
		s.AddTool(t.Definition, t.Handler)
	}
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
