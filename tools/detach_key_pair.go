package tools

import (
	"strconv"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
)

func detachKeyPair(d Deps) Tool {
	return newTool[schema.DetachKeyPairInput, schema.BindKeyPairOutput](d, detaching.spec("Detach a key pair from instances",
		"Detach a key pair from instances. Logins with that key stop working and the instance falls back to "+
			"password login; make sure the user has another way in. Running instances take the change only after "+
			"a reboot (rebootRequired: then call reboot_instances), Stopped ones when started. Instances that carry "+
			"another key pair, or none, are left unchanged. A key pair must be detached from every instance before "+
			"delete_key_pairs can delete it. Without confirm: true this changes nothing and returns a preview per "+
			"instance: show it to the user and call again with confirm: true only after they agree. Up to "+strconv.Itoa(schema.MaxListItems)+" "+
			"instances per call."))
}
