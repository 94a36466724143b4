package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
)

// mcpResult shortens handler signatures.
type mcpResult = mcp.CallToolResult

// validator is an input that checks itself.
type validator interface{ Validate() error }

// DefaultCallTimeout bounds a tool call when the transport set no other
// bound (see WithCallTimeout).
const DefaultCallTimeout = 60 * time.Second

type callTimeoutKey struct{}

// WithCallTimeout returns a context under which each tool call gets at
// most d, or DefaultCallTimeout when d <= 0. The MCP server derives each
// handler's context from its transport's, so this is where a transport
// passes the bound on.
func WithCallTimeout(ctx context.Context, d time.Duration) context.Context {
	return context.WithValue(ctx, callTimeoutKey{}, d)
}

func callTimeout(ctx context.Context) time.Duration {
	if d, _ := ctx.Value(callTimeoutKey{}).(time.Duration); d > 0 {
		return d
	}
	return DefaultCallTimeout
}

// Notify writes a notification to the client, whole, before it returns.
type Notify func(method string, params map[string]any) error

type notifyKey struct{}

// WithNotify returns a context under which tool calls send their progress
// notifications through notify. A transport that writes every message
// itself passes it on, so that a call's notifications are on the wire
// before its response: mcp-go's own SendNotificationToClient queues them
// for a goroutine that may write them after it.
func WithNotify(ctx context.Context, notify Notify) context.Context {
	return context.WithValue(ctx, notifyKey{}, notify)
}

// handle builds a tool handler: bind the arguments strictly, validate them,
// then run within the call's timeout, reporting progress when the client
// asked for it. Every failure becomes a tool result with isError set, so
// that the model reads the error and can correct itself; nothing becomes a
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
		timeout := callTimeout(ctx)
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		progressCtx, settle := withProgress(ctx, req)
		res, err := run(progressCtx, in)
		settle()
		if err != nil {
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				err = timedOut(err, timeout)
			}
			return errorResult(err), nil
		}
		return res, nil
	}
}

// timedOut rewords the cancellation that the call's own timeout caused; a
// more telling error (e.g. a key pair created without its private key)
// stays as it is.
func timedOut(err error, timeout time.Duration) error {
	var ce *cloud.Error
	if errors.As(err, &ce) && ce.Code != cloud.CodeRequestCanceled {
		return err
	}
	msg := "the call was stopped"
	if ce != nil {
		msg = ce.Message
	}
	return &schema.Error{Code: cloud.CodeRequestTimeout, Message: fmt.Sprintf(
		"the call did not finish within %s (the server's --timeout): %s", timeout, msg)}
}

// progressSettle is how long the response waits after the call's last
// progress notification. The official TypeScript client handles the
// messages of one read in order, but a notification's handler only in a
// later microtask, while a response at once: a response read together with
// the notifications before it is handled first, which retires the token,
// and the client then reports those notifications as an error (for an
// unknown token) instead of passing them on. A short pause lets the client
// read them on their own.
const progressSettle = 15 * time.Millisecond

// withProgress makes the cloud calls under ctx report each finished page or
// batch to the client as notifications/progress, when the call carries a
// progress token. A call may run several operations one after the other,
// so progress counts the finished requests of the whole call, without a
// total. settle, called when the call's work is done, waits out
// progressSettle after the last notification.
func withProgress(ctx context.Context, req mcp.CallToolRequest) (_ context.Context, settle func()) {
	none := func() {}
	if req.Params.Meta == nil || req.Params.Meta.ProgressToken == nil {
		return ctx, none
	}
	notify, _ := ctx.Value(notifyKey{}).(Notify)
	if notify == nil {
		srv := server.ServerFromContext(ctx)
		if srv == nil {
			return ctx, none
		}
		notify = func(method string, params map[string]any) error {
			return srv.SendNotificationToClient(ctx, method, params)
		}
	}
	token := req.Params.Meta.ProgressToken
	var mu sync.Mutex // progress must increase: number and send in one step
	n := 0
	var last time.Time
	settle = func() {
		mu.Lock()
		wait := time.Until(last.Add(progressSettle))
		mu.Unlock()
		if wait > 0 { // never, when nothing was sent: last is zero
			t := time.NewTimer(wait)
			defer t.Stop()
			select {
			case <-t.C:
			case <-ctx.Done():
			}
		}
	}
	return cloud.WithProgress(ctx, func(action string, done, total int) {
		// The cloud reports nothing once ctx has ended (the token is
		// spent then).
		mu.Lock()
		defer mu.Unlock()
		n++
		// A notification that cannot be delivered is not worth failing
		// the call for.
		_ = notify("notifications/progress", map[string]any{
			"progressToken": token,
			"progress":      n,
			"message":       fmt.Sprintf("%s: %d of %d requests done", action, done, total),
		})
		last = time.Now()
	}), settle
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
