package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud/emulator"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/tools"
)

const (
	region    = "cn-hangzhou"
	latency   = 50 * time.Millisecond // added by the emulator to every request
	keyPairs  = 500                   // the region's quota: the most a region can hold
	instances = 200
)

// fill is what a world holds in one region besides the seed's: Populate'd
// key pairs and instances.
type fill struct {
	region              string
	keyPairs, instances int
}

// defaultFills is the world of most scenarios: one region at its key pair
// quota.
func defaultFills([]string) []fill { return []fill{{region, keyPairs, instances}} }

// world is an emulator holding what its fills say (besides the seed's),
// that counts the requests it serves and adds latency to each, and a cloud
// client pointed at it.
type world struct {
	emu      *emulator.Emulator
	srv      *http.Server
	requests atomic.Int64
	endpoint string
	cloud    *cloud.Client
	// regions are the seed's regions, in its order.
	regions []string
	// keyPairs and instances are the names and IDs Populate gave region
	// (cn-hangzhou); names has every region's key pair names.
	keyPairs  []string
	instances []string
	names     map[string][]string
	// trace, when set, records every request from traceStart on.
	trace      *tracer
	traceStart time.Time
}

// traced is one request as the timeline shows it.
type traced struct {
	what       string
	start, end time.Duration
}

type tracer struct {
	mu   sync.Mutex
	reqs []traced
}

// newWorld builds a world: the seed, then fills, then setup through a
// client of its own with no added latency (so that it costs little and
// leaves the measured client cold), then the latency.
func newWorld(ctx context.Context, fills func(regions []string) []fill, setup func(context.Context, *world, *cloud.Client) error) (*world, error) {
	seed, err := emulator.LoadSeed(filepath.Join("testdata", "seed.json"))
	if err != nil {
		return nil, err
	}
	emu, err := emulator.New(emulator.Options{Seed: seed, FastKeys: true})
	if err != nil {
		return nil, err
	}
	w := &world{emu: emu, names: map[string][]string{}}
	for _, r := range seed.Regions {
		w.regions = append(w.regions, r.RegionID)
	}
	if fills == nil {
		fills = defaultFills
	}
	for _, f := range fills(w.regions) {
		names, ids, err := emu.Populate(f.region, f.keyPairs, f.instances)
		if err != nil {
			emu.Close()
			return nil, err
		}
		w.names[f.region] = names
		if f.region == region {
			w.keyPairs, w.instances = names, ids
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		emu.Close()
		return nil, err
	}
	w.endpoint = "http://" + ln.Addr().String()
	w.srv = &http.Server{Handler: w}
	go w.srv.Serve(ln)
	if setup != nil {
		c, err := w.newClient()
		if err == nil {
			err = setup(ctx, w, c)
		}
		if err != nil {
			w.close()
			return nil, fmt.Errorf("setup: %w", err)
		}
	}
	emu.SetFaults(emulator.FaultPlan{Default: emulator.Faults{Latency: latency}})
	if w.cloud, err = w.newClient(); err != nil {
		w.close()
		return nil, err
	}
	return w, nil
}

// concurrency is the cloud client's bound on requests in flight; 0 is
// cloud.DefaultConcurrency. Other values (-concurrency) show what a
// change of the default would do.
var concurrency int

// newClient is a fresh cloud client for the world.
func (w *world) newClient() (*cloud.Client, error) {
	creds := w.emu.Credentials()
	return cloud.New(cloud.Config{
		Endpoint:    w.endpoint,
		Credentials: &cloud.StaticCredentials{AccessKeyID: creds.AccessKeyID, AccessKeySecret: creds.AccessKeySecret},
		Concurrency: concurrency,
	})
}

// ServeHTTP counts a request and hands it to the emulator.
func (w *world) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	w.requests.Add(1)
	if w.trace == nil {
		w.emu.ServeHTTP(rw, r)
		return
	}
	start := time.Since(w.traceStart)
	what := describeRequest(r)
	w.emu.ServeHTTP(rw, r)
	w.trace.mu.Lock()
	w.trace.reqs = append(w.trace.reqs, traced{what, start, time.Since(w.traceStart)})
	w.trace.mu.Unlock()
}

