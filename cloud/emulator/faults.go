package emulator

import (
	"math/rand/v2"
	"sync"
	"time"
)

// Faults makes the emulator misbehave the way the real service sometimes
// does, for tests and benchmarks. Rates are fractions of requests, from 0 to
// 1; at most one fault is drawn per request, in the order listed.
type Faults struct {
	// Latency is added to every request before it is handled; Jitter adds a
	// further uniformly random delay up to its value.
	Latency time.Duration
	Jitter  time.Duration

	// ThrottleRate answers with HTTP 400 Throttling.
	ThrottleRate float64
	// ServerErrorRate answers with HTTP 503 ServiceUnavailable or HTTP 500
	// InternalError, half and half.
	ServerErrorRate float64
	// DropRate closes the connection without an answer, before the action
	// runs: nothing changes.
	DropRate float64
	// DropAfterRate runs the action, then closes the connection without an
	// answer: the change is made but the caller cannot know it. This is the
	// ambiguous failure that callers must not blindly retry.
	DropAfterRate float64
}

// FaultPlan chooses faults per request: Default applies to every action not
// named in PerAction.
type FaultPlan struct {
	Default   Faults
	PerAction map[string]Faults
	// Seed makes the draws repeatable; 0 picks a random seed.
	Seed uint64
}

type faultKind int

const (
	faultNone faultKind = iota
	faultThrottle
	faultServiceUnavailable
	faultInternal
	faultDrop
	faultDropAfter
)

// faultInjector draws faults from a FaultPlan. It is safe for concurrent use.
type faultInjector struct {
	mu   sync.Mutex
	plan FaultPlan
	rng  *rand.Rand
}

func newFaultInjector(plan FaultPlan) *faultInjector {
	f := &faultInjector{}
	f.set(plan)
	return f
}

func (f *faultInjector) set(plan FaultPlan) {
	seed := plan.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.plan = plan
	f.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// draw returns the delay and the fault for one request of the given action.
func (f *faultInjector) draw(action string) (time.Duration, faultKind) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cfg, ok := f.plan.PerAction[action]
	if !ok {
		cfg = f.plan.Default
	}
	delay := cfg.Latency
	if cfg.Jitter > 0 {
		delay += time.Duration(f.rng.Int64N(int64(cfg.Jitter) + 1))
	}
	x := f.rng.Float64()
	for _, c := range []struct {
		rate float64
		kind faultKind
	}{
		{cfg.ThrottleRate, faultThrottle},
		{cfg.ServerErrorRate / 2, faultServiceUnavailable},
		{cfg.ServerErrorRate / 2, faultInternal},
		{cfg.DropRate, faultDrop},
		{cfg.DropAfterRate, faultDropAfter},
	} {
		if x < c.rate {
			return delay, c.kind
		}
		x -= c.rate
	}
	return delay, faultNone
}
