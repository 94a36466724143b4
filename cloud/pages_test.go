package cloud

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud/emulator"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
)

// waves holds each answer to DescribeKeyPairs page 1 until want other
// DescribeKeyPairs requests have arrived, or for a short while, and records
// how many arrived meanwhile: the pages sent without waiting for page 1.
type waves struct {
	h       http.Handler
	mu      sync.Mutex
	want    int
	others  int
	arrived chan struct{}
	sent    int   // DescribeKeyPairs requests in all
	early   []int // per page-1 request: other pages that arrived while it was held
}

func newWaves(h http.Handler) *waves { return &waves{h: h, arrived: make(chan struct{}, 1024)} }

func (w *waves) expect(want int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.want, w.others, w.sent, w.early = want, 0, 0, nil
	for len(w.arrived) > 0 {
		<-w.arrived // late pages of the step before
	}
}

func (w *waves) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("Action") != "DescribeKeyPairs" {
		w.h.ServeHTTP(rw, r)
		return
	}
	w.mu.Lock()
	w.sent++
	if q.Get("PageNumber") != "1" {
		w.others++
		w.mu.Unlock()
		w.arrived <- struct{}{}
		w.h.ServeHTTP(rw, r)
		return
	}
	want := w.want
	w.mu.Unlock()
	// Hold page 1: the others of its wave arrive meanwhile, and a page
	// that waits for page 1's answer cannot.
	timeout := time.After(150 * time.Millisecond)
	for n := 0; n < want; {
		select {
		case <-w.arrived:
			n++
		case <-timeout:
			n = want
		}
	}
	if want == 0 {
		<-timeout
	}
	w.mu.Lock()
	w.early = append(w.early, w.others)
	w.mu.Unlock()
	w.h.ServeHTTP(rw, r)
}

func (w *waves) result() (sent int, early []int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.sent, slices.Clone(w.early)
}

// A listing read before sends as many pages at once as it had then, in one
// round trip; pages it gained since follow, and pages it lost come back
// empty. The result is the same as without the hint: every key pair, in
// order.
func TestAllPagesHint(t *testing.T) {
	env := newEnv(t, emulator.Options{})
	w := newWaves(env.emu)
	srv := httptest.NewServer(w)
	t.Cleanup(srv.Close)
	env.srv = srv
	c := env.client()
	const region = "cn-beijing"
	names, _, err := env.emu.Populate(region, 120, 0)
	if err != nil {
		t.Fatal(err)
	}

	steps := []struct {
		name      string
		input     schema.DescribeKeyPairsInput
		before    func()
		wantEarly int // pages sent with page 1
		wantSent  int
	}{
		{name: "first listing waits for page 1", wantEarly: 0, wantSent: 3},
		{name: "second listing sends its 3 pages at once", wantEarly: 2, wantSent: 3},
		{name: "another filter is another listing", input: schema.DescribeKeyPairsInput{KeyPairName: "*"}, wantEarly: 0, wantSent: 3},
		{name: "a grown listing fetches the pages past the hint", wantEarly: 2, wantSent: 4,
			before: func() {
				for i := range 60 {
					name := "more-" + itoa(i)
					if _, err := c.CreateKeyPair(bg, schema.CreateKeyPairInput{RegionID: region, KeyPairName: name}); err != nil {
						t.Fatal(err)
					}
					names = append(names, name)
				}
			}},
		{name: "a shrunk listing drops the empty pages", wantEarly: 3, wantSent: 4,
			before: func() {
				if _, err := c.DeleteKeyPairs(bg, region, names[20:]); err != nil {
					t.Fatal(err)
				}
				names = names[:20]
			}},
		{name: "and the hint follows it down", wantEarly: 0, wantSent: 1},
	}
	for _, s := range steps {
		if s.before != nil {
			s.before()
		}
		w.expect(s.wantEarly)
		in := s.input
		in.RegionID = region
		out, err := c.DescribeKeyPairs(bg, in)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		var got []string
		for _, k := range out.KeyPairs {
			got = append(got, k.KeyPairName)
		}
		if !slices.Equal(got, names) || out.TotalCount != len(names) {
			t.Errorf("%s: got %d key pairs (total %d), want the %d created, in order", s.name, len(got), out.TotalCount, len(names))
		}
		sent, early := w.result()
		if sent != s.wantSent || len(early) != 1 || early[0] != s.wantEarly {
			t.Errorf("%s: sent %d requests, %v beside page 1; want %d, [%d]", s.name, sent, early, s.wantSent, s.wantEarly)
		}
	}
}
