package tools_test

import (
	"bytes"
	"os"
	"runtime"
	"testing"
	"time"
)

// TestSoak makes 10,000 calls against the faulty emulator, in rounds, and
// checks that memory and goroutines stay flat from round to round.
//
//	ECS_KEYPAIR_MCP_SOAK=1 go test ./tools -run TestSoak -v -timeout 30m
func TestSoak(t *testing.T) {
	if os.Getenv("ECS_KEYPAIR_MCP_SOAK") == "" {
		t.Skip("soak test: set ECS_KEYPAIR_MCP_SOAK=1 to run it")
	}
	const rounds, workers, calls = 10, 8, 125 // 10 x 1,000 calls
	regions := []string{"cn-qingdao", "cn-beijing", "cn-zhangjiakou", "cn-hangzhou", "cn-shanghai",
		"cn-shenzhen", "cn-hongkong", "ap-southeast-1", "ap-northeast-1", "us-west-1"}
	logs := &bytes.Buffer{}
	h := newFaultHarness(t, 7, logs)
	var base runtime.MemStats
	baseGoroutines := 0
	for round := range rounds {
		logs.Reset()
		// A region per round: names start afresh, within the quota.
		runFaultMix(t, h, regions[round], workers, calls, uint64(round+1))
		time.Sleep(200 * time.Millisecond) // let abandoned requests end
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		g := runtime.NumGoroutine()
		t.Logf("round %d: heap %d KiB, goroutines %d", round, m.HeapAlloc>>10, g)
		if round == 1 { // after the pools and caches have filled
			base, baseGoroutines = m, g
		}
		if round > 1 && (m.HeapAlloc > 2*base.HeapAlloc+8<<20 || g > baseGoroutines+20) {
			t.Errorf("round %d: heap %d KiB (round 1: %d KiB), goroutines %d (round 1: %d)",
				round, m.HeapAlloc>>10, base.HeapAlloc>>10, g, baseGoroutines)
		}
	}
}
