package tools_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud/emulator"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/tools"
)

// seededRegions are the regions of the test world.
func seededRegions(t *testing.T) []string {
	var ids []string
	for _, r := range testSeed(t).Regions {
		ids = append(ids, r.RegionID)
	}
	return ids
}

// "Where is my laptop key?": one call over every region finds the key by
// fingerprint in exactly the regions that have it.
func TestFingerprintInEveryRegion(t *testing.T) {
	t.Parallel()
	h := newHarness(t, false)
	regions := seededRegions(t)
	if len(regions) < 4 {
		t.Fatalf("the test world has %d regions", len(regions))
	}
	have := []string{regions[0], regions[2]}
	for _, r := range have {
		ok[schema.ImportKeyPairOutput](h, "import_key_pair", map[string]any{"regionId": r, "keyPairName": "laptop", "publicKeyBody": fixture(t, "rsa2048.pub")})
	}
	ok[schema.ImportKeyPairOutput](h, "import_key_pair", map[string]any{"regionId": regions[1], "keyPairName": "laptop", "publicKeyBody": fixture(t, "ecdsa256.pub")})
	out, _ := ok[schema.DescribeKeyPairsOutput](h, "describe_key_pairs", map[string]any{"regionIds": []string{"*"}, "keyPairFingerPrint": md5Fixture(t, "rsa2048.md5")})
	var found []string
	for _, k := range out.KeyPairs {
		found = append(found, k.RegionID)
	}
	if !slices.Equal(sorted(found), sorted(have)) || out.TotalCount != 2 || len(out.RegionErrors) != 0 {
		t.Errorf("found in %v (total %d, errors %v), want %v", found, out.TotalCount, out.RegionErrors, have)
	}
}

// failRegion refuses every request for one region, as a RAM policy that
// denies it would.
type failRegion struct {
	emu    http.Handler
	region string
}

func (f failRegion) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	if region := r.Form.Get("RegionId"); region != "" && (region == f.region || f.region == "*") {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(403)
		fmt.Fprint(w, `{"RequestId":"R1","HostId":"ecs","Code":"Forbidden.RAM","Message":"User not authorized to operate on the specified resource.","Recommend":""}`)
		return
	}
	f.emu.ServeHTTP(w, r)
}

// inFlight counts the requests at the emulator at once.
type inFlight struct {
	emu      http.Handler
	mu       sync.Mutex
	now, max int
}

func (f *inFlight) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.now++
	f.max = max(f.max, f.now)
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.now--
		f.mu.Unlock()
	}()
	f.emu.ServeHTTP(w, r)
}

// The regions are served at once, at most 10 requests in flight in all.
func TestRegionsShareOneBound(t *testing.T) {
	t.Parallel()
	var wire *inFlight
	h := newHarnessWith(t, harnessOptions{wire: func(emu http.Handler) http.Handler {
		wire = &inFlight{emu: emu}
		return wire
	}})
	regions := seededRegions(t)
	if len(regions) <= 10 {
		t.Fatalf("the test world has %d regions; the bound needs more", len(regions))
	}
	h.emu.SetFaults(emulator.FaultPlan{PerAction: map[string]emulator.Faults{"DescribeKeyPairs": {Latency: 50 * time.Millisecond}}})
	ok[schema.DescribeKeyPairsOutput](h, "describe_key_pairs", map[string]any{"regionIds": regions})
	if wire.max > 10 || wire.max < 5 {
		t.Errorf("%d requests in flight at most over %d regions, want 5 to 10", wire.max, len(regions))
	}
}

// A region that fails is reported beside the others' results, which are
// kept.
func TestOneRegionFails(t *testing.T) {
	t.Parallel()
	regions := seededRegions(t)
	bad := regions[1]
	h := newHarnessWith(t, harnessOptions{wire: func(emu http.Handler) http.Handler { return failRegion{emu, bad} }})
	for _, r := range []string{regions[0], regions[2]} {
		h.importKey(r, "everywhere")
	}
	out, _ := ok[schema.DescribeKeyPairsOutput](h, "describe_key_pairs", map[string]any{"regionIds": regions, "keyPairName": "everywhere"})
	if out.TotalCount != 2 || len(out.RegionErrors) != 1 || out.RegionErrors[0].RegionID != bad || out.RegionErrors[0].Code != "Forbidden.RAM" {
		t.Errorf("total %d, region errors %+v; want 2 key pairs and %s's error", out.TotalCount, out.RegionErrors, bad)
	}
}

// When every region fails the same way, that is the call's error.
func TestEveryRegionFails(t *testing.T) {
	t.Parallel()
	regions := seededRegions(t)
	h := newHarnessWith(t, harnessOptions{wire: func(emu http.Handler) http.Handler { return failRegion{emu, "*"} }})
	h.fails("describe_key_pairs", map[string]any{"regionIds": regions[:3]}, "Forbidden.RAM")
	h.fails("import_key_pair", map[string]any{"regionIds": regions[:3], "keyPairName": "kk", "publicKeyBody": fixture(t, "rsa2048.pub")}, "Forbidden.RAM")
}

