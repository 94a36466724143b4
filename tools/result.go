package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
)

// mcpResult shortens handler signatures.
type mcpResult = mcp.CallToolResult

// validator is an input that checks itself.
type validator interface{ Validate() error }

// handle builds a tool handler: bind the arguments strictly, validate them,
// then run. Every failure becomes a tool result with isError set, so that
// the model reads the error and can correct itself; nothing becomes a
// protocol error.
func handle[In any, PIn interface {
	*In
	validator
}](run func(ctx context.Context, in In) (*mcp.CallToolResult, error)) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		in, err := schema.Bind[In](rawArguments(req))
		if err != nil {
			return errorResult(err), nil
		}
		if err := PIn(&in).Validate(); err != nil {
			return errorResult(err), nil
		}
		res, err := run(ctx, in)
		if err != nil {
			return errorResult(err), nil
		}
		return res, nil
	}
}

// rawArguments returns the call's arguments as JSON, as they arrived when
// they came over the wire.
func rawArguments(req mcp.CallToolRequest) json.RawMessage {
	if len(req.Params.RawArguments) > 0 {
		return req.Params.RawArguments
	}
	if req.Params.Arguments == nil {
		return nil
	}
	b, err := json.Marshal(req.Params.Arguments)
	if err != nil {
		return nil // Bind reports the arguments as missing
	}
	return b
}

// result is a successful result: the output as structured content and the
// same JSON as text, for clients that show only text.
func result(out any) (*mcp.CallToolResult, error) {
	b, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	return mcp.NewToolResultStructured(out, string(b)), nil
}

// previewResult is the result of a destructive call made without confirm:
// its text starts with "Not executed" so that no reader mistakes it for a
// change.
func previewResult(summary string, out any) (*mcp.CallToolResult, error) {
	b, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	text := "Not executed: this is a preview and nothing was changed. " + summary +
		" Call again with confirm: true to proceed.\n" + string(b)
	return mcp.NewToolResultStructured(out, text), nil
}

// summaryResult is a successful result whose text leads with a summary.
func summaryResult(summary string, out any) (*mcp.CallToolResult, error) {
	b, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	return mcp.NewToolResultStructured(out, summary+"\n"+string(b)), nil
}

// errorResult renders an error as "Code: message": the cloud's codes pass
// through unchanged, with the request ID, and local checks use the same
// vocabulary.
func errorResult(err error) *mcp.CallToolResult {
	var se *schema.Error
	var ce *cloud.Error
	var text string
	switch {
	case errors.As(err, &se):
		text = se.Error()
	case errors.As(err, &ce):
		text = ce.Error()
	case errors.Is(err, context.Canceled):
		text = "RequestCanceled: the call was cancelled before it finished"
	case errors.Is(err, context.DeadlineExceeded):
		text = "RequestTimeout: the call did not finish in time"
	default:
		text = fmt.Sprintf("InternalError: %v", err)
	}
	return mcp.NewToolResultError(text)
}

// errorCode returns the code an error carries, for per-item outcomes.
func errorCode(err error) string {
	var se *schema.Error
	var ce *cloud.Error
	switch {
	case errors.As(err, &se):
		return se.Code
	case errors.As(err, &ce):
		return ce.Code
	}
	return "InternalError"
}
