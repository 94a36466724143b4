package tools

import (
	"context"
	"slices"
	"sync"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
)

// Many regions.
//
// describe_key_pairs and import_key_pair take regionIds instead of
// regionId: a list, or ["*"] for every region describe_regions lists
// (within --regions). The regions are served at once; the cloud client
// bounds the requests in flight for all of them together.

// regionsOf is what a call with regionId or regionIds is about, for the
// region check: ["*"] is within the allow-list by definition.
func regionsOf(regionID string, regionIDs []string) []string {
	switch {
	case regionIDs == nil:
		return []string{regionID}
	case slices.Equal(regionIDs, []string{schema.AllRegions}):
		return nil
	}
	return regionIDs
}

// resolveRegions returns the regions a call acts in, in order: regionId,
// the regionIds given, or for ["*"] every region the cloud offers that the
// server may act in.
func (c *call) resolveRegions(ctx context.Context, regionID string, regionIDs []string) ([]string, error) {
	if regionIDs == nil {
		return []string{regionID}, nil
	}
	if !slices.Equal(regionIDs, []string{schema.AllRegions}) {
		return regionIDs, nil
	}
	ids, err := c.Cloud.RegionIDs(ctx)
	if err != nil {
		return nil, err
	}
	if len(c.Regions) > 0 {
		ids = slices.DeleteFunc(ids, func(id string) bool { return !slices.Contains(c.Regions, id) })
	}
	return ids, nil
}

// regionRequests bounds the requests in flight of a call over several
// regions, all regions together.
const regionRequests = 10

// eachRegion runs fn for every region at once, with at most regionRequests
// requests in flight in all, and returns each region's error, in order. A
// region the cloud does not know makes the next ["*"] read the region list
// again.
func (c *call) eachRegion(ctx context.Context, regions []string, fn func(ctx context.Context, i int, region string) error) []error {
	if len(regions) > 1 {
		ctx = cloud.WithRequestLimit(ctx, regionRequests)
	}
	errs := make([]error, len(regions))
	var wg sync.WaitGroup
	for i, r := range regions {
		wg.Go(func() { errs[i] = fn(ctx, i, r) })
	}
	wg.Wait()
	for _, err := range errs {
		if errorCode(err) == "InvalidRegionId.NotFound" {
			c.Cloud.ForgetRegions()
			break
		}
	}
	return errs
}

// regionError is a region's failure as a listing reports it.
func regionError(region string, err error) schema.RegionError {
	return schema.RegionError{RegionID: region, Code: errorCode(err), Message: itemFailure(err)}
}

// commonFailure returns the error of a call whose every region failed the
// same way (no credentials, no network): that is the call's error, not a
// region's. It returns nil when a region succeeded, or they failed
// differently.
func commonFailure(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	for _, err := range errs {
		if err == nil || errorCode(err) != errorCode(errs[0]) {
			return nil
		}
	}
	return errs[0]
}
