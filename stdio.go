package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"regexp"
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
// and stdout through a writer that sees those answers go out.

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
	out := &responseWriter{w: stdout, pending: pending}
	// The server's context ends only when draining takes too long: ctx
	// ending means "stop reading", not "abandon the calls in flight".
	serveCtx, abort := context.WithCancel(context.WithoutCancel(ctx))
	defer abort()
	in := &requestReader{lines: make(chan []byte), stop: ctx.Done(), pending: pending, drain: cfg.drain,
		abort: func() {
			cfg.errLog.Printf("calls still running %s after the input ended were cancelled", cfg.drain)
			abort()
		}}
	go in.scan(bufio.NewReaderSize(stdin, 64<<10), out, cfg.maxMessage, serveCtx.Done())

	stdio := server.NewStdioServer(s)
	stdio.SetErrorLogger(cfg.errLog)
	stdio.SetContextFunc(func(ctx context.Context) context.Context {
		return tools.WithNotify(tools.WithCallTimeout(ctx, cfg.callTimeout), out.notify)
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
func (r *requestReader) scan(in *bufio.Reader, out *responseWriter, max int, done <-chan struct{}) {
	defer close(r.lines)
	for {
		line, long, err := readLine(in, max)
		switch {
		case long != nil:
			out.refuse(long.id(), long.size, max)
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

// responseWriter is stdout: it writes whole messages, one at a time, and
// tells the in-flight set which requests have been answered.
type responseWriter struct {
	mu      sync.Mutex
	w       io.Writer
	pending *inflight
	partial []byte // a message not yet complete (mcp-go writes them whole)
}

func (w *responseWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.w.Write(p)
	// A response that could not be written counts as answered too:
	// nobody would read it, and waiting for it would only delay the exit.
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		w.pending.done(w.partial[:i])
		w.partial = w.partial[i+1:]
	}
	return n, err
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

// inflight is the set of requests read and not yet answered, by id.
type inflight struct {
	mu    sync.Mutex
	ids   map[string]int
	n     int
	empty chan struct{} // closed while n == 0
}

func newInflight() *inflight {
	empty := make(chan struct{})
	close(empty)
	return &inflight{ids: map[string]int{}, empty: empty}
}

// envelope is what the in-flight set reads of a JSON-RPC message.
type envelope struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Result json.RawMessage `json:"result"`
	Error  json.RawMessage `json:"error"`
}

// idKey is an id as a map key: 7 and 7.0 are one id, "7" another.
func idKey(raw json.RawMessage) (string, bool) {
	var v any
	if len(raw) == 0 || json.Unmarshal(raw, &v) != nil || v == nil {
		return "", false
	}
	return fmt.Sprintf("%T:%v", v, v), true
}

// start records a line read, when it is a request (a method and an id):
// the server answers it.
func (f *inflight) start(line []byte) {
	var m envelope
	if json.Unmarshal(line, &m) != nil || m.Method == "" {
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

// done records a message written, when it answers a request in flight.
func (f *inflight) done(msg []byte) {
	var m envelope
	if json.Unmarshal(msg, &m) != nil || m.Method != "" || (m.Result == nil && m.Error == nil) {
		return
	}
	key, ok := idKey(m.ID)
	if !ok {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ids[key] == 0 {
		return
	}
	if f.ids[key]--; f.ids[key] == 0 {
		delete(f.ids, key)
	}
	if f.n--; f.n == 0 {
		close(f.empty)
	}
}

// idle is closed when no request is in flight.
func (f *inflight) idle() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.empty
}

// positiveDuration is a flag.Value for a duration above zero.
type positiveDuration time.Duration

func (d *positiveDuration) String() string { return time.Duration(*d).String() }

func (d *positiveDuration) Set(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	if v <= 0 {
		return fmt.Errorf("%s is not above zero", v)
	}
	*d = positiveDuration(v)
	return nil
}
