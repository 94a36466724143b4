package tools

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"
)

// AuditLog records every write attempt as JSON lines: creates, imports,
// confirmed destructive calls, each step of a rotation, and refusals of
// every kind (read-only, region, invalid arguments, declined, stale, timed
// out or failed approvals). A write gets an intent line before anything is
// sent and an outcome line after; when the intent cannot be written, the
// write is refused and nothing is sent. Lines are synced before the tool's
// result goes back. No line holds a secret: no private key, no public key
// body, no credential.
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

// Events of audit lines.
const (
	EventIntent  = "intent"  // about to send a write
	EventOutcome = "outcome" // what the write did: what exists now
	EventRefused = "refused" // nothing was sent, and why
	// EventFound is what a start-up found of an earlier process's writes
	// (a key pair left without its private key).
	EventFound = "found"
)

// AuditEntry is one line of the audit log.
type AuditEntry struct {
	Time string `json:"time"`
	// Call identifies one tool call: its lines share it.
	Call  string `json:"call"`
	Event string `json:"event"`
	Tool  string `json:"tool"`
	// Step is the step of a rotation: new_key, attach, reboot, delete_old.
	Step        string `json:"step,omitempty"`
	Region      string `json:"region,omitempty"`
	KeyPairName string `json:"keyPairName,omitempty"`
	// KeyPairFingerPrint is the key pair's fingerprint as the call saw it.
	KeyPairFingerPrint string `json:"keyPairFingerPrint,omitempty"`
	// Items are the key pair names or instance IDs the line is about.
	Items []string `json:"items,omitempty"`
	// ConfirmedBy is "person" (approved through elicitation) or "flag"
	// (confirm: true alone); empty for creates and imports, which need no
	// confirmation.
	ConfirmedBy string `json:"confirmedBy,omitempty"`
	// Executed, on an outcome line: a change was made.
	Executed bool `json:"executed"`
	// Outcomes per item: would-be outcomes on an intent line, what became
	// of each on an outcome line.
	Outcomes   []AuditOutcome `json:"outcomes,omitempty"`
	RequestIDs []string       `json:"requestIds,omitempty"`
	// Error is the code of a call that failed or was refused as a whole,
	// e.g. KeyPair.AlreadyExist, Forbidden.Region or ApprovalStale.
	Error string `json:"error,omitempty"`
	// Reason says in words why nothing was sent (refusals) or what to do
	// (found).
	Reason string `json:"reason,omitempty"`
}

// AuditOutcome is one item's fate.
type AuditOutcome struct {
	Item    string `json:"item"`
	Outcome string `json:"outcome"`
	Code    string `json:"code,omitempty"`
	// Replaced is the key pair an attach replaced (or would replace).
	Replaced string `json:"replacedKeyPairName,omitempty"`
}

// Record appends e, stamped with the time, and syncs the file.
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

// trail is the audit lines of one tool call. A nil trail (no audit log)
// records nothing and refuses nothing.
type trail struct {
	log  *AuditLog
	base AuditEntry // call, tool, region: on every line

	mu      sync.Mutex
	lines   int
	open    []AuditEntry // intents still waiting for their outcomes
	failure error        // the first outcome line that could not be written
}

func newTrail(log *AuditLog, tool, region string) *trail {
	if log == nil {
		return nil
	}
	id := make([]byte, 8)
	_, _ = rand.Read(id) // crypto/rand.Read never fails on supported platforms
	return &trail{log: log, base: AuditEntry{Call: hex.EncodeToString(id), Tool: tool, Region: region}}
}

func (t *trail) entry(event string, e AuditEntry) AuditEntry {
	e.Call, e.Tool, e.Event = t.base.Call, t.base.Tool, event
	if e.Region == "" {
		e.Region = t.base.Region
	}
	return e
}

// intent records a write about to be sent. When it cannot be written, the
// write must not be sent: the error says so.
func (t *trail) intent(e AuditEntry) error {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	e = t.entry(EventIntent, e)
	if err := t.log.Record(e); err != nil {
		return failure(codeAuditUnavailable, "the intent to write could not be recorded in the audit log (%v), so nothing was sent; "+
			"fix the audit log (--audit-log) and try again", err)
	}
	t.lines++
	t.open = append(t.open, e)
	return nil
}

// outcome records what the write announced by an intent did: the intent of
// the same step and region (a call over several regions has one for each).
// A line that cannot be written is remembered: the result then says so.
func (t *trail) outcome(e AuditEntry) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	e = t.entry(EventOutcome, e)
	t.open = slices.DeleteFunc(t.open, func(o AuditEntry) bool { return o.Step == e.Step && o.Region == e.Region })
	t.write(e)
}

// refused records a write attempt that sent nothing.
func (t *trail) refused(e AuditEntry) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.write(t.entry(EventRefused, e))
}

func (t *trail) write(e AuditEntry) {
	if err := t.log.Record(e); err != nil {
		if t.failure == nil {
			t.failure = err
		}
		return
	}
	t.lines++
}

// pending returns the intents still waiting for their outcomes.
func (t *trail) pending() []AuditEntry {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.open)
}

// wrote reports whether any line of this call is in the log.
func (t *trail) wrote() bool {
	if t == nil {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lines > 0
}

// writeError returns the first line that could not be written.
func (t *trail) writeError() error {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.failure
}