// "Import my key into every region", then again: the second run changes
// nothing and says so, region by region.
func TestImportIntoSeveralRegions(t *testing.T) {
	t.Parallel()
	h := newHarness(t, false)
	regions := seededRegions(t)
	// One region has another key under the name already.
	ok[schema.ImportKeyPairOutput](h, "import_key_pair", map[string]any{"regionId": regions[3], "keyPairName": "laptop", "publicKeyBody": fixture(t, "ecdsa256.pub")})
	args := map[string]any{"regionIds": []string{"*"}, "keyPairName": "laptop", "publicKeyBody": fixture(t, "rsa2048.pub")}
	outcomes := func(out schema.ImportKeyPairOutput) map[string]string {
		m := map[string]string{}
		for _, r := range out.Regions {
			m[r.RegionID] = r.Outcome
		}
		return m
	}
	first, text := ok[schema.ImportKeyPairOutput](h, "import_key_pair", args)
	want := map[string]string{}
	for _, r := range regions {
		want[r] = "imported"
	}
	want[regions[3]] = "failed"
	if got := outcomes(first); !maps.Equal(got, want) || first.KeyPairFingerPrint != md5Fixture(t, "rsa2048.md5") {
		t.Errorf("first run: %v, want %v", got, want)
	}
	if !strings.Contains(text, fmt.Sprintf("imported into %d of %d region(s); 1 failed", len(regions)-1, len(regions))) {
		t.Errorf("summary %q", text)
	}
	for _, r := range first.Regions {
		if r.RegionID == regions[3] && (r.Code != "KeyPair.AlreadyExist" || !strings.Contains(r.Message, "another public key")) {
			t.Errorf("the taken region: %+v", r)
		}
	}
	before := h.snapshot()
	second, _ := ok[schema.ImportKeyPairOutput](h, "import_key_pair", args)
	for r := range want {
		if r != regions[3] {
			want[r] = "exists"
		}
	}
	if got := outcomes(second); !maps.Equal(got, want) {
		t.Errorf("second run: %v, want %v", got, want)
	}
	if len(h.snapshot().KeyPairs) != len(before.KeyPairs) {
		t.Error("the second run changed the cloud")
	}
}

// ["*"] means every region the server may act in, not every region there
// is.
func TestAllRegionsWithinTheAllowList(t *testing.T) {
	t.Parallel()
	regions := seededRegions(t)
	allowed := []string{regions[0], regions[2]}
	h := newHarnessWith(t, harnessOptions{deps: func(d *tools.Deps) { d.Regions = allowed }})
	for _, r := range allowed {
		h.importKey(r, "kk")
	}
	out, _ := ok[schema.DescribeKeyPairsOutput](h, "describe_key_pairs", map[string]any{"regionIds": []string{"*"}})
	var got []string
	for _, k := range out.KeyPairs {
		got = append(got, k.RegionID)
	}
	if !slices.Equal(sorted(got), sorted(allowed)) {
		t.Errorf("listed regions %v, want %v", got, allowed)
	}
	h.fails("describe_key_pairs", map[string]any{"regionIds": []string{regions[0], regions[1]}}, "Forbidden.Region")
	imp, _ := ok[schema.ImportKeyPairOutput](h, "import_key_pair", map[string]any{"regionIds": []string{"*"}, "keyPairName": "laptop", "publicKeyBody": fixture(t, "rsa2048.pub")})
	if len(imp.Regions) != len(allowed) {
		t.Errorf("imported into %+v, want only %v", imp.Regions, allowed)
	}
}

