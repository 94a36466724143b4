package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
)

// AuditLog records every write attempt as one JSON line: creates, imports,
// and destructive calls made with confirm (previews change nothing and are
// not recorded). Each line is written and synced before the tool's result
// goes back, so a result the model saw always has its line. No line holds
// a secret: no private key, no public key body, no credential.
type AuditLog struct {
	mu  sync.Mutex
	f   *os.File
	now func() time.Time
}

// OpenAuditLog opens path for appending, creating it with mode 0600.
func OpenAuditLog(path string) (*AuditLog, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	return &AuditLog{f: f, now: time.Now}, nil
}

// Close closes the file.
func (l *AuditLog) Close() error { return l.f.Close() }

// AuditEntry is one line of the audit log.
type AuditEntry struct {
	Time        string `json:"time"`
	Tool        string `json:"tool"`
	Region      string `json:"region"`
	KeyPairName string `json:"keyPairName,omitempty"`
	// Items are the key pair names or instance IDs the call named.
	Items []string `json:"items,omitempty"`
	// ConfirmedBy is "person" (approved through elicitation), "flag"
	// (confirm: true alone) or "" for creates and imports, which need no
	// confirmation.
	ConfirmedBy string `json:"confirmedBy,omitempty"`
	Executed    bool   `json:"executed"`
	// Outcomes per item, as the result reported them.
	Outcomes   []AuditOutcome `json:"outcomes,omitempty"`
	RequestIDs []string       `json:"requestIds,omitempty"`
	// Error is the code of a call that failed as a whole, e.g.
	// KeyPair.AlreadyExist or ApprovalMismatch.
	Error string `json:"error,omitempty"`
	// Declined says why a person's approval was not given.
	Declined string `json:"declined,omitempty"`
}

// AuditOutcome is one item's fate.
type AuditOutcome struct {
	Item    string `json:"item"`
	Outcome string `json:"outcome"`
	Code    string `json:"code,omitempty"`
}

// Record appends e and syncs the file.
func (l *AuditLog) Record(e AuditEntry) error {
	e.Time = l.now().UTC().Format(time.RFC3339Nano)
	line, err := json.Marshal(e)
	if err != nil {
		return err
	}
	line = append(line, '\n')
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, err := l.f.Write(line); err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	return nil
}

// auditNote lets a handler tell the audit wrapper what no result shows:
// who confirmed, and why nothing ran.
type auditNote struct {
	confirmedBy string
	declined    string
}

type auditNoteKey struct{}

func noteFromContext(ctx context.Context) *auditNote {
	n, _ := ctx.Value(auditNoteKey{}).(*auditNote)
	if n == nil {
		return &auditNote{} // not recorded; saves callers a nil check
	}
	return n
}

// auditArgs are the arguments an audit line names.
type auditArgs struct {
	RegionID     string   `json:"regionId"`
	KeyPairName  string   `json:"keyPairName"`
	KeyPairNames []string `json:"keyPairNames"`
	InstanceIDs  []string `json:"instanceIds"`
	Confirm      bool     `json:"confirm"`
}

// auditResult is what an audit line takes from a structured result.
type auditResult struct {
	Executed    *bool    `json:"executed"`
	KeyPairName string   `json:"keyPairName"`
	RequestID   string   `json:"requestId"`
	RequestIDs  []string `json:"requestIds"`
	KeyPairs    []struct {
		KeyPairName, Outcome, Code string
	} `json:"keyPairs"`
	Instances []struct {
		InstanceID, Outcome, Code string
	} `json:"instances"`
}

// entryFor builds the audit line of a finished call; ok is false when
// the call wrote nothing by design (a preview, or a request for approval).
func entryFor(tool string, k kind, raw json.RawMessage, res *mcp.CallToolResult, note *auditNote) (AuditEntry, bool) {
	var args auditArgs
	_ = json.Unmarshal(raw, &args) // a call whose arguments do not decode failed validation; it is still an attempt
	if k == destructive && !args.Confirm {
		return AuditEntry{}, false
	}
	if res == nil || res.NeedsInput() {
		return AuditEntry{}, false
	}
	e := AuditEntry{Tool: tool, Region: args.RegionID, KeyPairName: args.KeyPairName, ConfirmedBy: note.confirmedBy, Declined: note.declined}
	e.Items = args.KeyPairNames
	if args.InstanceIDs != nil {
		e.Items = args.InstanceIDs
	}
	if k == write {
		e.KeyPairName = ""
		e.Items = []string{args.KeyPairName}
	}
	if res.IsError {
		e.Error = resultCode(res)
		return e, true
	}
	var out auditResult
	if b, err := json.Marshal(res.StructuredContent); err == nil {
		_ = json.Unmarshal(b, &out)
	}
	e.Executed = out.Executed == nil || *out.Executed // creates and imports that succeed ran
	if out.RequestID != "" {
		e.RequestIDs = []string{out.RequestID}
	} else {
		e.RequestIDs = out.RequestIDs
	}
	for _, o := range out.KeyPairs {
		e.Outcomes = append(e.Outcomes, AuditOutcome{Item: o.KeyPairName, Outcome: o.Outcome, Code: o.Code})
	}
	for _, o := range out.Instances {
		e.Outcomes = append(e.Outcomes, AuditOutcome{Item: o.InstanceID, Outcome: o.Outcome, Code: o.Code})
	}
	if k == write {
		e.Outcomes = []AuditOutcome{{Item: args.KeyPairName, Outcome: "created"}}
		if tool == "import_key_pair" {
			e.Outcomes[0].Outcome = "imported"
		}
	}
	return e, true
}

// resultCode is the error code an error result's text starts with.
func resultCode(res *mcp.CallToolResult) string {
	for _, c := range res.Content {
		if tc, ok := c.(mcp.TextContent); ok {
			if code, _, found := strings.Cut(tc.Text, ": "); found && !strings.ContainsAny(code, " \n") {
				return code
			}
			return "Error"
		}
	}
	return "Error"
}
