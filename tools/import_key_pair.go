package tools

import (
	"context"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
)

func importKeyPair(d Deps) Tool {
	return newTool[schema.ImportKeyPairInput, schema.ImportKeyPairOutput](d, toolSpec[schema.ImportKeyPairInput]{
		kind: KindWrite, name: "import_key_pair", title: "Import an SSH public key",
		about: "Import an existing SSH public key (the contents of a .pub file, e.g. ~/.ssh/id_rsa.pub) into a " +
			"region as a key pair, so that it can be attached to instances. Only the public key is sent; " +
			"never pass a private key. ECS accepts ssh-rsa, ssh-dss and ecdsa-sha2-nistp256/384/521 keys, " +
			"not ssh-ed25519. The name must be unique in the region, and a region holds at most 500 key pairs. " +
			"The result's fingerprint can be checked with `ssh-keygen -l -E md5 -f key.pub`.",
		subject: func(in *schema.ImportKeyPairInput) subject {
			return subject{regions: []string{in.RegionID}, items: []string{in.KeyPairName}, attempt: true}
		},
		run: func(ctx context.Context, c *call, in *schema.ImportKeyPairInput) (*mcpResult, error) {
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
		},
	})
}
