package tools

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
)

func describeKeyPairs(d Deps) Tool {
	return newTool[schema.DescribeKeyPairsInput, schema.DescribeKeyPairsOutput](d, toolSpec[schema.DescribeKeyPairsInput]{
		kind: KindRead, name: "describe_key_pairs", title: "List SSH key pairs",
		about: "List SSH key pairs: name, MD5 fingerprint, creation time, resource group, tags, region, and the public " +
			"key with includePublicKey. keyPairName takes '*' wildcards ('web*'); keyPairFingerPrint finds a known key " +
			"(`ssh-keygen -l -E md5 -f key.pub`), in every region with regionIds: [\"*\"]. includeInstances adds the " +
			"instances carrying each key pair; inUse: false keeps only unused ones. Returns every match that fits one " +
			"result; truncated ones continue with nextToken.",
		subject: func(in *schema.DescribeKeyPairsInput) subject {
			return subject{regions: regionsOf(in.RegionID, in.RegionIDs)}
		},
		run: runDescribeKeyPairs,
	})
}

func runDescribeKeyPairs(ctx context.Context, c *call, in *schema.DescribeKeyPairsInput) (*mcpResult, error) {
	query := *in
	query.NextToken = ""
	key := queryKey("describe_key_pairs", query)
	from, err := readCursor(in.NextToken, key)
	if err != nil {
		return nil, err
	}
	regions, err := c.resolveRegions(ctx, in.RegionID, in.RegionIDs)
	if err != nil {
		return nil, err
	}
	withInstances := in.IncludeInstances || in.InUse != nil
	found := make([][]schema.KeyPair, len(regions))
	apiTotal := 0
	errs := c.eachRegion(ctx, regions, func(ctx context.Context, i int, region string) error {
		q := *in
		q.RegionID, q.RegionIDs, q.NextToken = region, nil, ""
		var keys schema.DescribeKeyPairsOutput
		var insts schema.DescribeInstancesOutput
		err := concurrently(
			func() (err error) {
				keys, err = c.Cloud.DescribeKeyPairs(ctx, q)
				return err
			},
			func() (err error) {
				if withInstances {
					insts, err = c.Cloud.DescribeInstances(ctx, schema.DescribeInstancesInput{RegionID: region})
				}
				return err
			})
		if err != nil {
			return err
		}
		if withInstances {
			keys.KeyPairs = joinInstances(keys.KeyPairs, insts.Instances, in.InUse)
		}
		if in.PageNumber == 0 {
			slices.SortFunc(keys.KeyPairs, func(a, b schema.KeyPair) int { return strings.Compare(a.KeyPairName, b.KeyPairName) })
		} else {
			apiTotal = keys.TotalCount
		}
		found[i] = keys.KeyPairs
		return nil
	})
	if err := commonFailure(errs); err != nil {
		return nil, err
	}

	out := schema.DescribeKeyPairsOutput{KeyPairs: []schema.KeyPair{}}
	var all []schema.KeyPair
	for i, region := range regions {
		if errs[i] != nil {
			out.RegionErrors = append(out.RegionErrors, regionError(region, errs[i]))
			continue
		}
		all = append(all, found[i]...)
	}
	out.TotalCount = len(all)
	if in.PageNumber > 0 {
		out.TotalCount = apiTotal
	}
	rest := afterCursor(all, from, regions)
	lead := keyPairsLead(in, 0, 0)
	n := fit(rest, jsonTokens(out)+estimateTokens(lead)+30)
	out.KeyPairs = append(out.KeyPairs, rest[:n]...)
	if n < len(rest) {
		last := out.KeyPairs[len(out.KeyPairs)-1]
		out.Truncated = true
		if in.PageNumber == 0 {
			out.NextToken = cursor{Query: key, Region: last.RegionID, After: last.KeyPairName}.encode()
		}
		return textResult(keyPairsLead(in, len(out.KeyPairs), len(rest)), out)
	}
	return result(out)
}

// joinInstances adds to each key pair the instances that carry it, and
// keeps, with inUse, only the key pairs in use (true) or unused (false).
func joinInstances(keys []schema.KeyPair, insts []schema.Instance, inUse *bool) []schema.KeyPair {
	carriers := map[string][]string{}
	for _, in := range insts {
		if in.KeyPairName != "" {
			carriers[in.KeyPairName] = append(carriers[in.KeyPairName], in.InstanceID)
		}
	}
	out := keys[:0]
	for _, k := range keys {
		ids := carriers[k.KeyPairName]
		if inUse != nil && *inUse != (len(ids) > 0) {
			continue
		}
		n := len(ids)
		k.InstanceCount, k.InstanceIDs = &n, ids
		out = append(out, k)
	}
	return out
}

// afterCursor returns the items after the cursor's, in the listing's order
// (region by region as given, by name within one).
func afterCursor(all []schema.KeyPair, from *cursor, regions []string) []schema.KeyPair {
	if from == nil {
		return all
	}
	at := slices.Index(regions, from.Region)
	return slices.DeleteFunc(slices.Clone(all), func(k schema.KeyPair) bool {
		i := slices.Index(regions, k.RegionID)
		return i < at || (i == at && k.KeyPairName <= from.After)
	})
}

// keyPairsLead is the line before a truncated listing: how much it holds,
// and how to continue or narrow the question.
func keyPairsLead(in *schema.DescribeKeyPairsInput, shown, left int) string {
	if in.PageNumber > 0 {
		return fmt.Sprintf("Truncated: %d of the %d key pairs of this page fit one result; ask for a smaller pageSize.", shown, left)
	}
	return fmt.Sprintf("Truncated: %d of the %d key pairs left to list fit one result (totalCount counts every match). "+
		"Call again with the same arguments and nextToken "+
		"to continue, or narrow the question: keyPairName (e.g. 'web*'), keyPairFingerPrint, inUse, tags, resourceGroupId, "+
		"fewer regions, or without includePublicKey.", shown, left)
}
