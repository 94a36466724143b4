package tools

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// Human approval of destructive calls.
//
// confirm: true is set by the model. Where the client can show a form to
// its user (elicitation), a confirmed destructive call first asks that
// person, showing everything needed to decide without the model's words:
// the tool, the region, the key pairs by name and fingerprint, every item
// with its current state, and the totals.
//
// An approval covers exactly the state the person was shown. That state,
// item by item, is bound to the approval: when the call goes ahead, it
// reads the state again, and if anything differs nothing is written and
// the result is ApprovalStale, with what changed.
//
// The two protocol generations ask differently. A client of protocol
// 2026-07-28 gets an input request in the tool result and retries the call
// with the answer; what carries over between the two rounds is a sealed
// ticket in the request state (tool, region, items, the bound state, an
// expiry and a nonce, authenticated with a per-process key). An older
// client is asked with elicitation/create while the call waits, bounded by
// the approval timeout; when that runs out, the pending request is
// withdrawn (notifications/cancelled) and a late answer changes nothing.

// ApprovalTTL is the longest a person may take to answer.
const ApprovalTTL = 10 * time.Minute

// DefaultApprovalTimeout is how long a person has to answer, unless the
// Approver says otherwise.
const DefaultApprovalTimeout = 5 * time.Minute

// approvalID names the one elicitation a destructive call asks for.
const approvalID = "approval"

// Approval error codes.
const (
	codeApprovalRequired = "ApprovalRequired"
	codeApprovalInvalid  = "ApprovalInvalid"
	codeApprovalStale    = "ApprovalStale"
	codeApprovalMismatch = "ApprovalMismatch"
	codeApprovalTimeout  = "ApprovalTimeout"
	codeApprovalFailed   = "ApprovalFailed"
)

// Approver issues and checks approvals. The zero value is not usable; use
// NewApprover.
type Approver struct {
	// Required makes elicitation mandatory: destructive tools are hidden
	// from clients that cannot elicit, and refused if called anyway.
	Required bool
	// Timeout bounds the wait for a person's answer: DefaultApprovalTimeout
	// when zero, ApprovalTTL at most.
	Timeout time.Duration

	key []byte
	now func() time.Time

	mu   sync.Mutex
	used map[string]time.Time // nonce -> expiry of tickets already spent
}

// NewApprover returns an Approver with a fresh random key: tickets are
// valid only within this process.
func NewApprover(required bool) *Approver {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		panic("tools: no randomness for the approval key: " + err.Error())
	}
	return &Approver{Required: required, key: key, now: time.Now, used: map[string]time.Time{}}
}

func (a *Approver) timeout() time.Duration {
	switch {
	case a.Timeout <= 0:
		return DefaultApprovalTimeout
	case a.Timeout > ApprovalTTL:
		return ApprovalTTL
	}
	return a.Timeout
}

// ClientCanElicit reports whether the client making the request declared
// form elicitation: per request for protocol 2026-07-28, else for its
// session. An empty elicitation capability means form mode.
func ClientCanElicit(ctx context.Context) bool {
	var caps *mcp.ClientCapabilities
	if info := server.RequestProtocolInfoFromContext(ctx); info != nil && info.Modern {
		caps = info.ClientCapabilities
	} else if s, ok := server.ClientSessionFromContext(ctx).(server.SessionWithClientInfo); ok {
		c := s.GetClientCapabilities()
		caps = &c
	}
	if caps == nil || caps.Elicitation == nil {
		return false
	}
	e := caps.Elicitation
	return e.Form != nil || e.URL == nil
}

// modernRequest reports a request of protocol 2026-07-28 or later, whose
// client asks its user between two rounds of the call.
func modernRequest(ctx context.Context) bool {
	info := server.RequestProtocolInfoFromContext(ctx)
	return info != nil && info.Modern
}

// Elicit asks the client's user, and returns their answer. When ctx ends
// first it returns ctx's error, and the request is withdrawn.
type Elicit func(ctx context.Context, params mcp.ElicitationParams) (*mcp.ElicitationResult, error)

type elicitKey struct{}

// WithElicit returns a context under which approvals of clients of the
// older protocol are asked through elicit. A transport that sees every
// message passes it on, so that a request the server gives up on is
// withdrawn from the client; without one, mcp-go's own elicitation is
// used, which cannot withdraw it.
func WithElicit(ctx context.Context, elicit Elicit) context.Context {
	return context.WithValue(ctx, elicitKey{}, elicit)
}

func elicitFrom(ctx context.Context) Elicit {
	if e, ok := ctx.Value(elicitKey{}).(Elicit); ok && e != nil {
		return e
	}
	return func(ctx context.Context, params mcp.ElicitationParams) (*mcp.ElicitationResult, error) {
		srv := server.ServerFromContext(ctx)
		if srv == nil {
			return nil, fmt.Errorf("no MCP session to ask through")
		}
		return srv.RequestElicitation(ctx, mcp.ElicitationRequest{
			Request: mcp.Request{Method: string(mcp.MethodElicitationCreate)},
			Params:  params,
		})
	}
}

