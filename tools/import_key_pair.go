package tools

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
)

func importKeyPair(d Deps) Tool {
	return newTool[schema.ImportKeyPairInput, schema.ImportKeyPairOutput](d, toolSpec[schema.ImportKeyPairInput]{
		kind: KindWrite, name: "import_key_pair", title: "Import an SSH public key",
		about: "Import an existing SSH public key (the contents of a .pub file, e.g. ~/.ssh/id_rsa.pub) as a key pair, " +
			"so that it can be attached to instances; into several regions at once with regionIds (or [\"*\"] for all). " +
			"Only the public key is sent; never pass a private key. ECS accepts ssh-rsa, ssh-dss and " +
			"ecdsa-sha2-nistp256/384/521 keys, not ssh-ed25519. Names are unique per region; a region holds at most " +
			strconv.Itoa(schema.KeyPairQuota) + " key pairs. Check the fingerprint with `ssh-keygen -l -E md5 -f key.pub`.",
		subject: func(in *schema.ImportKeyPairInput) subject {
			return subject{regions: regionsOf(in.RegionID, in.RegionIDs), items: []string{in.KeyPairName}, attempt: true}
		},
		run: runImportKeyPair,
	})
}

func runImportKeyPair(ctx context.Context, c *call, in *schema.ImportKeyPairInput) (*mcpResult, error) {
	if in.RegionIDs == nil {
		return importOne(ctx, c, in)
	}
	regions, err := c.resolveRegions(ctx, in.RegionID, in.RegionIDs)
	if err != nil {
		return nil, err
	}
	want, _ := cloud.Fingerprint(in.PublicKeyBody) // validated: it parses
	out := schema.ImportKeyPairOutput{KeyPairName: in.KeyPairName, KeyPairFingerPrint: want, Regions: make([]schema.ImportRegionOutcome, len(regions))}
	// Every intent is on record before any region is sent anything.
	for _, region := range regions {
		if err := c.trail.intent(AuditEntry{Region: region, Items: []string{in.KeyPairName}}); err != nil {
			return nil, err
		}
	}
	errs := c.eachRegion(ctx, regions, func(ctx context.Context, i int, region string) error {
		one := *in
		one.RegionID, one.RegionIDs = region, nil
		o := schema.ImportRegionOutcome{RegionID: region}
		got, err := c.Cloud.ImportKeyPair(ctx, one)
		switch {
		case err == nil:
			o.Outcome, o.KeyPairFingerPrint, o.RequestID = "imported", got.KeyPairFingerPrint, got.RequestID
		case errorCode(err) == "KeyPair.AlreadyExist":
			o = importedBefore(ctx, c, region, in.KeyPairName, want, err)
		default:
			o.Outcome, o.Code, o.Message = "failed", errorCode(err), itemFailure(err)
		}
		out.Regions[i] = o
		fate := AuditEntry{Region: region, Items: []string{in.KeyPairName}, KeyPairFingerPrint: o.KeyPairFingerPrint,
			Executed: o.Outcome == "imported", Error: o.Code, Outcomes: []AuditOutcome{{Item: in.KeyPairName, Outcome: o.Outcome, Code: o.Code}}}
		if o.RequestID != "" {
			fate.RequestIDs = []string{o.RequestID}
		}
		c.trail.outcome(fate)
		if o.Outcome == "failed" {
			return err
		}
		return nil
	})
	// A name taken in every region is each region's news; any other
	// failure everywhere is the call's.
	if err := commonFailure(errs); err != nil && errorCode(err) != "KeyPair.AlreadyExist" {
		return nil, err
	}
	return textResult(importSummary(out), out)
}

// importOne imports into one region, as regionId asks.
func importOne(ctx context.Context, c *call, in *schema.ImportKeyPairInput) (*mcpResult, error) {
	if err := c.trail.intent(AuditEntry{Items: []string{in.KeyPairName}}); err != nil {
		return nil, err
	}
	out, err := c.Cloud.ImportKeyPair(ctx, *in)
	if err != nil {
		c.trail.outcome(writeFailed(in.KeyPairName, err))
		return nil, err
	}
	c.trail.outcome(AuditEntry{Items: []string{in.KeyPairName}, Executed: true, KeyPairFingerPrint: out.KeyPairFingerPrint,
		RequestIDs: []string{out.RequestID}, Outcomes: []AuditOutcome{{Item: in.KeyPairName, Outcome: "imported"}}})
	return result(out)
}

// importedBefore reads a region where the name is taken: the same public
// key there means the import is done already ("exists"); another key is a
// failure that says whose.
func importedBefore(ctx context.Context, c *call, region, name, want string, cause error) schema.ImportRegionOutcome {
	o := schema.ImportRegionOutcome{RegionID: region, Outcome: "failed", Code: errorCode(cause), Message: itemFailure(cause)}
	found, err := c.Cloud.DescribeKeyPairs(ctx, schema.DescribeKeyPairsInput{RegionID: region, KeyPairName: name})
	if err != nil {
		return o
	}
	k := exact(found.KeyPairs, name)
	switch {
	case k == nil:
	case strings.EqualFold(k.KeyPairFingerPrint, want):
		return schema.ImportRegionOutcome{RegionID: region, Outcome: "exists", KeyPairFingerPrint: k.KeyPairFingerPrint}
	default:
		o.KeyPairFingerPrint = k.KeyPairFingerPrint
		o.Message = fmt.Sprintf("key pair %s exists here with another public key (fingerprint %s, not %s); nothing was changed",
			quoted(name), k.KeyPairFingerPrint, want)
	}
	return o
}

// importSummary says in a line what an import into several regions did.
func importSummary(out schema.ImportKeyPairOutput) string {
	counts := map[string]int{}
	for _, r := range out.Regions {
		counts[r.Outcome]++
	}
	s := fmt.Sprintf("Key pair %s (fingerprint %s): imported into %d of %d region(s)", quoted(out.KeyPairName),
		out.KeyPairFingerPrint, counts["imported"], len(out.Regions))
	if n := counts["exists"]; n > 0 {
		s += fmt.Sprintf("; %d already had it", n)
	}
	if n := counts["failed"]; n > 0 {
		s += fmt.Sprintf("; %d failed (see code and message)", n)
	}
	return s + "."
}
