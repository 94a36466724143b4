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

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
)

// Human approval of destructive calls.
//
// confirm: true is set by the model. Where the client can show a form to
// its user (elicitation), a confirmed delete, attach or detach first asks
// that person, showing the same item-by-item preview an unconfirmed call
// returns. The handler returns an input request (protocol 2026-07-28:
// the client asks, then retries the call with the answer; mcp-go performs
// the server-initiated elicitation/create for older clients and re-invokes
// the handler the same way), so one code path serves both protocol
// generations.
//
// What carries over between the two rounds is a sealed ticket in the
// request state: tool, region, key pair, the items asked for and the items
// the preview found actionable, an expiry and a nonce, authenticated with
// a per-process key. A retry that changes any of them, a ticket that was
// altered, that expired or that was already used, or a region whose state
// changed in between so that a new preview would differ: all are refused
// and nothing is written.

// ApprovalTTL is how long a person has to answer.
const ApprovalTTL = 10 * time.Minute

// approvalID names the one elicitation a destructive call asks for.
const approvalID = "approval"

// Approver issues and checks approval tickets. The zero value is not
// usable; use NewApprover.
type Approver struct {
	// Required makes elicitation mandatory: destructive tools are hidden
	// from clients that cannot elicit, and refused if called anyway.
	Required bool

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

// ticket is what a person approves: sealed into the request state.
type ticket struct {
	Tool        string   `json:"t"`
	Region      string   `json:"r"`
	KeyPairName string   `json:"k,omitempty"`
	Items       []string `json:"i"` // as the call named them, in order
	Send        []string `json:"s"` // what the preview found actionable
	Expires     int64    `json:"e"` // Unix seconds
	Nonce       string   `json:"n"`
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
		return t, approvalError("the approval state is malformed")
	}
	mac := hmac.New(sha256.New, a.key)
	mac.Write(payload)
	if !hmac.Equal(sum, mac.Sum(nil)) {
		return t, approvalError("the approval state was altered or comes from another server process")
	}
	if err := json.Unmarshal(payload, &t); err != nil {
		return t, approvalError("the approval state is malformed")
	}
	if a.now().Unix() > t.Expires {
		return t, approvalError(fmt.Sprintf("the approval request expired (a person has %s to answer)", ApprovalTTL))
	}
	return t, nil
}

// spend marks a ticket used; it reports false when it already was.
func (a *Approver) spend(t ticket) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	for n, exp := range a.used {
		if now.Unix() > exp.Unix() {
			delete(a.used, n)
		}
	}
	if _, dup := a.used[t.Nonce]; dup {
		return false
	}
	a.used[t.Nonce] = time.Unix(t.Expires, 0)
	return true
}

func approvalError(msg string) error {
	return &schema.Error{Code: "ApprovalInvalid", Message: msg + "; nothing was changed. Call the tool again (with confirm: true) to ask the user anew."}
}

// approvalRequest describes a confirmed destructive call and its preview.
type approvalRequest struct {
	tool, region, keyPairName string
	items                     []string // the call's items, in order
	send                      []string // actionable items
	preview                   string   // the preview, for the person
	// typed is what the person must type to approve ("" for a yes/no),
	// and typedWhat says what it is, e.g. "the key pair name".
	typed, typedWhat string
}

// verdict is how a confirmed destructive call may go on.
type verdict int

const (
	proceedByFlag   verdict = iota // no elicitation: confirm: true is the approval
	proceedByPerson                // a person approved these exact items
	declined                       // a person declined or cancelled: write nothing
	askPerson                      // return res: an input request
)