// describeRequest names a request by its action and the parameters that
// tell its pages and batches apart. The body is read and put back.
func describeRequest(r *http.Request) string {
	params := r.URL.Query()
	if r.Body != nil {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if form, err := url.ParseQuery(string(body)); err == nil {
			for k, v := range form {
				params[k] = v
			}
		}
	}
	action := params.Get("Action")
	if action == "" {
		action = r.Header.Get("x-acs-action")
	}
	out := action
	for _, k := range []string{"RegionId", "KeyPairName", "KeyPairFingerPrint", "PageNumber"} {
		if v := params.Get(k); v != "" {
			out += " " + k + "=" + v
		}
	}
	if ids := params.Get("InstanceIds"); ids != "" {
		out += fmt.Sprintf(" InstanceIds=%d", strings.Count(ids, ",")+1)
	}
	if names := params.Get("KeyPairNames"); names != "" {
		out += fmt.Sprintf(" KeyPairNames=%d", strings.Count(names, ",")+1)
	}
	return out
}

func (w *world) close() {
	w.srv.Close()
	w.emu.Close()
}

// measure runs fn and returns the requests the emulator served meanwhile
// and the wall time.
func (w *world) measure(fn func() error) (int64, time.Duration, error) {
	before := w.requests.Load()
	start := time.Now()
	err := fn()
	return w.requests.Load() - before, time.Since(start), err
}

// roundTrip is the time of one request: one page of 50 key pairs.
func (w *world) roundTrip(ctx context.Context) (time.Duration, error) {
	_, d, err := w.measure(func() error {
		_, err := w.cloud.DescribeKeyPairs(ctx, schema.DescribeKeyPairsInput{RegionID: region, PageNumber: 1, PageSize: 50})
		return err
	})
	return d, err
}

// session is an in-process MCP client connected to the real tool set,
// served over the world's cloud client.
type session struct {
	w      *world
	c      *client.Client
	keyDir string
}

func (w *world) open(ctx context.Context) (*session, error) {
	keyDir, err := os.MkdirTemp("", "bench-keys-")
	if err != nil {
		return nil, err
	}
	s := server.NewMCPServer("bench", "0", server.WithToolCapabilities(false))
	tools.Register(s, tools.Deps{Cloud: w.cloud, PrivateKeyDir: keyDir}, false)
	c, err := client.NewInProcessClient(s)
	if err == nil {
		err = c.Start(ctx)
	}
	if err == nil {
		_, err = c.Initialize(ctx, mcp.InitializeRequest{})
	}
	if err != nil {
		if c != nil {
			c.Close()
		}
		os.RemoveAll(keyDir)
		return nil, err
	}
	return &session{w: w, c: c, keyDir: keyDir}, nil
}

func (s *session) close() {
	s.c.Close()
	os.RemoveAll(s.keyDir)
}

// call runs one tool and returns the result, its structured content
// decoded, and the requests and wall time it took.
func (s *session) call(ctx context.Context, name string, args map[string]any) (*mcp.CallToolResult, map[string]any, result, error) {
	req := mcp.CallToolRequest{}
	req.Params.Name, req.Params.Arguments = name, args
	var res *mcp.CallToolResult
	var err error
	requests, wall, err := s.w.measure(func() error {
		res, err = s.c.CallTool(ctx, req)
		return err
	})
	if err != nil {
		return nil, nil, result{}, err
	}
	if res.IsError {
		return nil, nil, result{}, fmt.Errorf("%s: %v", name, res.Content)
	}
	raw, err := json.Marshal(res.StructuredContent)
	if err != nil {
		return nil, nil, result{}, err
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, nil, result{}, err
	}
	return res, out, result{requests: requests, wall: wall, calls: 1, items: []int{listed(out)}}, nil
}

// callAll runs one tool and, while its result is truncated, again with
// the result's nextToken: the whole listing. It returns the structured
// content of every call and the requests and wall time of all together.
func (s *session) callAll(ctx context.Context, name string, args map[string]any) ([]map[string]any, result, error) {
	var outs []map[string]any
	var total result
	args = maps.Clone(args)
	for {
		_, out, r, err := s.call(ctx, name, args)
		if err != nil {
			return nil, result{}, err
		}
		outs = append(outs, out)
		total.requests += r.requests
		total.wall += r.wall
		total.calls++
		total.items = append(total.items, r.items...)
		next, _ := out["nextToken"].(string)
		if next == "" {
			return outs, total, nil
		}
		if total.calls >= 100 {
			return nil, result{}, fmt.Errorf("%s: still truncated after %d calls", name, total.calls)
		}
		args["nextToken"] = next
	}
}

