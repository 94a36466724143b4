package tools

import (
	"context"
	"slices"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
)

func describeRegions(d Deps) Tool {
	return Tool{
		Definition: define[schema.DescribeRegionsInput, schema.DescribeRegionsOutput](
			"describe_regions", "List ECS regions",
			"List the Alibaba Cloud regions where ECS is offered, with their IDs (e.g. cn-hangzhou). "+
				"Every other tool takes a regionId: key pairs and instances belong to one region. When the server "+
				"is limited to some regions, only those are listed.",
			readOnly),
		Handler: handle(func(ctx context.Context, in schema.DescribeRegionsInput) (*mcpResult, error) {
			out, err := d.Cloud.DescribeRegions(ctx)
			if err != nil {
				return nil, err
			}
			if len(d.Regions) > 0 {
				// The others exist, but this server may not act there.
				out.Regions = slices.DeleteFunc(out.Regions, func(r schema.Region) bool {
					return !slices.Contains(d.Regions, r.RegionID)
				})
			}
			return result(out)
		}),
	}
}
