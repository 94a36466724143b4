package tools

import (
	"context"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
)

func describeInstances(d Deps) Tool {
	return Tool{
		Definition: define[schema.DescribeInstancesInput, schema.DescribeInstancesOutput](
			"describe_instances", "List ECS instances",
			"List ECS instances in a region with their status, OS type and the key pair each carries. "+
				"Use it to find the instances to attach a key pair to, to see which instances use a key pair "+
				"(keyPairName filter) before deleting or rotating it, and to check the OS: Windows instances "+
				"cannot use SSH key pairs. Without pageNumber and pageSize it returns every match.",
			readOnly),
		Handler: handle(func(ctx context.Context, in schema.DescribeInstancesInput) (*mcpResult, error) {
			out, err := d.Cloud.DescribeInstances(ctx, in)
			if err != nil {
				return nil, err
			}
			return result(out)
		}),
	}
}
