package emulator

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
)

func TestFaults(t *testing.T) {
	t.Parallel()
	createDemo := func(e *testEnv) error {
		req := ecs.CreateCreateKeyPairRequest()
		req.RegionId, req.KeyPairName = "cn-hangzhou", "demo"
		_, err := e.ecs.CreateKeyPair(req)
		return err
	}
	keyCount := func(e *testEnv) int { return len(e.snapshot().KeyPairs) }

	t.Run("throttling", func(t *testing.T) {
		e := newTestEnv(t, Options{Faults: FaultPlan{Default: Faults{ThrottleRate: 1}}})
		wantAPIError(t, createDemo(e), "Throttling", http.StatusBadRequest)
		if keyCount(e) != 0 {
			t.Error("a throttled create was applied")
		}
	})
	t.Run("server errors", func(t *testing.T) {
		e := newTestEnv(t, Options{Faults: FaultPlan{Default: Faults{ServerErrorRate: 1}, Seed: 7}})
		seen := map[string]bool{}
		for i := 0; i < 40; i++ {
			code, status, _ := serverError(t, createDemo(e))
			if !(code == "ServiceUnavailable" && status == 503) && !(code == "InternalError" && status == 500) {
				t.Fatalf("got %s %d", code, status)
			}
			seen[code] = true
		}
		if len(seen) != 2 || keyCount(e) != 0 {
			t.Errorf("codes seen %v, key pairs %d", seen, keyCount(e))
		}
	})
	t.Run("dropped before the action", func(t *testing.T) {
		e := newTestEnv(t, Options{Faults: FaultPlan{Default: Faults{DropRate: 1}}})
		err := createDemo(e)
		var se *sdkerrors.ServerError
		if err == nil || errors.As(err, &se) {
			t.Fatalf("want a transport error, got %v", err)
		}
		if keyCount(e) != 0 {
			t.Error("a dropped create was applied")
		}
	})
	t.Run("dropped after the action", func(t *testing.T) {
		e := newTestEnv(t, Options{Faults: FaultPlan{PerAction: map[string]Faults{"CreateKeyPair": {DropAfterRate: 1}}}})
		err := createDemo(e)
		var se *sdkerrors.ServerError
		if err == nil || errors.As(err, &se) {
			t.Fatalf("want a transport error, got %v", err)
		}
		if keyCount(e) != 1 {
			t.Error("the create behind a dropped answer was not applied")
		}
		// Other actions are unaffected.
		if _, err := e.ecs.DescribeRegions(ecs.CreateDescribeRegionsRequest()); err != nil {
			t.Errorf("DescribeRegions: %v", err)
		}
	})
	t.Run("per action rate", func(t *testing.T) {
		e := newTestEnv(t, Options{Faults: FaultPlan{
			PerAction: map[string]Faults{"DescribeRegions": {ThrottleRate: 1}},
		}})
		_, err := e.ecs.DescribeRegions(ecs.CreateDescribeRegionsRequest())
		wantAPIError(t, err, "Throttling", http.StatusBadRequest)
		req := ecs.CreateDescribeKeyPairsRequest()
		req.RegionId = "cn-hangzhou"
		if _, err := e.ecs.DescribeKeyPairs(req); err != nil {
			t.Fatal(err)
		}
		// Faults can be switched off at run time.
		e.emu.SetFaults(FaultPlan{})
		if _, err := e.ecs.DescribeRegions(ecs.CreateDescribeRegionsRequest()); err != nil {
			t.Errorf("after clearing faults: %v", err)
		}
	})
	t.Run("latency is drawn per action", func(t *testing.T) {
		f := newFaultInjector(FaultPlan{
			Default:   Faults{Latency: 60 * time.Millisecond, Jitter: 40 * time.Millisecond},
			PerAction: map[string]Faults{"DescribeRegions": {Latency: time.Second}},
			Seed:      3,
		})
		for range 200 {
			if d, _ := f.draw("CreateKeyPair"); d < 60*time.Millisecond || d > 100*time.Millisecond {
				t.Fatalf("CreateKeyPair delay %v, want 60ms plus up to 40ms of jitter", d)
			}
		}
		if d, _ := f.draw("DescribeRegions"); d != time.Second {
			t.Errorf("DescribeRegions delay %v, want its own 1s", d)
		}
	})
	t.Run("a client that stops waiting out the latency changes nothing", func(t *testing.T) {
		e := newTestEnv(t, Options{Faults: FaultPlan{Default: Faults{Latency: time.Hour}}})
		e.ecs.SetReadTimeout(50 * time.Millisecond)
		if err := createDemo(e); err == nil {
			t.Fatal("a create delayed by an hour answered")
		}
		if keyCount(e) != 0 {
			t.Error("a create whose client gave up during the latency was applied")
		}
	})
	t.Run("rate is honoured", func(t *testing.T) {
		f := newFaultInjector(FaultPlan{Default: Faults{ThrottleRate: 0.2, ServerErrorRate: 0.1, DropRate: 0.05}, Seed: 42})
		counts := map[faultKind]int{}
		const n = 20000
		for i := 0; i < n; i++ {
			_, k := f.draw("CreateKeyPair")
			counts[k]++
		}
		for kind, want := range map[faultKind]float64{faultThrottle: 0.2, faultServiceUnavailable: 0.05, faultInternal: 0.05, faultDrop: 0.05, faultNone: 0.65} {
			if got := float64(counts[kind]) / n; got < want-0.02 || got > want+0.02 {
				t.Errorf("fault %d: rate %.3f, want %.2f", kind, got, want)
			}
		}
	})
}

// TestQuotaOf500 fills a region to the documented quota through the SDK and
// checks the next create and import are refused. FastKeys keeps it quick.
func TestQuotaOf500(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, Options{})
	for i := 0; i < DefaultKeyPairQuota; i++ {
		req := ecs.CreateCreateKeyPairRequest()
		req.RegionId, req.KeyPairName = "eu-central-1", fmt.Sprintf("quota-%03d", i)
		if _, err := e.ecs.CreateKeyPair(req); err != nil {
			t.Fatalf("key %d: %v", i, err)
		}
	}
	before := e.snapshot()
	req := ecs.CreateCreateKeyPairRequest()
	req.RegionId, req.KeyPairName = "eu-central-1", "one-too-many"
	_, err := e.ecs.CreateKeyPair(req)
	wantAPIError(t, err, "QuotaExceed.KeyPair", http.StatusForbidden)
	_, err = e.importKey("eu-central-1", "one-too-many", readFixture(t, "rsa2048.pub"))
	wantAPIError(t, err, "QuotaExceed.KeyPair", http.StatusForbidden)
	e.assertUnchanged(before)
	// Other regions have their own quota.
	e.create("eu-west-1", "elsewhere")
}