// scenario is one job done twice: by a tool (preview reads included), and
// by a sequential client that sends one request at a time, one page of 50
// key pairs (or 100 instances) after another and one batch after another.
type scenario struct {
	name   string
	target float64 // the most round-trip times the tool may take
	// fills and setup build the world (nil fills: defaultFills); setup runs
	// before the latency is added, through a client of its own.
	fills func(regions []string) []fill
	setup func(context.Context, *world, *cloud.Client) error
	tool  string
	args  func(*world) map[string]any
	// warm is the call made before the measured one in the warm row; nil
	// means the same call without confirm (the preview the tool
	// descriptions ask for; for a listing, an earlier listing). warmCall
	// names it in the table.
	warm     func(*world) (string, map[string]any)
	warmCall string
	// follow measures every call of a listing that is truncated, following
	// nextToken to its end, instead of the first call only.
	follow     bool
	sequential func(context.Context, *world) error
	// check verifies the emulator's state afterwards, and the tool's result
	// (nil after the sequential client), so that a fast but wrong run
	// cannot pass.
	check func(*world, []map[string]any) error
}

var scenarios = append([]scenario{
	{
		name: "describe_key_pairs, 500 key pairs", target: 3,
		tool: "describe_key_pairs",
		args: func(w *world) map[string]any { return map[string]any{"regionId": region} },
		sequential: func(ctx context.Context, w *world) error {
			n, err := sequentialKeyPairs(ctx, w)
			if err == nil && n != keyPairs {
				err = fmt.Errorf("listed %d key pairs, want %d", n, keyPairs)
			}
			return err
		},
		check: func(w *world, outs []map[string]any) error {
			if outs != nil && outs[0]["totalCount"] != float64(keyPairs) {
				return fmt.Errorf("totalCount %v, want %d", outs[0]["totalCount"], keyPairs)
			}
			return nil
		},
	},
	{
		name: "attach_key_pair, 200 instances, confirm", target: 3,
		tool: "attach_key_pair",
		args: func(w *world) map[string]any {
			return map[string]any{"regionId": region, "keyPairName": w.keyPairs[0], "instanceIds": w.instances, "confirm": true}
		},
		sequential: func(ctx context.Context, w *world) error {
			name := w.keyPairs[0]
			found, err := w.cloud.DescribeKeyPairs(ctx, schema.DescribeKeyPairsInput{RegionID: region, KeyPairName: name, PageNumber: 1, PageSize: 50})
			if err != nil {
				return err
			}
			if found.TotalCount != 1 {
				return fmt.Errorf("key pair %s not found", name)
			}
			for ids := range chunks(w.instances, 100) {
				if _, err := w.cloud.DescribeInstances(ctx, schema.DescribeInstancesInput{RegionID: region, InstanceIDs: ids, PageNumber: 1, PageSize: 100}); err != nil {
					return err
				}
			}
			for ids := range chunks(w.instances, 50) {
				if _, _, err := w.cloud.AttachKeyPair(ctx, region, name, ids); err != nil {
					return err
				}
			}
			return nil
		},
		check: func(w *world, _ []map[string]any) error {
			snap, err := w.emu.Snapshot()
			if err != nil {
				return err
			}
			attached := 0
			for _, in := range snap.Instances {
				if in.KeyPairName == w.keyPairs[0] {
					attached++
				}
			}
			if attached != instances {
				return fmt.Errorf("%d instances carry the key pair, want %d", attached, instances)
			}
			return nil
		},
	},
	{
		name: "delete_key_pairs, 300 key pairs, confirm", target: 3,
		tool: "delete_key_pairs",
		args: func(w *world) map[string]any {
			return map[string]any{"regionId": region, "keyPairNames": w.keyPairs[:300], "confirm": true}
		},
		sequential: func(ctx context.Context, w *world) error {
			if _, err := sequentialKeyPairs(ctx, w); err != nil {
				return err
			}
			if _, err := sequentialInstances(ctx, w, schema.DescribeInstancesInput{RegionID: region}); err != nil {
				return err
			}
			for names := range chunks(w.keyPairs[:300], 100) {
				if _, err := w.cloud.DeleteKeyPairs(ctx, region, names); err != nil {
					return err
				}
			}
			return nil
		},
		check: func(w *world, _ []map[string]any) error {
			snap, err := w.emu.Snapshot()
			if err != nil {
				return err
			}
			if n := len(snap.KeyPairs); n != keyPairs-300 {
				return fmt.Errorf("%d key pairs left, want %d", n, keyPairs-300)
			}
			return nil
		},
	},
}, jobs...)

