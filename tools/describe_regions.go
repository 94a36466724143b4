package tools

import (
	"context"
	"slices"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
)

func describeRegions(d Deps) Tool {
	return newTool[schema.DescribeRegionsInput, schema.DescribeRegionsOutput](d, toolSpec[schema.DescribeRegionsInput]{
		kind: KindRead, name: "describe_regions", title: "List ECS regions",
		about: "List the Alibaba Cloud regions where ECS is offered, with their IDs (e.g. cn-hangzhou). " +
			"Every other tool takes a regionId: key pairs and instances belong to one region. When the server " +
			"is limited to some regions, only those are listed.",
		subject: func(*schema.DescribeRegionsInput) subject { return subject{} },
		run: func(ctx context.Context, c *call, _ *schema.DescribeRegionsInput) (*mcpResult, error) {
			out, err := c.Cloud.DescribeRegions(ctx)
			if err != nil {
				return nil, err
			}
			if len(c.Regions) > 0 {
				// The others exist, but this server may not act there.
				out.Regions = slices.DeleteFunc(out.Regions, func(r schema.Region) bool {
					return !slices.Contains(c.Regions, r.RegionID)
				})
			}
			return result(out)
		},
	})
}
