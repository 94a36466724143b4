package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/tools"
)

// The stdio transport wraps mcp-go's StdioServer, which on its own reads a
// line of any length into memory, and at the end of stdin cancels the calls
// in flight and may drop queued ones before their responses are written.
// Here stdin passes through a reader that refuses oversized messages and
// withholds the end of input until every request read has been answered,
// and stdout through a writer that sees those answers go out. The reader
// also takes the client's answers to this transport's own elicitation
// requests off to their waiters, and the writer holds back the response
// to a request the client cancelled.

const (
	// maxMessageBytes bounds one incoming message. The largest valid call
	// (500 key pair names of 128 characters) is under 100 KiB.
	maxMessageBytes = 1 << 20
	// drainMargin is added to the call timeout for the calls in flight to
	// finish and be answered once input has ended.
	drainMargin = 5 * time.Second
)

// stdioConfig configures serveStdio; zero fields take their defaults.
type stdioConfig struct {
	// callTimeout bounds each tool call (tools.DefaultCallTimeout).
	callTimeout time.Duration
	// drain bounds how long calls in flight run on after stdin ends or ctx
	// is done; then they are cancelled (callTimeout + drainMargin).
	drain time.Duration
	// maxMessage bounds one incoming message, in bytes (maxMessageBytes).
	maxMessage int
	errLog     *log.Logger
}

// serveStdio serves MCP on stdin and stdout until stdin ends or ctx is done
// (a signal): either way it stops reading, lets the calls in flight finish
// and writes their responses, for at most cfg.drain, then returns.
func serveStdio(ctx context.Context, s *server.MCPServer, stdin io.Reader, stdout io.Writer, cfg stdioConfig) error {
	if cfg.callTimeout <= 0 {
		cfg.callTimeout = tools.DefaultCallTimeout
	}
	if cfg.drain <= 0 {
		cfg.drain = cfg.callTimeout + drainMargin
	}
	if cfg.maxMessage <= 0 {
		cfg.maxMessage = maxMessageBytes
	}
	if cfg.errLog == nil {
		cfg.errLog = log.New(io.Discard, "", 0)
	}
	pending := newInflight()
	out := &responseWriter{w: stdout, pending: pending, asks: map[string]chan json.RawMessage{}}
	// The server's context ends only when draining takes too long: ctx
	// ending means "stop reading", not "abandon the calls in flight".
	serveCtx, abort := context.WithCancel(context.WithoutCancel(ctx))
	defer abort()
	in := &requestReader{lines: make(chan []byte), stop: ctx.Done(), pending: pending, out: out, drain: cfg.drain,
		abort: func() {
			cfg.errLog.Printf("calls still running %s after the input ended were cancelled", cfg.drain)
			abort()
		}}
	go in.scan(bufio.NewReaderSize(stdin, 64<<10), cfg.maxMessage, serveCtx.Done())

	stdio := server.NewStdioServer(s)
	stdio.SetErrorLogger(cfg.errLog)
	stdio.SetContextFunc(func(ctx context.Context) context.Context {
		ctx = tools.WithNotify(tools.WithCallTimeout(ctx, cfg.callTimeout), out.notify)
		return tools.WithElicit(ctx, out.elicit)
	})
	return stdio.Listen(serveCtx, in, out)
}

// requestReader is stdin as the StdioServer reads it: whole lines of at
// most the maximum size, and io.EOF only once every request handed on has
// been answered (or the drain time is up).
type requestReader struct {
	lines   chan []byte     // from scan: lines ending in '\n'; closed at the end of stdin
	stop    <-chan struct{} // stop reading: the caller's context is done
	pending *inflight
	out     *responseWriter // takes the answers to the server's own requests
	drain   time.Duration
	abort   func() // cancels the calls in flight

	cur   []byte // the rest of the line being read
	ended bool
}