// "Which key pairs are unused?": key pairs joined with the instances that
// carry them, in one call.
func TestKeyPairsInUse(t *testing.T) {
	t.Parallel()
	h := newHarness(t, false)
	for _, name := range []string{"used", "spare", "also-used"} {
		h.importKey("cn-hangzhou", name)
	}
	web, db := h.instanceID("web-prod-01"), h.instanceID("web-prod-02")
	for id, key := range map[string]string{web: "used", db: "also-used"} {
		ok[schema.BindKeyPairOutput](h, "attach_key_pair", map[string]any{"regionId": "cn-hangzhou", "keyPairName": key, "instanceIds": []string{id}, "confirm": true})
	}
	names := func(out schema.DescribeKeyPairsOutput) []string {
		var n []string
		for _, k := range out.KeyPairs {
			n = append(n, k.KeyPairName)
		}
		return n
	}
	unused, _ := ok[schema.DescribeKeyPairsOutput](h, "describe_key_pairs", map[string]any{"regionId": "cn-hangzhou", "inUse": false})
	if got := names(unused); !slices.Equal(got, []string{"spare"}) || *unused.KeyPairs[0].InstanceCount != 0 || unused.TotalCount != 1 {
		t.Errorf("unused: %v (total %d)", got, unused.TotalCount)
	}
	used, _ := ok[schema.DescribeKeyPairsOutput](h, "describe_key_pairs", map[string]any{"regionId": "cn-hangzhou", "inUse": true})
	if got := names(used); !slices.Equal(got, []string{"also-used", "used"}) {
		t.Errorf("in use: %v", got)
	}
	all, _ := ok[schema.DescribeKeyPairsOutput](h, "describe_key_pairs", map[string]any{"regionId": "cn-hangzhou", "includeInstances": true})
	for _, k := range all.KeyPairs {
		want := map[string][]string{"used": {web}, "also-used": {db}, "spare": nil}[k.KeyPairName]
		if k.InstanceCount == nil || *k.InstanceCount != len(want) || !slices.Equal(k.InstanceIDs, want) {
			t.Errorf("%s: count %v, instances %v; want %v", k.KeyPairName, k.InstanceCount, k.InstanceIDs, want)
		}
	}
	plain, _ := ok[schema.DescribeKeyPairsOutput](h, "describe_key_pairs", map[string]any{"regionId": "cn-hangzhou"})
	if plain.KeyPairs[0].InstanceCount != nil {
		t.Error("instances without includeInstances")
	}
	h.fails("describe_key_pairs", map[string]any{"regionId": "cn-hangzhou", "inUse": false, "pageNumber": 1, "pageSize": 10}, "InvalidParameter")
}

// A region at its quota does not fit one result: what fits comes back,
// truncated, and following nextToken yields every key pair exactly once.
// Each result stays within the budget by the server's own estimate (the
// e2e suite checks the real tokenizer's count).
func TestListingsFollowNextToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t, false)
	const region = "eu-central-1"
	if _, _, err := h.emu.Populate(region, 500, 1000); err != nil {
		t.Fatal(err)
	}
	instances := 0 // 1,000, and the test world's own
	for _, in := range h.snapshot().Instances {
		if in.RegionID == region {
			instances++
		}
	}
	for _, tc := range []struct {
		tool string
		args map[string]any
		want int
	}{
		{"describe_key_pairs", map[string]any{"regionId": region}, 500},
		{"describe_key_pairs", map[string]any{"regionId": region, "includePublicKey": true}, 500},
		{"describe_instances", map[string]any{"regionId": region}, instances},
	} {
		seen := map[string]int{}
		calls := 0
		for token := ""; ; calls++ {
			args := map[string]any{}
			for k, v := range tc.args {
				args[k] = v
			}
			if token != "" {
				args["nextToken"] = token
			}
			text, structured, isError := h.call(tc.tool, args)
			if isError {
				t.Fatalf("%s %v: %s", tc.tool, args, text)
			}
			if len(text) > 3*25_000 {
				t.Errorf("%s: a result of %d characters", tc.tool, len(text))
			}
			var page struct {
				TotalCount int
				Truncated  bool
				NextToken  string
				KeyPairs   []struct{ KeyPairName string }
				Instances  []struct{ InstanceID string }
			}
			json.Unmarshal(structured, &page)
			if page.TotalCount != tc.want {
				t.Errorf("%s: totalCount %d, want %d", tc.tool, page.TotalCount, tc.want)
			}
			for _, k := range page.KeyPairs {
				seen[k.KeyPairName]++
			}
			for _, in := range page.Instances {
				seen[in.InstanceID]++
			}
			if page.Truncated != (page.NextToken != "") || (page.Truncated && !strings.HasPrefix(text, "Truncated: ")) {
				t.Fatalf("%s: truncated %v, nextToken %q, text %.80q", tc.tool, page.Truncated, page.NextToken, text)
			}
			if !page.Truncated {
				break
			}
			token = page.NextToken
		}
		t.Logf("%s %v: %d items in %d results", tc.tool, tc.args, len(seen), calls+1)
		if len(seen) != tc.want || calls == 0 {
			t.Errorf("%s %v: %d distinct items in %d calls, want %d in more than one", tc.tool, tc.args, len(seen), calls+1, tc.want)
		}
		for item, n := range seen {
			if n != 1 {
				t.Errorf("%s: %s listed %d times", tc.tool, item, n)
			}
		}
	}
	// A token continues only the listing it came from.
	_, structured, _ := h.call("describe_key_pairs", map[string]any{"regionId": region})
	var page struct{ NextToken string }
	json.Unmarshal(structured, &page)
	h.fails("describe_key_pairs", map[string]any{"regionId": region, "keyPairName": "bulk-*", "nextToken": page.NextToken}, "InvalidParameter.NextToken")
	h.fails("describe_key_pairs", map[string]any{"regionId": region, "nextToken": "not-a-token"}, "InvalidParameter.NextToken")
}
