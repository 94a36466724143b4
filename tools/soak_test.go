package tools_test

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud"
)

// TestSoak makes 10,000 calls against the faulty emulator, in rounds, and
// checks that what the server holds, memory and goroutines, stays flat from
// round to round.
//
//	ECS_KEYPAIR_MCP_SOAK=1 go test ./tools -run TestSoak -v -timeout 30m
//
// The emulator runs in this process, and it remembers: its state grows with
// the key pairs of every round, and it keeps the SignatureNonce of every
// request for twice the 15-minute timestamp window (each nonce a substring
// of its request's URL, which it keeps alive: about 650 KiB per 1,000
// calls). That is the cloud's memory, not the server's, so each round
// ends by replacing the emulator with a fresh one (same credentials, same
// endpoint; it serves the next round) before the heap is measured.
//
// With ECS_KEYPAIR_MCP_SOAK_PROFILE=DIR, a heap profile is written to DIR
// after each round (DIR/heap-N.pprof), at a fine sampling rate; compare two
// with
//
//	go tool pprof -top -inuse_space -base DIR/heap-1.pprof DIR/heap-9.pprof
func TestSoak(t *testing.T) {
	if os.Getenv("ECS_KEYPAIR_MCP_SOAK") == "" {
		t.Skip("soak test: set ECS_KEYPAIR_MCP_SOAK=1 to run it")
	}
	const rounds, workers, calls = 10, 8, 125 // 10 x 1,000 calls
	// Growth allowed from round 1 (the second; pools and caches have
	// filled) to any later round: 512 KiB over 8,000 calls is 64 bytes a
	// call. Measured: under 32 KiB, maps of net/http that never shrink.
	const (
		heapSlack      = 512 << 10
		goroutineSlack = 2 // outside HTTP connections
	)
	// HTTP connections come and go with the pools: each of the cloud
	// client's pooled SDK clients (2 x concurrency) keeps up to 2 idle
	// connections, each 2 goroutines on the client side and 1 on the
	// emulator's.
	const maxConnGoroutines = 2 * cloud.DefaultConcurrency * 2 * 3
	profiles := os.Getenv("ECS_KEYPAIR_MCP_SOAK_PROFILE")
	if profiles != "" {
		runtime.MemProfileRate = 512
	}
	regions := []string{"cn-qingdao", "cn-beijing", "cn-zhangjiakou", "cn-hangzhou", "cn-shanghai",
		"cn-shenzhen", "cn-hongkong", "ap-southeast-1", "ap-northeast-1", "us-west-1"}
	logs := &bytes.Buffer{}
	h := newFaultHarness(t, 7, logs)
	var baseHeap uint64
	baseOther := 0
	for round := range rounds {
		logs.Reset()
		// A region per round: names start afresh (the key files stay).
		runFaultMix(t, h, regions[round], workers, calls, uint64(round+1))
		time.Sleep(200 * time.Millisecond) // let abandoned requests end
		withEmulator := liveHeap()
		// The cloud starts afresh: the round's emulator becomes garbage.
		h.freshEmulator(t, uint64(100+round))
		// No call is in flight: every connection left is idle in a pool,
		// and there are no more than the pools keep.
		conns, _ := countGoroutines()
		if conns > maxConnGoroutines {
			t.Errorf("round %d: %d goroutines in HTTP connections, more than the pools keep (%d)", round, conns, maxConnGoroutines)
		}
		withConns := liveHeap()
		// How many stay idle varies from round to round, and each holds
		// some 20 KiB of buffers: close them (the emulator's side), so
		// that the heap shows what the server holds beyond them.
		h.http.CloseClientConnections()
		time.Sleep(50 * time.Millisecond) // the client's read loops see it
		heap := liveHeap()
		connsLeft, other := countGoroutines()
		t.Logf("round %d: heap %d KiB (with idle connections %d KiB, with the round's emulator too %d KiB); goroutines %d, +%d in HTTP connections before closing them (%d after)",
			round, heap>>10, withConns>>10, withEmulator>>10, other, conns, connsLeft)
		if profiles != "" {
			writeHeapProfile(t, filepath.Join(profiles, fmt.Sprintf("heap-%d.pprof", round)))
		}
		switch {
		case round == 1: // after the pools and caches have filled
			baseHeap, baseOther = heap, other
		case round > 1:
			if heap > baseHeap+heapSlack {
				t.Errorf("round %d: heap %d KiB, %d KiB more than after round 1 (%d KiB); at most %d KiB allowed",
					round, heap>>10, (heap-baseHeap)>>10, baseHeap>>10, heapSlack>>10)
			}
			if other > baseOther+goroutineSlack || other < baseOther-goroutineSlack {
				t.Errorf("round %d: %d goroutines outside HTTP connections, %d after round 1\n%s", round, other, baseOther, goroutineSummary())
			}
		}
	}
}

// liveHeap returns the bytes of live heap objects, after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC() // a second cycle frees what finalizers released in the first
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// countGoroutines counts the goroutines serving HTTP connections (client
// read and write loops, the emulator's connection handlers) and the others.
func countGoroutines() (conns, other int) {
	for _, g := range goroutineStacks() {
		if isConnGoroutine(g) {
			conns++
		} else {
			other++
		}
	}
	return conns, other
}

func isConnGoroutine(stack string) bool {
	return strings.Contains(stack, "net/http.(*persistConn).readLoop") ||
		strings.Contains(stack, "net/http.(*persistConn).writeLoop") ||
		strings.Contains(stack, "net/http.(*conn).serve")
}

func goroutineStacks() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Split(strings.TrimSpace(string(buf[:n])), "\n\n")
		}
		buf = make([]byte, 2*len(buf))
	}
}

// goroutineSummary lists the goroutines outside HTTP connections by where
// they were created, for a failure message.
func goroutineSummary() string {
	counts := map[string]int{}
	for _, g := range goroutineStacks() {
		if isConnGoroutine(g) {
			continue
		}
		where := "?"
		if i := strings.LastIndex(g, "created by "); i >= 0 {
			where, _, _ = strings.Cut(g[i+len("created by "):], "\n")
			where, _, _ = strings.Cut(where, " in goroutine ")
		}
		counts[where]++
	}
	var b strings.Builder
	for _, where := range slices.Sorted(maps.Keys(counts)) {
		fmt.Fprintf(&b, "  %4d created by %s\n", counts[where], where)
	}
	return b.String()
}

func writeHeapProfile(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := pprof.WriteHeapProfile(f); err != nil {
		t.Fatal(err)
	}
}
