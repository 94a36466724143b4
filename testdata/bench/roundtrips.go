package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
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

// world is an emulator holding keyPairs key pairs and instances instances
// (besides the seed's) in region, that counts the requests it serves, and a
// cloud client pointed at it.
type world struct {
	emu       *emulator.Emulator
	srv       *http.Server
	requests  atomic.Int64
	cloud     *cloud.Client
	keyPairs  []string
	instances []string
}

func newWorld(concurrency int) (*world, error) {
	seed, err := emulator.LoadSeed(filepath.Join("testdata", "seed.json"))
	if err != nil {
		return nil, err
	}
	emu, err := emulator.New(emulator.Options{Seed: seed, FastKeys: true,
		Faults: emulator.FaultPlan{Default: emulator.Faults{Latency: latency}}})
	if err != nil {
		return nil, err
	}
	w := &world{emu: emu}
	if w.keyPairs, w.instances, err = emu.Populate(region, keyPairs, instances); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	w.srv = &http.Server{Handler: w}
	go w.srv.Serve(ln)
	creds := emu.Credentials()
	w.cloud, err = cloud.New(cloud.Config{
		Endpoint:    "http://" + ln.Addr().String(),
		Credentials: &cloud.StaticCredentials{AccessKeyID: creds.AccessKeyID, AccessKeySecret: creds.AccessKeySecret},
		Concurrency: concurrency,
	})
	if err != nil {
		w.close()
		return nil, err
	}
	return w, nil
}

// ServeHTTP counts a request and hands it to the emulator.
func (w *world) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	w.requests.Add(1)
	w.emu.ServeHTTP(rw, r)
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

// callTool runs one tool of the real tool set, through an in-process MCP
// client, and returns its structured result.
func (w *world) callTool(ctx context.Context, name string, args map[string]any) (map[string]any, error) {
	keyDir, err := os.MkdirTemp("", "bench-keys-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(keyDir)
	s := server.NewMCPServer("bench", "0", server.WithToolCapabilities(false))
	tools.Register(s, tools.Deps{Cloud: w.cloud, PrivateKeyDir: keyDir}, false)
	c, err := client.NewInProcessClient(s)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if err := c.Start(ctx); err != nil {
		return nil, err
	}
	if _, err := c.Initialize(ctx, mcp.InitializeRequest{}); err != nil {
		return nil, err
	}
	req := mcp.CallToolRequest{}
	req.Params.Name, req.Params.Arguments = name, args
	var res *mcp.CallToolResult
	requests, wall, err := w.measure(func() error {
		res, err = c.CallTool(ctx, req)
		return err
	})
	if err != nil {
		return nil, err
	}
	if res.IsError {
		return nil, fmt.Errorf("%s: %v", name, res.Content)
	}
	raw, err := json.Marshal(res.StructuredContent)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, err
	}
	out["_requests"], out["_wall"] = requests, wall
	return out, nil
}

// scenario is one job done twice: by a tool (preview reads included), and
// by a sequential client that sends one request at a time, one page of 50
// key pairs (or 100 instances) after another and one batch after another.
type scenario struct {
	name       string
	target     float64 // the most round-trip times the tool may take
	tool       string
	args       func(*world) map[string]any
	sequential func(context.Context, *world) error
	// check verifies the emulator's state afterwards, so that a fast but
	// wrong run cannot pass.
	check func(*world, map[string]any) error
}

var scenarios = []scenario{
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
		check: func(w *world, out map[string]any) error {
			if out != nil && out["totalCount"] != float64(keyPairs) {
				return fmt.Errorf("totalCount %v, want %d", out["totalCount"], keyPairs)
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
		check: func(w *world, _ map[string]any) error {
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
			for page, seen := 1, 0; ; page++ {
				out, err := w.cloud.DescribeInstances(ctx, schema.DescribeInstancesInput{RegionID: region, PageNumber: page, PageSize: 100})
				if err != nil {
					return err
				}
				if seen += len(out.Instances); len(out.Instances) == 0 || seen >= out.TotalCount {
					break
				}
			}
			for names := range chunks(w.keyPairs[:300], 100) {
				if _, err := w.cloud.DeleteKeyPairs(ctx, region, names); err != nil {
					return err
				}
			}
			return nil
		},
		check: func(w *world, _ map[string]any) error {
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
}

// sequentialKeyPairs lists the region's key pairs one page of 50 at a time.
func sequentialKeyPairs(ctx context.Context, w *world) (int, error) {
	seen := 0
	for page := 1; ; page++ {
		out, err := w.cloud.DescribeKeyPairs(ctx, schema.DescribeKeyPairsInput{RegionID: region, PageNumber: page, PageSize: 50})
		if err != nil {
			return 0, err
		}
		if seen += len(out.KeyPairs); len(out.KeyPairs) == 0 || seen >= out.TotalCount {
			return seen, nil
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

// result is one run of a scenario.
type result struct {
	requests int64
	wall     time.Duration
}

// runOnce does the scenario on a fresh world and returns the result and a
// few round-trip times measured on that world beforehand. With warm, the
// tool is first called without confirm (the preview the tool descriptions
// ask for; for describe, an earlier listing) and only the second call is
// measured.
func runOnce(ctx context.Context, sc scenario, byTool, warm bool) (result, []time.Duration, error) {
	w, err := newWorld(0)
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
	var out map[string]any
	if byTool {
		if warm {
			preview := sc.args(w)
			delete(preview, "confirm")
			if _, err := w.callTool(ctx, sc.tool, preview); err != nil {
				return result{}, nil, err
			}
		}
		if out, err = w.callTool(ctx, sc.tool, sc.args(w)); err == nil {
			r = result{out["_requests"].(int64), out["_wall"].(time.Duration)}
		}
	} else {
		r.requests, r.wall, err = w.measure(func() error { return sc.sequential(ctx, w) })
	}
	if err == nil {
		err = sc.check(w, out)
	}
	return r, rtts, err
}

func benchRoundTrips(runs int) error {
	ctx := context.Background()
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
			r, rt, err := runOnce(ctx, sc, byTool, warm)
			if err != nil {
				return nil, fmt.Errorf("%s (tool %v, warm %v): %w", sc.name, byTool, warm, err)
			}
			rs = append(rs, r)
			rtts = append(rtts, rt...)
		}
		return rs, nil
	}
	for _, sc := range scenarios {
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
	fmt.Printf("\n## Round trips (%d key pairs and %d instances in %s, %s added per request, client concurrency %d, medians of %d runs)\n\n",
		keyPairs, instances, region, latency, cloud.DefaultConcurrency, runs)
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