// stateLine is what the preview saw of one item, e.g. item "i-bp1abc",
// state "Running, key pair \"old\"". The approval is bound to these.
type stateLine struct {
	Item  string `json:"i"`
	State string `json:"s"`
}

// approvalRequest describes a confirmed destructive call and what its
// preview saw.
type approvalRequest struct {
	tool, region string
	// items are the call's items in order (key pair names or instance IDs).
	items []string
	// state is what the preview saw, item by item, including the key pairs
	// the call names; compared when the call goes ahead.
	state []stateLine
	// changes counts the items that would change; 0: nobody is asked.
	changes int
	// about lines name the key pairs (name and fingerprint); lines list
	// every item with its state and what would happen; totals sums up.
	// All three are already escaped.
	about, lines []string
	totals       string
	// typed is what the person must type to approve ("" for a tick box),
	// and typedWhat says what it is, e.g. "the key pair name".
	typed, typedWhat string
	// preview is the unconfirmed result, returned as it is if the person
	// declines.
	preview any
}

// ticket is an approval asked for in an input request (protocol
// 2026-07-28), sealed into its request state.
type ticket struct {
	Tool   string   `json:"t"`
	Region string   `json:"r"`
	Items  []string `json:"i"`
	// Args binds every other argument (argumentsDigest): a retry that
	// flips forceReboot or deleteOld, or sends another public key, is
	// not the call the person approved.
	Args    string      `json:"a"`
	State   []stateLine `json:"s"`
	Expires int64       `json:"e"` // Unix milliseconds
	Nonce   string      `json:"n"`
}

func (a *Approver) seal(t ticket) string {
	payload, _ := json.Marshal(t) // a ticket always encodes
	mac := hmac.New(sha256.New, a.key)
	mac.Write(payload)
	enc := base64.RawURLEncoding
	return enc.EncodeToString(payload) + "." + enc.EncodeToString(mac.Sum(nil))
}

// open checks a sealed ticket's integrity and expiry.
func (a *Approver) open(state string) (ticket, error) {
	var t ticket
	enc := base64.RawURLEncoding
	p, s, ok := strings.Cut(state, ".")
	payload, err1 := enc.DecodeString(p)
	sum, err2 := enc.DecodeString(s)
	if !ok || err1 != nil || err2 != nil {
		return t, approvalInvalid("the approval state is malformed")
	}
	mac := hmac.New(sha256.New, a.key)
	mac.Write(payload)
	if !hmac.Equal(sum, mac.Sum(nil)) {
		return t, approvalInvalid("the approval state was altered or comes from another server process")
	}
	if err := json.Unmarshal(payload, &t); err != nil {
		return t, approvalInvalid("the approval state is malformed")
	}
	if a.now().UnixMilli() > t.Expires {
		return t, failure(codeApprovalTimeout, "the approval request was answered after its time ran out (%s, --approval-timeout); "+
			"nothing was changed. Call the tool again (with confirm: true) to ask the user anew.", a.timeout())
	}
	return t, nil
}

// spend marks a ticket used; it reports false when it already was.
func (a *Approver) spend(t ticket) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now().UnixMilli()
	for n, exp := range a.used {
		if now > exp.UnixMilli() {
			delete(a.used, n)
		}
	}
	if _, dup := a.used[t.Nonce]; dup {
		return false
	}
	a.used[t.Nonce] = time.UnixMilli(t.Expires)
	return true
}

func approvalInvalid(msg string) error {
	return failure(codeApprovalInvalid, "%s; nothing was changed. Call the tool again (with confirm: true) to ask the user anew.", msg)
}

// approve is the approval gate of a confirmed destructive call, and returns
// the handler's next move:
//
//   - go ahead: the returned result and error are nil, c.confirmedBy says
//     who confirmed, and the returned context replaces the handler's (the
//     time a person took to answer is not the call's to spend);
//   - stop: return the result (a request for input, or the preview of a
//     call the person declined) or the error (a refusal).
//
// replan reads the state again: after a person answered within this call
// (older protocol) the state may have changed while they decided, and the
// new state must match what they approved. With a ticket (protocol
// 2026-07-28) the call was made after the answer, and ar is already fresh.
func (c *call) approve(ctx context.Context, ar approvalRequest, replan func(context.Context) (approvalRequest, error)) (context.Context, *mcpResult, error) {
	a := c.Approver
	if a == nil || !ClientCanElicit(ctx) {
		if a != nil && a.Required {
			return ctx, nil, approvalRequired(ar.tool)
		}
		c.confirmedBy = "flag"
		return ctx, nil, nil
	}
	round := roundTrip(c.req)
	if round.RequestState == "" && ar.changes == 0 {
		// Nothing would be written: no one needs to be asked.
		c.confirmedBy = "flag"
		return ctx, nil, nil
	}
	if modernRequest(ctx) {
		res, err := c.approveByTicket(ar, round)
		return ctx, res, err
	}
	return c.approveNow(ctx, ar, replan)
}

