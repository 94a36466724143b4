package tools

import (
	"strconv"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
)

func attachKeyPair(d Deps) Tool {
	return newTool[schema.AttachKeyPairInput, schema.BindKeyPairOutput](d, attaching.spec("Attach a key pair to instances",
		"Attach a key pair to Linux instances, so that its private key can log in over SSH. This REPLACES any "+
			"key pair an instance already carries and turns password login off. Running instances take the change "+
			"only after a reboot (listed in rebootRequired: then call reboot_instances), Stopped ones when started "+
			"(takesEffectOnStart). Windows instances cannot use key pairs. To replace a key pair on the instances "+
			"that carry it, use rotate_key_pair instead. Without confirm: true this changes "+
			"nothing and returns a preview per instance (would_attach, would_replace with the current key pair, "+
			"unchanged, would_fail, not_found): show it to the user and call again with confirm: true only after "+
			"they agree. Up to "+strconv.Itoa(schema.MaxListItems)+" instances per call."))
}
