package cloud

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
)

// regionCache is the region list as DescribeRegions last said it.
type regionCache struct {
	mu  sync.Mutex
	ids []string
}

// RegionIDs returns the IDs of the regions ECS offers, from the list this
// client read last, or, when it has none, from DescribeRegions. Regions
// change rarely; ForgetRegions after a region turned out unknown.
func (c *Client) RegionIDs(ctx context.Context) ([]string, error) {
	c.regions.mu.Lock()
	ids := c.regions.ids
	c.regions.mu.Unlock()
	if ids == nil {
		out, err := c.describeRegions(ctx)
		if err != nil {
			return nil, err
		}
		ids = c.keepRegions(out)
	}
	// The cached list is replaced, never changed in place: a copy of it is
	// the caller's to change.
	return slices.Clone(ids), nil
}

// ForgetRegions drops the cached region list: the next RegionIDs reads it
// again.
func (c *Client) ForgetRegions() {
	c.regions.mu.Lock()
	c.regions.ids = nil
	c.regions.mu.Unlock()
}

// DescribeRegions lists the regions ECS offers, with English names, and
// keeps their IDs for RegionIDs.
func (c *Client) DescribeRegions(ctx context.Context) (schema.DescribeRegionsOutput, error) {
	out, err := c.describeRegions(ctx)
	if err == nil {
		c.keepRegions(out)
	}
	return out, err
}

// keepRegions caches the IDs of the regions in out, and returns them.
func (c *Client) keepRegions(out schema.DescribeRegionsOutput) []string {
	ids := make([]string, len(out.Regions))
	for i, r := range out.Regions {
		ids[i] = r.RegionID
	}
	c.regions.mu.Lock()
	c.regions.ids = ids
	c.regions.mu.Unlock()
	return ids
}

func (c *Client) describeRegions(ctx context.Context) (schema.DescribeRegionsOutput, error) {
	const action = "DescribeRegions"
	req := ecs.CreateDescribeRegionsRequest()
	req.AcceptLanguage = "en-US"
	return send(ctx, c, idempotent, action, "", req, func(cl *ecs.Client) (schema.DescribeRegionsOutput, string, error) {
		resp, err := cl.DescribeRegions(req)
		if err != nil {
			return schema.DescribeRegionsOutput{}, "", err
		}
		out := schema.DescribeRegionsOutput{Regions: make([]schema.Region, 0, len(resp.Regions.Region))}
		for _, r := range resp.Regions.Region {
			out.Regions = append(out.Regions, schema.Region{
				RegionID:       r.RegionId,
				LocalName:      r.LocalName,
				RegionEndpoint: r.RegionEndpoint,
				Status:         r.Status,
			})
		}
		return out, resp.RequestId, nil
	})
}

// DescribeInstances lists instances. Without PageNumber and PageSize it
// returns every match: the first page of 100, then the other pages
// concurrently, in the API's order; more than 100 InstanceIDs are split into
// batches of 100 and the instances come back in the order of InstanceIDs.
// With PageNumber or PageSize it returns that one page and the true
// TotalCount (at most 100 InstanceIDs then).
func (c *Client) DescribeInstances(ctx context.Context, in schema.DescribeInstancesInput) (schema.DescribeInstancesOutput, error) {
	const action = "DescribeInstances"
	if err := requireRegion(action, in.RegionID); err != nil {
		return schema.DescribeInstancesOutput{}, err
	}
	paged := in.PageNumber > 0 || in.PageSize > 0
	if paged && len(in.InstanceIDs) > schema.DescribeInstancesIDsBatch {
		return schema.DescribeInstancesOutput{}, &Error{Code: CodeInvalidParameter, Action: action,
			Message: fmt.Sprintf("instanceIds: at most %d IDs with pageNumber/pageSize (%d given); omit paging to look up more", schema.DescribeInstancesIDsBatch, len(in.InstanceIDs))}
	}
	page := func(ids []string, number, size int) (*ecs.DescribeInstancesResponse, error) {
		req := ecs.CreateDescribeInstancesRequest()
		req.RegionId = in.RegionID
		req.KeyPairName = in.KeyPairName
		req.Status = in.Status
		if len(ids) > 0 {
			req.InstanceIds = jsonArray(ids)
		}
		if number > 0 {
			req.PageNumber = requests.NewInteger(number)
		}
		if size > 0 {
			req.PageSize = requests.NewInteger(size)
		}
		return send(ctx, c, idempotent, action, in.RegionID, req, func(cl *ecs.Client) (*ecs.DescribeInstancesResponse, string, error) {
			r, err := cl.DescribeInstances(req)
			if err != nil {
				return nil, "", err
			}
			return r, r.RequestId, nil
		})
	}

	out := schema.DescribeInstancesOutput{Instances: []schema.Instance{}}
	if paged {
		resp, err := page(in.InstanceIDs, in.PageNumber, in.PageSize)
		if err != nil {
			return schema.DescribeInstancesOutput{}, err
		}
		out.TotalCount = resp.TotalCount
		for _, inst := range resp.Instances.Instance {
			out.Instances = append(out.Instances, instanceFromAPI(inst))
		}
		return out, nil
	}

	all := func(ids []string) ([]ecs.Instance, error) {
		return allPages(ctx, c, action, in.RegionID, listingKey(action, in.RegionID, in.KeyPairName, in.Status, ids), schema.DescribeInstancesPageSize, func(number int) ([]ecs.Instance, int, error) {
			resp, err := page(ids, number, schema.DescribeInstancesPageSize)
			if err != nil {
				return nil, 0, err
			}
			return resp.Instances.Instance, resp.TotalCount, nil
		})
	}
	var found []ecs.Instance
	if len(in.InstanceIDs) <= schema.DescribeInstancesIDsBatch {
		var err error
		if found, err = all(in.InstanceIDs); err != nil {
			return schema.DescribeInstancesOutput{}, err
		}
	} else {
		batches := chunk(in.InstanceIDs, schema.DescribeInstancesIDsBatch)
		results := make([][]ecs.Instance, len(batches))
		errs := make([]error, len(batches))
		c.forEach(len(batches), func(i int) {
			results[i], errs[i] = all(batches[i])
		})
		for i := range batches {
			if errs[i] != nil {
				return schema.DescribeInstancesOutput{}, errs[i]
			}
			found = append(found, results[i]...)
		}
	}
	seen := map[string]bool{}
	for _, inst := range found {
		if seen[inst.InstanceId] {
			continue
		}
		seen[inst.InstanceId] = true
		out.Instances = append(out.Instances, instanceFromAPI(inst))
	}
	if len(in.InstanceIDs) > 0 {
		// The caller's order, which is what they will compare against.
		pos := make(map[string]int, len(in.InstanceIDs))
		for i, id := range in.InstanceIDs {
			if _, dup := pos[id]; !dup {
				pos[id] = i
			}
		}
		slices.SortStableFunc(out.Instances, func(a, b schema.Instance) int {
			return pos[a.InstanceID] - pos[b.InstanceID]
		})
	}
	out.TotalCount = len(out.Instances)
	return out, nil
}

func instanceFromAPI(i ecs.Instance) schema.Instance {
	os := i.OSType
	if os == "" {
		os = i.OsType
	}
	return schema.Instance{
		InstanceID:   i.InstanceId,
		InstanceName: i.InstanceName,
		Status:       i.Status,
		OSType:       os,
		KeyPairName:  i.KeyPairName,
		RegionID:     i.RegionId,
		ZoneID:       i.ZoneId,
	}
}