func approvalRequired(tool string) error {
	return failure(codeApprovalRequired, "this server requires a person's approval for %s (--require-approval), and this client "+
		"cannot ask its user (no elicitation support), so the tool is hidden from it; nothing was changed. Use a client that "+
		"supports elicitation, or have someone make the change another way.", tool)
}

// approveByTicket is the gate for protocol 2026-07-28: the first round
// asks, the second checks the answer against the ticket.
func (c *call) approveByTicket(ar approvalRequest, round mcp.MultiRoundTripParams) (*mcpResult, error) {
	a := c.Approver
	if round.RequestState == "" {
		t := ticket{Tool: ar.tool, Region: ar.region, Items: ar.items, Args: argumentsDigest(c.req), State: ar.state,
			Expires: a.now().Add(a.timeout()).UnixMilli(), Nonce: nonce()}
		return server.NewInputRequestBuilder(a.seal(t)).Elicit(approvalID, elicitation(ar)).ToolResult(), nil
	}
	t, err := a.open(round.RequestState)
	if err != nil {
		return nil, err
	}
	if t.Tool != ar.tool || t.Region != ar.region || !slices.Equal(t.Items, ar.items) || t.Args != argumentsDigest(c.req) {
		return nil, approvalInvalid("the call's tool, region, items or other arguments differ from what the user was asked to approve")
	}
	answer := server.ElicitationResponse(round.InputResponses, approvalID)
	if answer == nil {
		return nil, approvalInvalid("the user's answer is missing from the retried call")
	}
	if !a.spend(t) {
		return nil, approvalInvalid("this approval was already used")
	}
	return c.judge(ar, answer, t.State)
}

