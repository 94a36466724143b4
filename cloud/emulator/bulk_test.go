package emulator

import (
	"slices"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
)

func TestPopulate(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, Options{})
	e := env.emu
	names, ids, err := e.Populate("cn-hangzhou", 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"bulk-0001", "bulk-0002", "bulk-0003"}; !slices.Equal(names, want) {
		t.Errorf("names = %v, want %v", names, want)
	}
	if want := []string{"i-bulk000001", "i-bulk000002"}; !slices.Equal(ids, want) {
		t.Errorf("ids = %v, want %v", ids, want)
	}
	snap, err := e.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	prints := map[string]bool{}
	for _, kp := range snap.KeyPairs {
		if kp.RegionID != "cn-hangzhou" || kp.FingerPrint == "" || kp.ResourceGroupID == "" {
			t.Errorf("key pair %+v: want region, fingerprint and resource group", kp)
		}
		prints[kp.FingerPrint] = true
	}
	if len(snap.KeyPairs) != 3 || len(prints) != 3 {
		t.Errorf("%d key pairs with %d distinct fingerprints, want 3 and 3", len(snap.KeyPairs), len(prints))
	}
	// The API sees them.
	kreq := ecs.CreateDescribeKeyPairsRequest()
	kreq.RegionId = "cn-hangzhou"
	kresp, err := env.ecs.DescribeKeyPairs(kreq)
	if err != nil || kresp.TotalCount != 3 {
		t.Errorf("DescribeKeyPairs: TotalCount %v, err %v; want 3", kresp.TotalCount, err)
	}
	ireq := ecs.CreateDescribeInstancesRequest()
	ireq.RegionId = "cn-hangzhou"
	ireq.InstanceIds = `["i-bulk000001","i-bulk000002"]`
	iresp, err := env.ecs.DescribeInstances(ireq)
	if err != nil || iresp.TotalCount != 2 || iresp.Instances.Instance[0].Status != "Running" {
		t.Errorf("DescribeInstances: %+v, err %v; want 2 Running instances", iresp, err)
	}
	// What Populate makes must pass the seed's own checks.
	if err := (&Seed{Regions: snap.Regions, ResourceGroups: snap.ResourceGroups, Instances: snap.Instances}).check(); err != nil {
		t.Errorf("populated instances fail the seed checks: %v", err)
	}

	// Nothing changes when any part is refused.
	for _, c := range []struct {
		region      string
		keys, nodes int
	}{
		{"cn-hangzhou", 1, 0},                       // bulk-0001 exists
		{"cn-hangzhou", 0, 1},                       // i-bulk000001 exists
		{"mars-north-1", 1, 0},                      // no such region
		{"cn-shanghai", DefaultKeyPairQuota + 1, 0}, // over the quota
	} {
		if _, _, err := e.Populate(c.region, c.keys, c.nodes); err == nil {
			t.Errorf("Populate(%s, %d, %d): want an error", c.region, c.keys, c.nodes)
		}
	}
	after, err := e.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if len(after.KeyPairs) != 3 || len(after.Instances) != len(snap.Instances) {
		t.Errorf("a refused Populate changed the state")
	}
}
