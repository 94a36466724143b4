package tools_test

import (
	"regexp"
	"testing"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
)

// requestsIn counts the successful ECS requests in the cloud client's debug
// log, per action.
func requestsIn(logs string) map[string]int {
	counts := map[string]int{}
	for _, m := range regexp.MustCompile(`msg="ecs request" action=(\w+)`).FindAllStringSubmatch(logs, -1) {
		counts[m[1]]++
	}
	return counts
}

// The attach and detach previews look up the key pair by name and the
// instances by ID, 100 per request, however full the region is: three
// requests here, where listing the region would take ten pages of key
// pairs and three of instances.
func TestBindPreviewReadsOnlyWhatItNames(t *testing.T) {
	t.Parallel()
	h := newHarness(t, false)
	names, ids, err := h.emu.Populate("cn-hangzhou", 500, 150)
	if err != nil {
		t.Fatal(err)
	}
	for _, tool := range []string{"attach_key_pair", "detach_key_pair"} {
		h.logs.Reset()
		out, _ := ok[schema.BindKeyPairOutput](h, tool, map[string]any{"regionId": "cn-hangzhou", "keyPairName": names[499], "instanceIds": ids})
		want := map[string]int{"DescribeKeyPairs": 1, "DescribeInstances": 2}
		if got := requestsIn(h.logs.String()); len(got) != len(want) || got["DescribeKeyPairs"] != 1 || got["DescribeInstances"] != 2 {
			t.Errorf("%s preview sent %v, want %v", tool, got, want)
		}
		wantOutcome := map[string]string{"attach_key_pair": "would_attach", "detach_key_pair": "unchanged"}[tool]
		for i, o := range out.Instances {
			if o.InstanceID != ids[i] || o.Outcome != wantOutcome {
				t.Fatalf("%s preview, instance %d: %+v, want %s %s", tool, i, o, ids[i], wantOutcome)
			}
		}
	}
}
