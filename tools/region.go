package tools

import (
	"context"
	"sync"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
)

// regionView is what a preview knows of a region: key pairs and instances,
// read with two requests' worth of waiting however many items a call names
// (the two reads run concurrently, and the cloud client pages and batches
// each concurrently).
type regionView struct {
	keyPairs  map[string]schema.KeyPair
	instances map[string]schema.Instance
	// boundTo maps a key pair name to the instances that carry it, in the
	// order the API lists them. Only loadRegion, which sees every
	// instance, fills it.
	boundTo map[string][]string
}

func newRegionView() *regionView {
	return &regionView{keyPairs: map[string]schema.KeyPair{}, instances: map[string]schema.Instance{}, boundTo: map[string][]string{}}
}

// fingerprint is the named key pair's fingerprint; "" when it does not
// exist.
func (v *regionView) fingerprint(name string) string { return v.keyPairs[name].KeyPairFingerPrint }

// loadRegion reads every key pair and every instance of the region, for
// delete_key_pairs. Both listings are needed in full: DescribeKeyPairs
// takes a single name, so the names to delete cannot be looked up in one
// request, and only the instances say which key pairs are bound.
func loadRegion(ctx context.Context, c *call, region string) (*regionView, error) {
	return loadView(ctx, c, schema.DescribeKeyPairsInput{RegionID: region}, schema.DescribeInstancesInput{RegionID: region})
}

// loadBinding reads what attach and detach need: the key pair, and the
// named instances. That is one exact-name DescribeKeyPairs and
// DescribeInstances by ID (100 per request), one round trip in all, where
// listing the region would take one page of 50 key pairs after another for
// a full region.
func loadBinding(ctx context.Context, c *call, region, keyPairName string, instanceIDs []string) (*regionView, error) {
	return loadView(ctx, c, schema.DescribeKeyPairsInput{RegionID: region, KeyPairName: keyPairName},
		schema.DescribeInstancesInput{RegionID: region, InstanceIDs: instanceIDs})
}

// loadView reads the key pairs and the instances the two inputs ask for,
// concurrently. A key pair name filter keeps only the exact name (the API
// treats '*' as a wildcard); boundTo is filled only from a listing of every
// instance.
func loadView(ctx context.Context, c *call, keysIn schema.DescribeKeyPairsInput, instsIn schema.DescribeInstancesInput) (*regionView, error) {
	var keys schema.DescribeKeyPairsOutput
	var insts schema.DescribeInstancesOutput
	err := concurrently(
		func() (err error) {
			keys, err = c.Cloud.DescribeKeyPairs(ctx, keysIn)
			return err
		},
		func() (err error) {
			insts, err = c.Cloud.DescribeInstances(ctx, instsIn)
			return err
		})
	if err != nil {
		return nil, err
	}
	v := newRegionView()
	for _, k := range keys.KeyPairs {
		if keysIn.KeyPairName == "" || k.KeyPairName == keysIn.KeyPairName {
			v.keyPairs[k.KeyPairName] = k
		}
	}
	for _, in := range insts.Instances {
		v.instances[in.InstanceID] = in
		if in.KeyPairName != "" && instsIn.InstanceIDs == nil {
			v.boundTo[in.KeyPairName] = append(v.boundTo[in.KeyPairName], in.InstanceID)
		}
	}
	return v, nil
}

// concurrently runs the reads at once and returns the first error in
// argument order.
func concurrently(reads ...func() error) error {
	errs := make([]error, len(reads))
	var wg sync.WaitGroup
	for i, read := range reads {
		wg.Go(func() { errs[i] = read() })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
