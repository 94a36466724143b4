package tools_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
)

var update = flag.Bool("update", false, "rewrite testdata/tools.golden.json from the current tools/list")

// contract is the tool table of README.md: the argument names and which
// are required, and the tool's kind.
var contract = map[string]struct {
	kind     string // read-only, write, destructive
	args     []string
	required []string
}{
	"describe_regions":   {"read-only", nil, nil},
	"describe_instances": {"read-only", []string{"regionId", "instanceIds", "keyPairName", "status", "pageNumber", "pageSize", "nextToken"}, []string{"regionId"}},
	// regionId or regionIds: neither is required by the schema, one by
	// the tool.
	"describe_key_pairs": {"read-only", []string{"regionId", "regionIds", "keyPairName", "keyPairFingerPrint", "includePublicKey", "includeInstances",
		"inUse", "pageNumber", "pageSize", "nextToken", "resourceGroupId", "tags"}, nil},
	"create_key_pair":  {"write", []string{"regionId", "keyPairName", "resourceGroupId", "tags"}, []string{"regionId", "keyPairName"}},
	"import_key_pair":  {"write", []string{"regionId", "regionIds", "keyPairName", "publicKeyBody", "resourceGroupId", "tags"}, []string{"keyPairName", "publicKeyBody"}},
	"delete_key_pairs": {"destructive", []string{"regionId", "keyPairNames", "confirm"}, []string{"regionId", "keyPairNames"}},
	"attach_key_pair":  {"destructive", []string{"regionId", "keyPairName", "instanceIds", "confirm"}, []string{"regionId", "keyPairName", "instanceIds"}},
	"detach_key_pair":  {"destructive", []string{"regionId", "keyPairName", "instanceIds", "confirm"}, []string{"regionId", "keyPairName", "instanceIds"}},
	"reboot_instances": {"destructive", []string{"regionId", "instanceIds", "forceReboot", "wait", "confirm"}, []string{"regionId", "instanceIds"}},
	"rotate_key_pair": {"destructive", []string{"regionId", "fromKeyPairName", "toKeyPairName", "publicKeyBody", "instanceIds", "reboot",
		"deleteOld", "confirm"}, []string{"regionId", "fromKeyPairName", "toKeyPairName"}},
}

// TestToolsListContract checks tools/list as a client receives it: every
// tool of the contract, with exactly its arguments (an empty schema would
// accept anything), all four hints, and portable schemas.
func TestToolsListContract(t *testing.T) {
	t.Parallel()
	h := newHarness(t, false)
	res, err := h.client.ListTools(context.Background(), mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(res.Tools)
	if err != nil {
		t.Fatal(err)
	}
	var listed []struct {
		Name         string          `json:"name"`
		Title        string          `json:"title"`
		Description  string          `json:"description"`
		InputSchema  json.RawMessage `json:"inputSchema"`
		OutputSchema json.RawMessage `json:"outputSchema"`
		Annotations  map[string]any  `json:"annotations"`
	}
	if err := json.Unmarshal(raw, &listed); err != nil {
		t.Fatal(err)
	}
	if len(listed) != len(contract) {
		t.Errorf("%d tools listed, the contract has %d", len(listed), len(contract))
	}
	for _, tool := range listed {
		c, ok := contract[tool.Name]
		if !ok {
			t.Errorf("tool %s is not in the contract", tool.Name)
			continue
		}
		if len(tool.Name) > 40 || tool.Title == "" || len(tool.Description) < 80 {
			t.Errorf("%s: name over 40 characters, or no title, or a thin description", tool.Name)
		}
		var in struct {
			Properties map[string]json.RawMessage `json:"properties"`
			Required   []string                   `json:"required"`
		}
		if err := json.Unmarshal(tool.InputSchema, &in); err != nil {
			t.Fatal(err)
		}
		var props []string
		for p := range in.Properties {
			props = append(props, p)
		}
		if !slices.Equal(sorted(props), sorted(c.args)) || !slices.Equal(sorted(in.Required), sorted(c.required)) {
			t.Errorf("%s: properties %v required %v; the contract says %v required %v", tool.Name, sorted(props), in.Required, c.args, c.required)
		}
		for _, s := range []json.RawMessage{tool.InputSchema, tool.OutputSchema} {
			if err := schema.Portable(s); err != nil {
				t.Errorf("%s: %v", tool.Name, err)
			}
		}
		want := map[string]any{
			"readOnlyHint":    c.kind == "read-only",
			"destructiveHint": c.kind == "destructive",
			// A reboot made again reboots again.
			"idempotentHint": c.kind != "write" && tool.Name != "reboot_instances",
			"openWorldHint":  true,
		}
		for hint, v := range want {
			if tool.Annotations[hint] != v {
				t.Errorf("%s: %s = %v, want %v", tool.Name, hint, tool.Annotations[hint], v)
			}
		}
	}

	golden := filepath.Join(testdata, "tools.golden.json")
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, raw, "", "  "); err != nil {
		t.Fatal(err)
	}
	pretty.WriteByte('\n')
	if *update {
		if err := os.WriteFile(golden, pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./tools -run TestToolsListContract -update to create it)", err)
	}
	if !bytes.Equal(pretty.Bytes(), want) {
		t.Errorf("tools/list differs from %s; if the change is intended, run go test ./tools -run TestToolsListContract -update and review the diff", golden)
	}
}
