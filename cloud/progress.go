package cloud

import (
	"context"
	"sync"
)

// Progress receives the progress of an operation that sends several
// requests (pages or batches) in a region: done of total have finished.
// Calls for one operation come one at a time, with done increasing.
type Progress func(action, region string, done, total int)

type progressKey struct{}

// WithProgress returns a context whose multi-request operations report to p.
func WithProgress(ctx context.Context, p Progress) context.Context {
	return context.WithValue(ctx, progressKey{}, p)
}

// tally counts the finished requests of one operation for its Progress.
// Its total may be unknown at first (a listing learns its page count from
// page 1): requests finished meanwhile are reported once it is known. An
// operation of fewer than two requests reports nothing, and nothing is
// reported once ctx has ended: a request the cancellation cut short is not
// done, and the client has stopped listening.
type tally struct {
	ctx    context.Context
	report Progress
	action string
	region string

	mu       sync.Mutex
	total    int // 0 while unknown
	done     int
	reported int
}

// newTally returns a tally for an operation of total requests (0: not yet
// known), or nil, which counts nothing, when ctx has no Progress.
func newTally(ctx context.Context, action, region string, total int) *tally {
	p, _ := ctx.Value(progressKey{}).(Progress)
	if p == nil {
		return nil
	}
	return &tally{ctx: ctx, report: p, action: action, region: region, total: total}
}

// step records one request that has finished (with an answer, or an error
// other than the cancellation of ctx).
func (t *tally) step() {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.done++
	t.flush()
}

// setTotal sets the number of requests the operation sends.
func (t *tally) setTotal(n int) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.total = n
	t.flush()
}

// flush reports the steps not yet reported, in order. t.mu is held, so
// that reports go out one at a time and in order.
func (t *tally) flush() {
	if t.total < 2 || t.ctx.Err() != nil {
		return
	}
	for t.reported < t.done {
		t.reported++
		t.report(t.action, t.region, t.reported, max(t.total, t.reported))
	}
}