// sequentialKeyPairs lists the region's key pairs one page of 50 at a time.
func sequentialKeyPairs(ctx context.Context, w *world) (int, error) {
	keys, err := sequentialKeyPairsOf(ctx, w, schema.DescribeKeyPairsInput{RegionID: region})
	return len(keys), err
}

// sequentialKeyPairsOf lists the key pairs that match q one page of 50 at
// a time.
func sequentialKeyPairsOf(ctx context.Context, w *world, q schema.DescribeKeyPairsInput) ([]schema.KeyPair, error) {
	var keys []schema.KeyPair
	for q.PageNumber, q.PageSize = 1, 50; ; q.PageNumber++ {
		out, err := w.cloud.DescribeKeyPairs(ctx, q)
		if err != nil {
			return nil, err
		}
		if keys = append(keys, out.KeyPairs...); len(out.KeyPairs) == 0 || len(keys) >= out.TotalCount {
			return keys, nil
		}
	}
}

// sequentialInstances lists the instances that match q one page of 100 at
// a time.
func sequentialInstances(ctx context.Context, w *world, q schema.DescribeInstancesInput) ([]schema.Instance, error) {
	var insts []schema.Instance
	for q.PageNumber, q.PageSize = 1, 100; ; q.PageNumber++ {
		out, err := w.cloud.DescribeInstances(ctx, q)
		if err != nil {
			return nil, err
		}
		if insts = append(insts, out.Instances...); len(out.Instances) == 0 || len(insts) >= out.TotalCount {
			return insts, nil
		}
	}
}

func chunks(items []string, size int) func(func([]string) bool) {
	return func(yield func([]string) bool) {
		for len(items) > 0 {
			n := min(size, len(items))
			if !yield(items[:n]) {
				return
			}
			items = items[n:]
		}
	}
}

// result is one run of a scenario: the requests and wall time of the
// measured calls, and how many calls that took.
type result struct {
	requests int64
	wall     time.Duration
	calls    int
	// items are the key pairs (or instances) each call's result holds.
	items []int
}

// listed is how many key pairs or instances a result holds.
func listed(out map[string]any) int {
	for _, k := range []string{"keyPairs", "instances"} {
		if l, ok := out[k].([]any); ok {
			return len(l)
		}
	}
	return 0
}

// runOnce does the scenario on a fresh world and returns the result and a
// few round-trip times measured on that world beforehand. With warm, the
// scenario's warm call is made first, and only the call after it is
// measured.
// With tr, the requests of the measured call are recorded in tr.
func runOnce(ctx context.Context, sc scenario, byTool, warm bool, tr *tracer) (result, []time.Duration, error) {
	w, err := newWorld(ctx, sc.fills, sc.setup)
	if err != nil {
		return result{}, nil, err
	}
	defer w.close()
	var rtts []time.Duration
	for range 3 {
		d, err := w.roundTrip(ctx)
		if err != nil {
			return result{}, nil, err
		}
		rtts = append(rtts, d)
	}
	var r result
	var outs []map[string]any
	if byTool {
		s, err := w.open(ctx)
		if err != nil {
			return result{}, nil, err
		}
		defer s.close()
		if warm {
			tool, args := sc.tool, sc.args(w)
			delete(args, "confirm")
			if sc.warm != nil {
				tool, args = sc.warm(w)
			}
			if _, _, _, err := s.call(ctx, tool, args); err != nil {
				return result{}, nil, err
			}
		}
		if tr != nil {
			w.trace, w.traceStart = tr, time.Now()
		}
		if sc.follow {
			outs, r, err = s.callAll(ctx, sc.tool, sc.args(w))
		} else {
			var out map[string]any
			_, out, r, err = s.call(ctx, sc.tool, sc.args(w))
			outs = []map[string]any{out}
		}
	} else {
		r.requests, r.wall, err = w.measure(func() error { return sc.sequential(ctx, w) })
	}
	if err == nil {
		err = sc.check(w, outs)
	}
	return r, rtts, err
}

