package tools

import (
	"context"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
)

func describeKeyPairs(d Deps) Tool {
	return newTool[schema.DescribeKeyPairsInput, schema.DescribeKeyPairsOutput](d, toolSpec[schema.DescribeKeyPairsInput]{
		kind: KindRead, name: "describe_key_pairs", title: "List SSH key pairs",
		about: "List the SSH key pairs of a region: name, MD5 fingerprint, creation time, resource group, tags, " +
			"and the public key when includePublicKey is true. keyPairName accepts '*' wildcards " +
			"(e.g. 'web*'); keyPairFingerPrint finds the key pair of a known key (compare with " +
			"`ssh-keygen -l -E md5 -f key.pub`). Without pageNumber and pageSize it returns every match. " +
			"To see which instances use a key pair, call describe_instances with keyPairName.",
		subject: func(in *schema.DescribeKeyPairsInput) subject { return subject{regions: []string{in.RegionID}} },
		run: func(ctx context.Context, c *call, in *schema.DescribeKeyPairsInput) (*mcpResult, error) {
			out, err := c.Cloud.DescribeKeyPairs(ctx, *in)
			if err != nil {
				return nil, err
			}
			return result(out)
		},
	})
}
