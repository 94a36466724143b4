package tools

import (
	"context"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
)

func describeInstances(d Deps) Tool {
	return newTool[schema.DescribeInstancesInput, schema.DescribeInstancesOutput](d, toolSpec[schema.DescribeInstancesInput]{
		kind: KindRead, name: "describe_instances", title: "List ECS instances",
		about: "List ECS instances in a region with their status, OS type and the key pair each carries. " +
			"Use it to find the instances to attach a key pair to, to see which instances use a key pair " +
			"(keyPairName filter) before deleting or rotating it, and to check the OS: Windows instances " +
			"cannot use SSH key pairs. Without pageNumber and pageSize it returns every match.",
		subject: func(in *schema.DescribeInstancesInput) subject { return subject{regions: []string{in.RegionID}} },
		run: func(ctx context.Context, c *call, in *schema.DescribeInstancesInput) (*mcpResult, error) {
			out, err := c.Cloud.DescribeInstances(ctx, *in)
			if err != nil {
				return nil, err
			}
			return result(out)
		},
	})
}
