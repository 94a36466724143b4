package tools

import (
	"context"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
)

func importKeyPair(d Deps) Tool {
	return Tool{
		Definition: define[schema.ImportKeyPairInput, schema.ImportKeyPairOutput](
			"import_key_pair", "Import an SSH public key",
			"Import an existing SSH public key (the contents of a .pub file, e.g. ~/.ssh/id_rsa.pub) into a "+
				"region as a key pair, so that it can be attached to instances. Only the public key is sent; "+
				"never pass a private key. ECS accepts ssh-rsa, ssh-dss and ecdsa-sha2-nistp256/384/521 keys, "+
				"not ssh-ed25519. The name must be unique in the region, and a region holds at most 500 key pairs. "+
				"The result's fingerprint can be checked with `ssh-keygen -l -E md5 -f key.pub`.",
			write),
		Handler: handle(func(ctx context.Context, in schema.ImportKeyPairInput) (*mcpResult, error) {
			out, err := d.Cloud.ImportKeyPair(ctx, in)
			if err != nil {
				return nil, err
			}
			return result(out)
		}),
	}
}
