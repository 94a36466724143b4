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
)

// mcpResult shortens handler signatures.
type mcpResult = mcp.CallToolResult

// call is one tool call as the steps and the tool's work see it.
type call struct {
	Deps
	tool string
	req  mcp.CallToolRequest
	// about is what the call is about, once its arguments are bound.
	about subject
	// trail records the call's write attempts; nil without an audit log.
	trail *trail

	// base is the request's context, with progress reporting: the client's
	// cancellation ends it, the call's time bound does not.
	base     context.Context
	timeout  time.Duration
	deadline time.Time
	cancels  []context.CancelFunc

	// confirmedBy is who let a destructive call write: "person" or "flag".
	confirmedBy string
	// refusal says why a person's approval was not given.
	refusal string
}

// subject is what a call is about: the regions it acts in and the items it
// names, for the region check and the audit log.
type subject struct {
	regions     []string
	keyPairName string
	items       []string
	// attempt marks a write attempt: a create or an import, a destructive
	// call with confirm: true, or any call of a hidden tool. Attempts that
	// send nothing are recorded as refusals.
	attempt bool
}

// region is the one region of a call, or "" for none or several.
func (s subject) region() string {
	if len(s.regions) == 1 {
		return s.regions[0]
	}
	return ""
}

// handler is a call's work, or a step wrapped around it.
type handler func(ctx context.Context, c *call) (*mcpResult, error)

// handler builds the MCP handler of a tool: prepare binds the arguments and
// returns the work, and the steps wrap it, the first outermost. Every
// failure becomes a tool result with isError set, so that the model reads
// the error and can correct itself; nothing becomes a protocol error.
func (d Deps) handler(name string, prepare func(*call) handler, steps ...step) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		c := &call{Deps: d, tool: name, req: req, base: ctx}
		h := prepare(c)
		for i := len(steps) - 1; i >= 0; i-- {
			h = steps[i](h)
		}
		res, err := h(ctx, c)
		if err != nil {
			return errorResult(err), nil
		}
		return res, nil
	}
}

// resume returns the context for the rest of the call's work after it
// waited for a person since paused: the wait is not counted against the
// call's time.
func (c *call) resume(paused time.Time) context.Context {
	if c.deadline.IsZero() {
		return c.base
	}
	left := c.deadline.Sub(paused)
	c.deadline = time.Now().Add(left)
	ctx, cancel := context.WithDeadline(c.base, c.deadline)
	c.cancels = append(c.cancels, cancel)
	return ctx
}

// DefaultCallTimeout bounds a tool call's cloud work when the transport set
// no other bound (see WithCallTimeout).
const DefaultCallTimeout = 60 * time.Second

type callTimeoutKey struct{}

// WithCallTimeout returns a context under which each tool call's cloud work
// gets at most d, or DefaultCallTimeout when d <= 0. The MCP server derives
// each handler's context from its transport's, so this is where a transport
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

// timedOut rewords the error of a call whose time ran out; a more telling
// error (e.g. a key pair created without its private key) stays as it is.
func timedOut(err error, timeout time.Duration) error {
	var ce *cloud.Error
	if errors.As(err, &ce) && ce.Code != cloud.CodeRequestTimeout && ce.Code != cloud.CodeRequestCanceled {
		return err
	}
	if !errors.As(err, &ce) && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	msg := "the call was stopped"
	if ce != nil {
		msg = ce.Message
	}
	return failure(cloud.CodeRequestTimeout, "the call did not finish within %s (the server's --timeout): %s", timeout, msg)
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
	return cloud.WithProgress(ctx, func(action, region string, done, total int) {
		// The cloud reports nothing once ctx has ended (the token is
		// spent then).
		mu.Lock()
		defer mu.Unlock()
		n++
		// A notification that cannot be delivered is not worth failing
		// the call for.
		msg := fmt.Sprintf("%s in %s: %d of %d requests done", action, region, done, total)
		if action == cloud.ActionWaitRunning {
			msg = fmt.Sprintf("in %s: %d of %d instances Running again", region, done, total)
		}
		_ = notify("notifications/progress", map[string]any{
			"progressToken": token,
			"progress":      n,
			"message":       msg,
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
