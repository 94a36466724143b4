package tools

import (
	"context"
	"sync"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
)

// regionView is what previews need to know of a region: its key pairs and
// its instances, read with two listings (paged concurrently by the cloud
// client) whatever the number of items a call names.
type regionView struct {
	keyPairs  map[string]bool
	instances map[string]schema.Instance
	// boundTo maps a key pair name to the instances that carry it, in the
	// order the API lists them.
	boundTo map[string][]string
}

func loadRegion(ctx context.Context, d Deps, region string) (*regionView, error) {
	v := &regionView{keyPairs: map[string]bool{}, instances: map[string]schema.Instance{}, boundTo: map[string][]string{}}
	var keys schema.DescribeKeyPairsOutput
	var insts schema.DescribeInstancesOutput
	var keysErr, instsErr error
	var wg sync.WaitGroup
	wg.Go(func() { keys, keysErr = d.Cloud.DescribeKeyPairs(ctx, schema.DescribeKeyPairsInput{RegionID: region}) })
	wg.Go(func() {
		insts, instsErr = d.Cloud.DescribeInstances(ctx, schema.DescribeInstancesInput{RegionID: region})
	})
	wg.Wait()
	if err := firstError(keysErr, instsErr); err != nil {
		return nil, err
	}
	for _, k := range keys.KeyPairs {
		v.keyPairs[k.KeyPairName] = true
	}
	for _, in := range insts.Instances {
		v.instances[in.InstanceID] = in
		if in.KeyPairName != "" {
			v.boundTo[in.KeyPairName] = append(v.boundTo[in.KeyPairName], in.InstanceID)
		}
	}
	return v, nil
}

// firstError returns the first non-nil error, keeping its type for
// errorResult (errors.Join would hide a cloud error's code).
func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