// approve decides whether a confirmed destructive call may write. With
// askPerson, res is the input request to return; with declined, why says
// what the person did. An error means nothing may be written.
func (d Deps) approve(ctx context.Context, ar approvalRequest) (v verdict, why string, res *mcp.CallToolResult, err error) {
	a := d.Approver
	canElicit := ClientCanElicit(ctx)
	if a == nil || !canElicit {
		if a != nil && a.Required {
			return 0, "", nil, &schema.Error{Code: "ApprovalRequired", Message: "this server requires a person's approval for " + ar.tool +
				" (--require-approval), and this client cannot ask its user (no elicitation support); nothing was changed. Use a client that supports elicitation."}
		}
		return proceedByFlag, "", nil, nil
	}
	round := roundTripFromContext(ctx)
	if round.RequestState == "" {
		if len(ar.send) == 0 {
			// Nothing would be written: no one needs to be asked.
			return proceedByFlag, "", nil, nil
		}
		t := ticket{Tool: ar.tool, Region: ar.region, KeyPairName: ar.keyPairName, Items: ar.items, Send: ar.send,
			Expires: a.now().Add(ApprovalTTL).Unix(), Nonce: nonce()}
		return askPerson, "", server.NewInputRequestBuilder(a.seal(t)).Elicit(approvalID, elicitation(ar)).ToolResult(), nil
	}

	t, err := a.open(round.RequestState)
	if err != nil {
		return 0, "", nil, err
	}
	if t.Tool != ar.tool || t.Region != ar.region || t.KeyPairName != ar.keyPairName || !slices.Equal(t.Items, ar.items) {
		return 0, "", nil, approvalError("the call's tool, region, key pair or items differ from what the user was asked to approve")
	}
	if !slices.Equal(t.Send, ar.send) {
		return 0, "", nil, &schema.Error{Code: "ApprovalStale", Message: "the region changed while the user was deciding, so the preview they saw no longer holds; nothing was changed. Call again to show them the current preview."}
	}
	answer := server.ElicitationResponse(round.InputResponses, approvalID)
	if answer == nil {
		return 0, "", nil, approvalError("the user's answer is missing from the retried call")
	}
	if !a.spend(t) {
		return 0, "", nil, approvalError("this approval was already used")
	}
	switch answer.Action {
	case mcp.ElicitationResponseActionAccept:
	case mcp.ElicitationResponseActionDecline:
		return declined, "the user declined", nil, nil
	default:
		return declined, "the user cancelled", nil, nil
	}
	content, _ := answer.Content.(map[string]any)
	if ar.typed == "" {
		if content["approve"] != true {
			return declined, "the user did not tick approve", nil, nil
		}
		return proceedByPerson, "", nil, nil
	}
	got, _ := content["confirmation"].(string)
	if strings.TrimSpace(got) != ar.typed {
		return 0, "", nil, &schema.Error{Code: "ApprovalMismatch", Message: fmt.Sprintf(
			"the user typed %s, which is not %s (%q); nothing was changed", strconv.Quote(clipText(got, 60)), ar.typedWhat, ar.typed)}
	}
	return proceedByPerson, "", nil, nil
}

// confirmedBy names a proceeding verdict for the audit log.
func confirmedBy(v verdict) string {
	if v == proceedByPerson {
		return "person"
	}
	return "flag"
}

// declinedResult is the result of a call a person did not approve:
// nothing was written, and the text says so first.
func declinedResult(why string, out any) (*mcp.CallToolResult, error) {
	b, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	return mcp.NewToolResultStructured(out, "Not executed: "+why+"; nothing was changed. Do not retry unless the user asks.\n"+string(b)), nil
}

// elicitation is the form the person sees: the preview, then what to do.
func elicitation(ar approvalRequest) mcp.ElicitationParams {
	props := map[string]any{}
	var required []string
	var ask string
	if ar.typed != "" {
		ask = fmt.Sprintf("To approve, type %s: %s", ar.typedWhat, ar.typed)
		props["confirmation"] = map[string]any{"type": "string", "title": "Type " + ar.typedWhat + " to approve", "description": ask}
		required = []string{"confirmation"}
	} else {
		ask = "Tick approve and accept to go ahead; decline to change nothing."
		props["approve"] = map[string]any{"type": "boolean", "title": "Approve", "description": ask}
		required = []string{"approve"}
	}
	return mcp.ElicitationParams{
		Mode:    mcp.ElicitationModeForm,
		Message: "An assistant asks to run " + ar.tool + " in " + ar.region + ".\n" + ar.preview + "\n" + ask,
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

// roundTrip carries a tools/call's multi round-trip parameters (the
// person's answer and the sealed state) from the request to the handler,
// which sees only its typed arguments.
type roundTripKey struct{}

func withRoundTrip(ctx context.Context, p mcp.MultiRoundTripParams) context.Context {
	return context.WithValue(ctx, roundTripKey{}, p)
}

func roundTripFromContext(ctx context.Context) mcp.MultiRoundTripParams {
	p, _ := ctx.Value(roundTripKey{}).(mcp.MultiRoundTripParams)
	return p
}

// hideUnapprovable is the --require-approval tool filter: a client that
// cannot ask its user does not see the destructive tools.
func hideUnapprovable(destructiveTools map[string]bool) server.ToolFilterFunc {
	return func(ctx context.Context, tools []mcp.Tool) []mcp.Tool {
		if ClientCanElicit(ctx) {
			return tools
		}
		return slices.DeleteFunc(slices.Clone(tools), func(t mcp.Tool) bool { return destructiveTools[t.Name] })
	}
}
