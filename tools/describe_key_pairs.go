package tools

import (
	"context"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
)

func describeKeyPairs(d Deps) Tool {
	return Tool{
		Definition: define[schema.DescribeKeyPairsInput, schema.DescribeKeyPairsOutput](
			"describe_key_pairs", "List SSH key pairs",
			"List the SSH key pairs of a region: name, MD5 fingerprint, creation time, resource group, tags, "+
				"and the public key when includePublicKey is true. keyPairName accepts '*' wildcards "+
				"(e.g. 'web*'); keyPairFingerPrint finds the key pair of a known key (compare with "+
				"`ssh-keygen -l -E md5 -f key.pub`). Without pageNumber and pageSize it returns every match. "+
				"To see which instances use a key pair, call describe_instances with keyPairName.",
			readOnly),
		Handler: handle(func(ctx context.Context, in schema.DescribeKeyPairsInput) (*mcpResult, error) {
			out, err := d.Cloud.DescribeKeyPairs(ctx, in)
			if err != nil {
				return nil, err
			}
			return result(out)
		}),
	}
}
