package tools

import (
	"context"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
)

func describeRegions(d Deps) Tool {
	return Tool{
		Definition: define[schema.DescribeRegionsInput, schema.DescribeRegionsOutput](
			"describe_regions", "List ECS regions",
			"List the Alibaba Cloud regions where ECS is offered, with their IDs (e.g. cn-hangzhou). "+
				"Every other tool takes a regionId: key pairs and instances belong to one region.",
			readOnly),
		Handler: handle(func(ctx context.Context, in schema.DescribeRegionsInput) (*mcpResult, error) {
			out, err := d.Cloud.DescribeRegions(ctx)
			if err != nil {
				return nil, err
			}
			return result(out)
		}),
	}
}
