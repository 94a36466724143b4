package tools

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
)

func describeInstances(d Deps) Tool {
	return newTool[schema.DescribeInstancesInput, schema.DescribeInstancesOutput](d, toolSpec[schema.DescribeInstancesInput]{
		kind: KindRead, name: "describe_instances", title: "List ECS instances",
		about: "List ECS instances in a region with their status, OS type and the key pair each carries. " +
			"Use it to find the instances to attach a key pair to, to see which instances use a key pair " +
			"(keyPairName filter) before deleting or rotating it, and to check the OS: Windows instances " +
			"cannot use SSH key pairs. Returns every match that fits one result; truncated ones continue with nextToken.",
		subject: func(in *schema.DescribeInstancesInput) subject { return subject{regions: []string{in.RegionID}} },
		run:     runDescribeInstances,
	})
}

func runDescribeInstances(ctx context.Context, c *call, in *schema.DescribeInstancesInput) (*mcpResult, error) {
	query := *in
	query.NextToken = ""
	key := queryKey("describe_instances", query)
	from, err := readCursor(in.NextToken, key)
	if err != nil {
		return nil, err
	}
	out, err := c.Cloud.DescribeInstances(ctx, query)
	if err != nil {
		return nil, err
	}
	all := out.Instances
	if in.PageNumber == 0 {
		// A stable order, so that nextToken continues where it stopped.
		slices.SortFunc(all, func(a, b schema.Instance) int { return strings.Compare(a.InstanceID, b.InstanceID) })
	}
	rest := all
	if from != nil {
		// After the instance the listing stopped at, also when it is gone.
		rest = slices.DeleteFunc(slices.Clone(all), func(x schema.Instance) bool { return x.InstanceID <= from.After })
	}
	out.Instances = []schema.Instance{}
	n := fit(rest, jsonTokens(out)+estimateTokens(instancesLead(in, 0, 0))+30)
	out.Instances = append(out.Instances, rest[:n]...)
	if n == len(rest) {
		return result(out)
	}
	out.Truncated = true
	if in.PageNumber == 0 {
		out.NextToken = cursor{Query: key, After: out.Instances[len(out.Instances)-1].InstanceID}.encode()
	}
	return textResult(instancesLead(in, len(out.Instances), len(rest)), out)
}

// instancesLead is the line before a truncated listing.
func instancesLead(in *schema.DescribeInstancesInput, shown, left int) string {
	if in.PageNumber > 0 {
		return fmt.Sprintf("Truncated: %d of the %d instances of this page fit one result; ask for a smaller pageSize.", shown, left)
	}
	return fmt.Sprintf("Truncated: %d of the %d instances left to list fit one result (totalCount counts every match). "+
		"Call again with the same arguments and nextToken to continue, or narrow the question: keyPairName, status, "+
		"or instanceIds.", shown, left)
}