// argumentsDigest hashes a call's arguments other than confirm, whatever
// their order, for a ticket to bind the retried call to.
func argumentsDigest(req mcp.CallToolRequest) string {
	var args map[string]any
	_ = json.Unmarshal(rawArguments(req), &args) // none: the digest of null
	delete(args, "confirm")
	b, _ := json.Marshal(args) // encoding/json sorts map keys
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// approveNow is the gate for older clients: ask with elicitation/create
// while the call waits, at most the approval timeout.
func (c *call) approveNow(ctx context.Context, ar approvalRequest, replan func(context.Context) (approvalRequest, error)) (context.Context, *mcpResult, error) {
	paused := time.Now()
	answer, err := c.ask(elicitation(ar))
	if err != nil {
		return ctx, nil, err
	}
	// The person's time is not the call's: the cloud work goes on with
	// what was left of the call's time when they were asked.
	ctx = c.resume(paused)
	fresh, err := replan(ctx)
	if err != nil {
		return ctx, nil, err
	}
	res, err := c.judge(fresh, answer, ar.state)
	return ctx, res, err
}

// ask puts the form to the person and waits, bounded by the approval
// timeout and by the client's cancellation of the call. A late answer is
// dropped.
func (c *call) ask(params mcp.ElicitationParams) (*mcp.ElicitationResult, error) {
	timeout := c.Approver.timeout()
	ctx, cancel := context.WithTimeout(c.base, timeout)
	defer cancel()
	type reply struct {
		res *mcp.ElicitationResult
		err error
	}
	replies := make(chan reply, 1) // buffered: a late answer never blocks
	go func() {
		res, err := elicitFrom(ctx)(ctx, params)
		replies <- reply{res, err}
	}()
	var r reply
	select {
	case r = <-replies:
	case <-ctx.Done():
	}
	switch {
	case c.base.Err() != nil:
		return nil, c.base.Err()
	case ctx.Err() != nil:
		return nil, failure(codeApprovalTimeout, "nobody answered the approval request within %s (--approval-timeout); "+
			"it was withdrawn and nothing was changed. Call the tool again (with confirm: true) to ask the user anew.", timeout)
	case r.err != nil:
		return nil, failure(codeApprovalFailed, "the client could not ask its user (%s); nothing was changed",
			escapeText(clipText(r.err.Error(), 200)))
	case r.res == nil:
		return nil, failure(codeApprovalFailed, "the client answered the approval request with nothing; nothing was changed")
	}
	return r.res, nil
}

// judge reads the person's answer to ar, whose state they were shown as
// shown, and decides.
func (c *call) judge(ar approvalRequest, answer *mcp.ElicitationResult, shown []stateLine) (*mcpResult, error) {
	switch answer.Action {
	case mcp.ElicitationResponseActionAccept:
	case mcp.ElicitationResponseActionDecline:
		c.refusal = "the user declined"
		return declinedResult(c.refusal, ar.preview)
	default:
		c.refusal = "the user cancelled"
		return declinedResult(c.refusal, ar.preview)
	}
	// The state first: what to type follows from it, so a changed state
	// is the cause of a mismatch as well.
	if changed := stateChanges(shown, ar.state); len(changed) > 0 {
		return nil, failure(codeApprovalStale, "what the user approved no longer holds, so nothing was changed: %s. "+
			"Call again to show them the current preview.", strings.Join(changed, "; "))
	}
	content, _ := answer.Content.(map[string]any)
	if ar.typed == "" {
		if content["approve"] != true {
			c.refusal = "the user did not tick approve"
			return declinedResult(c.refusal, ar.preview)
		}
	} else if got, _ := content["confirmation"].(string); strings.TrimSpace(got) != ar.typed {
		return nil, failure(codeApprovalMismatch, "the user typed %s, which is not %s (%s); nothing was changed",
			quoted(clipText(got, 60)), ar.typedWhat, quoted(ar.typed))
	}
	c.confirmedBy = "person"
	return nil, nil
}

// stateChanges lists, item by item, how now differs from then (at most
// ten, then a count).
func stateChanges(then, now []stateLine) []string {
	before := make(map[string]string, len(then))
	for _, l := range then {
		before[l.Item] = l.State
	}
	var out []string
	seen := map[string]bool{}
	for _, l := range now {
		seen[l.Item] = true
		if was, ok := before[l.Item]; !ok || was != l.State {
			out = append(out, fmt.Sprintf("%s was %s, is now %s", escapeText(l.Item), escapeText(orNone(was)), escapeText(l.State)))
		}
	}
	for _, l := range then {
		if !seen[l.Item] {
			out = append(out, fmt.Sprintf("%s was %s, is now not seen", escapeText(l.Item), escapeText(l.State)))
		}
	}
	if len(out) > 10 {
		out = append(out[:10], fmt.Sprintf("and %d more", len(out)-10))
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "not seen"
	}
	return s
}

// declinedResult is the result of a call a person did not approve:
// nothing was written, and the text says so first.
func declinedResult(why string, out any) (*mcp.CallToolResult, error) {
	return textResult("Not executed: "+why+"; nothing was changed. Do not retry unless the user asks.", out)
}

// elicitation is the form the person sees: what the call would do, then
// what to type or tick. One string or one boolean: every client that can
// elicit renders those.
func elicitation(ar approvalRequest) mcp.ElicitationParams {
	props := map[string]any{}
	var required []string
	var ask string
	if ar.typed != "" {
		ask = fmt.Sprintf("To approve, type %s: %s", ar.typedWhat, escapeText(ar.typed))
		props["confirmation"] = map[string]any{"type": "string", "title": "Type " + ar.typedWhat + " to approve", "description": ask}
		required = []string{"confirmation"}
	} else {
		ask = "Tick approve and accept to go ahead; decline to change nothing."
		props["approve"] = map[string]any{"type": "boolean", "title": "Approve", "description": ask}
		required = []string{"approve"}
	}
	var msg strings.Builder
	fmt.Fprintf(&msg, "An assistant asks to run %s in region %s.\n", ar.tool, escapeText(ar.region))
	for _, l := range ar.about {
		msg.WriteString(l + "\n")
	}
	for _, l := range ar.lines {
		msg.WriteString("- " + l + "\n")
	}
	if ar.totals != "" {
		msg.WriteString(ar.totals + "\n")
	}
	msg.WriteString(ask)
	return mcp.ElicitationParams{
		Mode:    mcp.ElicitationModeForm,
		Message: msg.String(),
		RequestedSchema: map[string]any{
			"type":       "object",
			"properties": props,
			"required":   required,
		},
	}
}

func nonce() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

func clipText(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "..."
	}
	return s
}

// roundTrip returns a tools/call's multi round-trip parameters: the
// person's answer and the sealed state.
func roundTrip(req mcp.CallToolRequest) mcp.MultiRoundTripParams {
	return req.Params.MultiRoundTripParams
}

// keyPairLine names a key pair for a person: its name and fingerprint.
func keyPairLine(role, name, fingerprint string) string {
	if fingerprint == "" {
		return fmt.Sprintf("%s: %s (does not exist)", role, quoted(name))
	}
	return fmt.Sprintf("%s: %s, fingerprint %s", role, quoted(name), escapeText(fingerprint))
}

// countText is n as a person types it to approve n items.
func countText(n int) string { return strconv.Itoa(n) }