func (r *requestReader) Read(p []byte) (int, error) {
	for len(r.cur) == 0 {
		if r.ended {
			return 0, io.EOF
		}
		select {
		case line, ok := <-r.lines:
			if !ok {
				r.finish()
				continue
			}
			if r.out.answered(line) {
				continue // the answer to an approval this transport asked for
			}
			r.pending.start(line)
			r.cur = line
		case <-r.stop:
			r.finish()
		}
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	return n, nil
}

// finish ends the input: it waits for the calls in flight to be answered,
// for at most the drain time, and then cancels those left.
func (r *requestReader) finish() {
	r.ended = true
	t := time.NewTimer(r.drain)
	defer t.Stop()
	select {
	case <-r.pending.idle():
	case <-t.C:
		r.abort()
	}
}

// scan reads stdin line by line for Read, and answers an oversized line
// itself. It ends with stdin, or when done is closed while it waits to hand
// on a line (a read of stdin that never returns ends with the process).
func (r *requestReader) scan(in *bufio.Reader, max int, done <-chan struct{}) {
	defer close(r.lines)
	for {
		line, long, err := readLine(in, max)
		switch {
		case long != nil:
			r.out.refuse(long.id(), long.size, max)
		case len(bytes.TrimSpace(line)) > 0:
			select {
			case r.lines <- line:
			case <-done:
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// longLine is what is kept of a line over the size limit: its length and
// its two ends, to find its id.
type longLine struct {
	size       int
	head, tail []byte
}

const longLineEnd = 4 << 10 // bytes kept of each end of a long line

// readLine reads one line, ending in '\n' (added to a last line without
// one, which is a message all the same). A line longer than max is consumed
// without being kept whole: it comes back as a longLine instead.
func readLine(in *bufio.Reader, max int) ([]byte, *longLine, error) {
	var line []byte
	var long *longLine
	for {
		chunk, err := in.ReadSlice('\n')
		switch {
		case long == nil && len(line)+len(chunk) <= max:
			line = append(line, chunk...)
		case long == nil:
			line = append(line, chunk...)
			long = &longLine{size: len(line), head: bytes.Clone(line[:min(len(line), longLineEnd)])}
			long.tail = bytes.Clone(line[len(line)-min(len(line), longLineEnd):])
			line = nil
		default:
			long.size += len(chunk)
			long.tail = append(long.tail, chunk...)
			long.tail = long.tail[len(long.tail)-min(len(long.tail), longLineEnd):]
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if long == nil && len(line) > 0 && line[len(line)-1] != '\n' {
			line = append(line, '\n')
		}
		return line, long, err
	}
}

// trailingID matches a request's id as its last member, where some clients
// put it, after the params.
var trailingID = regexp.MustCompile(`"id"\s*:\s*("(?:[^"\\]|\\.)*"|-?[0-9]+)\s*}\s*$`)

// id finds the id of a long request, from the members at its start or the
// last one; null when neither shows it.
func (l *longLine) id() json.RawMessage {
	dec := json.NewDecoder(bytes.NewReader(l.head))
	if t, err := dec.Token(); err == nil && t == json.Delim('{') {
		for dec.More() {
			key, err := dec.Token()
			if err != nil {
				break
			}
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				break // a value cut off by the end of the head
			}
			if key == "id" && (v[0] == '"' || v[0] == '-' || (v[0] >= '0' && v[0] <= '9')) {
				return v
			}
		}
	}
	if m := trailingID.FindSubmatch(l.tail); m != nil {
		return m[1]
	}
	return json.RawMessage("null")
}

// responseWriter is stdout: it writes whole messages, one at a time, tells
// the in-flight set which requests have been answered, and holds back the
// response to a request the client cancelled (MCP: after
// notifications/cancelled the server should not answer; clients report a
// response for an unknown request as an error).
type responseWriter struct {
	mu      sync.Mutex
	w       io.Writer
	pending *inflight
	partial []byte // a message not yet complete

	// asks are the server's own elicitation requests waiting for their
	// answer, by request ID.
	askMu sync.Mutex
	asks  map[string]chan json.RawMessage
	askN  int
}

func (w *responseWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.partial = append(w.partial, p...)
	var err error
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		msg := w.partial[:i+1]
		// A response that could not be written counts as answered too:
		// nobody would read it, and waiting for it would only delay the
		// exit.
		if !w.pending.done(msg[:i]) {
			if _, werr := w.w.Write(msg); werr != nil && err == nil {
				err = werr
			}
		}
		w.partial = w.partial[i+1:]
	}
	if len(w.partial) == 0 {
		w.partial = nil
	}
	return len(p), err
}

// notify writes a notification at once, from the caller's goroutine: a
// tool call's progress is then on the wire before its response.
func (w *responseWriter) notify(method string, params map[string]any) error {
	msg, err := json.Marshal(mcp.JSONRPCNotification{
		JSONRPC:      mcp.JSONRPC_VERSION,
		Notification: mcp.Notification{Method: method, Params: mcp.NotificationParams{AdditionalFields: params}},
	})
	if err != nil {
		return err
	}
	_, err = w.Write(append(msg, '\n'))
	return err
}

// askPrefix starts the IDs of this transport's elicitation requests: a
// string, which mcp-go's own requests (numbers) never are.
const askPrefix = "ecs-keypair-mcp-approval-"

// elicit asks the client's user with elicitation/create and waits for the
// answer. When ctx ends first, the request is withdrawn with
// notifications/cancelled, and an answer that comes later is dropped.
func (w *responseWriter) elicit(ctx context.Context, params mcp.ElicitationParams) (*mcp.ElicitationResult, error) {
	w.askMu.Lock()
	w.askN++
	id := fmt.Sprintf("%s%d", askPrefix, w.askN)
	answer := make(chan json.RawMessage, 1)
	w.asks[id] = answer
	w.askMu.Unlock()
	forget := func() {
		w.askMu.Lock()
		delete(w.asks, id)
		w.askMu.Unlock()
	}
	msg, err := json.Marshal(map[string]any{"jsonrpc": mcp.JSONRPC_VERSION, "id": id, "method": string(mcp.MethodElicitationCreate), "params": params})
	if err == nil {
		_, err = w.Write(append(msg, '\n'))
	}
	if err != nil {
		forget()
		return nil, err
	}
	select {
	case raw := <-answer:
		var reply struct {
			Result *mcp.ElicitationResult `json:"result"`
			Error  *struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		switch {
		case json.Unmarshal(raw, &reply) != nil:
			return nil, errors.New("the client's answer is not valid JSON-RPC")
		case reply.Error != nil:
			return nil, fmt.Errorf("the client answered with error %d: %s", reply.Error.Code, reply.Error.Message)
		case reply.Result == nil:
			return nil, errors.New("the client's answer has no result")
		}
		return reply.Result, nil
	case <-ctx.Done():
		forget()
		_ = w.notify("notifications/cancelled", map[string]any{"requestId": id, "reason": "the server stopped waiting for an answer"})
		return nil, ctx.Err()
	}
}

// answered hands a line that answers one of this transport's elicitation
// requests to its waiter, and reports whether it was one (those never
// reach mcp-go, which did not send them).
func (w *responseWriter) answered(line []byte) bool {
	if !bytes.Contains(line, []byte(askPrefix)) {
		return false
	}
	var m struct {
		ID     any     `json:"id"`
		Method *string `json:"method"`
	}
	if json.Unmarshal(line, &m) != nil || m.Method != nil {
		return false
	}
	id, ok := m.ID.(string)
	if !ok || !strings.HasPrefix(id, askPrefix) {
		return false
	}
	w.askMu.Lock()
	answer := w.asks[id]
	delete(w.asks, id)
	w.askMu.Unlock()
	if answer != nil {
		answer <- bytes.Clone(line)
	}
	return true // a late answer, to a request withdrawn, is dropped too
}

// refuse answers a message over the size limit with Invalid Request.
func (w *responseWriter) refuse(id json.RawMessage, size, max int) {
	msg, _ := json.Marshal(map[string]any{
		"jsonrpc": mcp.JSONRPC_VERSION,
		"id":      id,
		"error": map[string]any{
			"code":    mcp.INVALID_REQUEST,
			"message": fmt.Sprintf("the message has %d bytes, over the limit of %d; it was not processed", size, max),
		},
	})
	_, _ = w.Write(append(msg, '\n'))
}

// inflight is the set of requests read and not yet answered, by id, and
// those of them the client cancelled.
type inflight struct {
	mu        sync.Mutex
	ids       map[string]int
	cancelled map[string]bool
	n         int
	empty     chan struct{} // closed while n == 0
}

func newInflight() *inflight {
	empty := make(chan struct{})
	close(empty)
	return &inflight{ids: map[string]int{}, cancelled: map[string]bool{}, empty: empty}
}

// envelope is what the in-flight set reads of a JSON-RPC message.
type envelope struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Result json.RawMessage `json:"result"`
	Error  json.RawMessage `json:"error"`
	Params struct {
		RequestID json.RawMessage `json:"requestId"`
	} `json:"params"`
}

// idKey is an id as a map key: 7 and 7.0 are one id, "7" another.
func idKey(raw json.RawMessage) (string, bool) {
	var v any
	if len(raw) == 0 || json.Unmarshal(raw, &v) != nil || v == nil {
		return "", false
	}
	return fmt.Sprintf("%T:%v", v, v), true
}

// start records a line read: a request (a method and an id), which the
// server answers, or the client's cancellation of one in flight.
func (f *inflight) start(line []byte) {
	var m envelope
	if json.Unmarshal(line, &m) != nil || m.Method == "" {
		return
	}
	if m.Method == "notifications/cancelled" {
		if key, ok := idKey(m.Params.RequestID); ok {
			f.mu.Lock()
			if f.ids[key] > 0 {
				f.cancelled[key] = true
			}
			f.mu.Unlock()
		}
		return
	}
	key, ok := idKey(m.ID)
	if !ok {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n == 0 {
		f.empty = make(chan struct{})
	}
	f.n++
	f.ids[key]++
}

// done records a message about to be written, when it answers a request in
// flight, and reports whether it must be held back: the client cancelled
// that request.
func (f *inflight) done(msg []byte) (cancelled bool) {
	var m envelope
	if json.Unmarshal(msg, &m) != nil || m.Method != "" || (m.Result == nil && m.Error == nil) {
		return false
	}
	key, ok := idKey(m.ID)
	if !ok {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ids[key] == 0 {
		return false
	}
	cancelled = f.cancelled[key]
	if f.ids[key]--; f.ids[key] == 0 {
		delete(f.ids, key)
		delete(f.cancelled, key)
	}
	if f.n--; f.n == 0 {
		close(f.empty)
	}
	return cancelled
}

// idle is closed when no request is in flight.
func (f *inflight) idle() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.empty
}