func benchRoundTrips(runs int, match string, trace bool) error {
	ctx := context.Background()
	if trace {
		return traceRoundTrips(ctx, match)
	}
	type row struct {
		sc        scenario
		warm      bool
		tool, seq []result
	}
	var rows []row
	var rtts []time.Duration
	do := func(sc scenario, byTool, warm bool) ([]result, error) {
		var rs []result
		for range runs {
			r, rt, err := runOnce(ctx, sc, byTool, warm, nil)
			if err != nil {
				return nil, fmt.Errorf("%s (tool %v, warm %v): %w", sc.name, byTool, warm, err)
			}
			rs = append(rs, r)
			rtts = append(rtts, rt...)
		}
		return rs, nil
	}
	for _, sc := range scenarios {
		if !strings.Contains(sc.name, match) {
			continue
		}
		seq, err := do(sc, false, false)
		if err != nil {
			return err
		}
		for _, warm := range []bool{false, true} {
			tool, err := do(sc, true, warm)
			if err != nil {
				return err
			}
			rows = append(rows, row{sc, warm, tool, seq})
		}
	}

	rtt := median(rtts)
	fmt.Printf("\n## Round trips (%s added per request, client concurrency %d, medians of %d runs)\n\n",
		latency, cmp.Or(concurrency, cloud.DefaultConcurrency), runs)
	fmt.Printf("RTT (one request for a page of 50 key pairs): median %s over %d requests.\n\n", ms(rtt), len(rtts))
	fmt.Println("| scenario | measured call | requests: tool / sequential | wall: tool | wall: sequential | sequential ÷ tool | tool in RTTs | target |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	for _, r := range rows {
		wall, seqWall := medianWall(r.tool), medianWall(r.seq)
		inRTT := float64(wall) / float64(rtt)
		verdict := "met"
		if inRTT > r.sc.target {
			verdict = fmt.Sprintf("missed by %.0f%%", 100*(inRTT/r.sc.target-1))
		}
		call := "first (cold)"
		if r.warm {
			call = "after a preview"
			if r.sc.warmCall != "" {
				call = r.sc.warmCall
			}
		}
		if n := medianCalls(r.tool); n > 1 {
			call += fmt.Sprintf(", %d calls", n)
		}
		fmt.Printf("| %s | %s | %d / %d | %s | %s | %.1fx | %.2f | ≤ %.0f: %s |\n", r.sc.name, call,
			medianRequests(r.tool), medianRequests(r.seq), ms(wall), ms(seqWall), float64(seqWall)/float64(wall), inRTT, r.sc.target, verdict)
	}
	return nil
}

func medianWall(rs []result) time.Duration {
	ds := make([]time.Duration, len(rs))
	for i, r := range rs {
		ds[i] = r.wall
	}
	return median(ds)
}

func medianRequests(rs []result) int64 {
	ns := make([]int64, len(rs))
	for i, r := range rs {
		ns[i] = r.requests
	}
	return median(ns)
}

func medianCalls(rs []result) int {
	ns := make([]int, len(rs))
	for i, r := range rs {
		ns[i] = r.calls
	}
	return median(ns)
}

// traceRoundTrips prints, for each scenario, the requests of one cold and
// one warm tool call in the order they started, with the wave each falls
// in: one more than the latest wave of a request that had ended before it
// started. A request waits either on an answer it needs or on a free slot
// of the client's concurrency; both show as a later wave.
func traceRoundTrips(ctx context.Context, match string) error {
	for _, sc := range scenarios {
		if !strings.Contains(sc.name, match) {
			continue
		}
		for _, warm := range []bool{false, true} {
			tr := &tracer{}
			r, _, err := runOnce(ctx, sc, true, warm, tr)
			if err != nil {
				return fmt.Errorf("%s (warm %v): %w", sc.name, warm, err)
			}
			call := "first (cold)"
			if warm {
				call = "after a preview"
				if sc.warmCall != "" {
					call = sc.warmCall
				}
			}
			reqs := tr.reqs
			slices.SortFunc(reqs, func(a, b traced) int { return int(a.start - b.start) })
			waves := make([]int, len(reqs))
			for i, q := range reqs {
				waves[i] = 1
				for j, p := range reqs[:i] {
					if p.end <= q.start {
						waves[i] = max(waves[i], waves[j]+1)
					}
				}
			}
			fmt.Printf("\n### %s, %s: %d requests, %s, %d waves; %d call(s), holding %v items\n\n",
				sc.name, call, r.requests, ms(r.wall), slices.Max(append(waves, 0)), r.calls, r.items)
			for i, q := range reqs {
				fmt.Printf("    wave %d  %7.1f – %7.1f ms  %s\n", waves[i], float64(q.start)/1e6, float64(q.end)/1e6, q.what)
			}
		}
	}
	return nil
}
