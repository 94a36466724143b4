package cloud

import (
	"context"
	"sync/atomic"
)

// Progress receives the progress of an operation that sends several
// requests (pages or batches): done of total have finished. It may be
// called from several goroutines at once.
type Progress func(action string, done, total int)

type progressKey struct{}

// WithProgress returns a context whose multi-request operations report to p.
func WithProgress(ctx context.Context, p Progress) context.Context {
	return context.WithValue(ctx, progressKey{}, p)
}

// tally counts the finished requests of one operation for its Progress.
type tally struct {
	report Progress
	action string
	total  int
	done   atomic.Int64
}

// newTally returns nil, which counts nothing, unless ctx has a Progress and
// the operation sends more than one request.
func newTally(ctx context.Context, action string, total int) *tally {
	p, _ := ctx.Value(progressKey{}).(Progress)
	if p == nil || total < 2 {
		return nil
	}
	return &tally{report: p, action: action, total: total}
}

// step records one finished request.
func (t *tally) step() {
	if t != nil {
		t.report(t.action, int(t.done.Add(1)), t.total)
	}
}
