package schema

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// inputTypes are the types tools take their arguments in.
var inputTypes = []reflect.Type{
	reflect.TypeFor[DescribeRegionsInput](),
	reflect.TypeFor[DescribeInstancesInput](),
	reflect.TypeFor[DescribeKeyPairsInput](),
	reflect.TypeFor[CreateKeyPairInput](),
	reflect.TypeFor[ImportKeyPairInput](),
	reflect.TypeFor[DeleteKeyPairsInput](),
	reflect.TypeFor[BindKeyPairInput](),
}

// constraint keywords: every one found in an input schema must be in the
// expectations below, so that a limit added to a tag is added here (and so
// to limits.go) too.
var constraintKeywords = []string{"pattern", "minLength", "maxLength", "minimum", "maximum", "minItems", "maxItems"}

type limits map[string]any // keyword -> expected value

var (
	regionIDLimits = limits{"pattern": RegionIDPattern, "minLength": 1, "maxLength": RegionIDMaxLength}
	pageNumber     = limits{"minimum": 1}
	tagsLimits     = map[string]limits{
		"tags":                   {"minItems": MinTags, "maxItems": MaxTags},
		"tags.items.key":         {"minLength": 1, "maxLength": TagKeyMaxLength},
		"tags.items.value":       {"maxLength": TagValueMaxLength},
		"resourceGroupId":        {"maxLength": ResourceGroupIDMaxLength},
		"regionId":               regionIDLimits,
		"keyPairName (filter)":   {"maxLength": KeyPairNameMaxLength},
		"keyPairName (exact)":    {"minLength": KeyPairNameMinLength, "maxLength": KeyPairNameMaxLength},
		"keyPairName (create)":   {"minLength": KeyPairNameMinLength, "maxLength": KeyPairNameMaxLength, "pattern": CreateKeyPairNamePattern},
		"keyPairName (import)":   {"minLength": KeyPairNameMinLength, "maxLength": KeyPairNameMaxLength, "pattern": ImportKeyPairNamePattern},
		"keyPairFingerPrint":     {"maxLength": KeyPairFingerPrintMaxLength},
		"publicKeyBody":          {"minLength": 1, "maxLength": PublicKeyBodyMaxBytes},
		"keyPairNames":           {"minItems": 1, "maxItems": MaxListItems},
		"instanceIds (tool)":     {"minItems": 1, "maxItems": MaxListItems},
		"instanceIds (describe)": {"minItems": 1, "maxItems": DescribeInstancesIDsBatch},
		"regionIds":              {"minItems": 1, "maxItems": MaxRegionIDs},
		"nextToken":              {"maxLength": NextTokenMaxLength},
	}
)

// expectedLimits is, per input type and property path, the constraints its
// schema must carry, all from limits.go.
func expectedLimits() map[reflect.Type]map[string]limits {
	l := tagsLimits
	return map[reflect.Type]map[string]limits{
		reflect.TypeFor[DescribeRegionsInput](): {},
		reflect.TypeFor[DescribeInstancesInput](): {
			"regionId": l["regionId"], "instanceIds": l["instanceIds (describe)"], "keyPairName": l["keyPairName (filter)"],
			"pageNumber": pageNumber, "pageSize": {"minimum": 1, "maximum": DescribeInstancesPageSize},
			"nextToken": l["nextToken"],
		},
		reflect.TypeFor[DescribeKeyPairsInput](): {
			"regionId": l["regionId"], "regionIds": l["regionIds"], "keyPairName": l["keyPairName (filter)"], "keyPairFingerPrint": l["keyPairFingerPrint"],
			"pageNumber": pageNumber, "pageSize": {"minimum": 1, "maximum": DescribeKeyPairsPageSize}, "nextToken": l["nextToken"],
			"resourceGroupId": l["resourceGroupId"],
			"tags":            l["tags"], "tags.items.key": l["tags.items.key"], "tags.items.value": l["tags.items.value"],
		},
		reflect.TypeFor[CreateKeyPairInput](): {
			"regionId": l["regionId"], "keyPairName": l["keyPairName (create)"], "resourceGroupId": l["resourceGroupId"],
			"tags": l["tags"], "tags.items.key": l["tags.items.key"], "tags.items.value": l["tags.items.value"],
		},
		reflect.TypeFor[ImportKeyPairInput](): {
			"regionId": l["regionId"], "regionIds": l["regionIds"], "keyPairName": l["keyPairName (import)"], "publicKeyBody": l["publicKeyBody"],
			"resourceGroupId": l["resourceGroupId"],
			"tags":            l["tags"], "tags.items.key": l["tags.items.key"], "tags.items.value": l["tags.items.value"],
		},
		reflect.TypeFor[DeleteKeyPairsInput](): {
			"regionId": l["regionId"], "keyPairNames": l["keyPairNames"],
		},
		reflect.TypeFor[BindKeyPairInput](): {
			"regionId": l["regionId"], "keyPairName": l["keyPairName (exact)"], "instanceIds": l["instanceIds (tool)"],
		},
	}
}

// collectLimits walks a schema and returns the constraints of every
// property, by path (tags.items.key for a property of an array's items).
func collectLimits(t *testing.T, s map[string]any, path string, out map[string]limits) {
	t.Helper()
	if path != "" {
		for _, k := range constraintKeywords {
			if v, ok := s[k]; ok {
				if out[path] == nil {
					out[path] = limits{}
				}
				out[path][k] = v
			}
		}
	}
	if props, ok := s["properties"].(map[string]any); ok {
		for name, p := range props {
			sub := name
			if path != "" {
				sub = path + "." + name
			}
			collectLimits(t, p.(map[string]any), sub, out)
		}
	}
	if items, ok := s["items"].(map[string]any); ok {
		collectLimits(t, items, path+".items", out)
	}
}

// TestSchemasFollowLimits fails when a struct tag, and so the schema a
// client sees, drifts from limits.go: every constraint of every input
// schema must be the expected one, and every expected one must be there.
func TestSchemasFollowLimits(t *testing.T) {
	want := expectedLimits()
	if len(want) != len(inputTypes) {
		t.Fatalf("expectations for %d input types, there are %d", len(want), len(inputTypes))
	}
	for _, typ := range inputTypes {
		raw, err := generate(typ)
		if err != nil {
			t.Fatal(err)
		}
		var s map[string]any
		if err := json.Unmarshal(raw, &s); err != nil {
			t.Fatal(err)
		}
		got := map[string]limits{}
		collectLimits(t, s, "", got)
		for _, path := range sortedKeys(got, want[typ]) {
			for _, k := range constraintKeywords {
				g, gok := got[path][k]
				w, wok := want[typ][path][k]
				switch {
				case gok && !wok:
					t.Errorf("%v: %s has %s %v, which limits.go does not give (add it there and to this test)", typ, path, k, g)
				case !gok && wok:
					t.Errorf("%v: %s lacks %s %v", typ, path, k, w)
				case gok && fmt.Sprint(g) != fmt.Sprint(w):
					t.Errorf("%v: %s has %s %v; limits.go says %v", typ, path, k, g, w)
				}
			}
		}
	}
}

func sortedKeys(maps ...map[string]limits) []string {
	var keys []string
	for _, m := range maps {
		for k := range m {
			if !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	sort.Strings(keys)
	return keys
}

// TestValidateFollowsLimits checks the Go side of each limit: the value at
// the limit passes, one past it fails, and the message names the limit.
func TestValidateFollowsLimits(t *testing.T) {
	names := func(n int) string {
		var b strings.Builder
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `"k%04d"`, i)
		}
		return "[" + b.String() + "]"
	}
	ids := func(n int) string {
		var b strings.Builder
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `"i-a%04d"`, i)
		}
		return "[" + b.String() + "]"
	}
	tags := func(n int) string {
		var b strings.Builder
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"key":"k%d"}`, i)
		}
		return "[" + b.String() + "]"
	}
	js := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	const r = `"regionId":"cn-hangzhou"`
	for _, tc := range []struct {
		name       string
		fn         func(string) error
		ok, tooBig string // arguments at the limit, and one past it
		limit      int
	}{
		{"describe_key_pairs pageSize", check[DescribeKeyPairsInput],
			fmt.Sprintf(`{%s,"pageNumber":1,"pageSize":%d}`, r, DescribeKeyPairsPageSize),
			fmt.Sprintf(`{%s,"pageNumber":1,"pageSize":%d}`, r, DescribeKeyPairsPageSize+1), DescribeKeyPairsPageSize},
		{"describe_instances pageSize", check[DescribeInstancesInput],
			fmt.Sprintf(`{%s,"pageNumber":1,"pageSize":%d}`, r, DescribeInstancesPageSize),
			fmt.Sprintf(`{%s,"pageNumber":1,"pageSize":%d}`, r, DescribeInstancesPageSize+1), DescribeInstancesPageSize},
		{"describe_instances instanceIds", check[DescribeInstancesInput],
			fmt.Sprintf(`{%s,"instanceIds":%s}`, r, ids(DescribeInstancesIDsBatch)),
			fmt.Sprintf(`{%s,"instanceIds":%s}`, r, ids(DescribeInstancesIDsBatch+1)), DescribeInstancesIDsBatch},
		{"delete_key_pairs keyPairNames", check[DeleteKeyPairsInput],
			fmt.Sprintf(`{%s,"keyPairNames":%s}`, r, names(MaxListItems)),
			fmt.Sprintf(`{%s,"keyPairNames":%s}`, r, names(MaxListItems+1)), MaxListItems},
		{"attach_key_pair instanceIds", check[BindKeyPairInput],
			fmt.Sprintf(`{%s,"keyPairName":"ab","instanceIds":%s}`, r, ids(MaxListItems)),
			fmt.Sprintf(`{%s,"keyPairName":"ab","instanceIds":%s}`, r, ids(MaxListItems+1)), MaxListItems},
		{"create_key_pair tags", check[CreateKeyPairInput],
			fmt.Sprintf(`{%s,"keyPairName":"ab","tags":%s}`, r, tags(MaxTags)),
			fmt.Sprintf(`{%s,"keyPairName":"ab","tags":%s}`, r, tags(MaxTags+1)), MaxTags},
		{"describe_key_pairs tags", check[DescribeKeyPairsInput],
			fmt.Sprintf(`{%s,"tags":%s}`, r, tags(MaxTags)),
			fmt.Sprintf(`{%s,"tags":%s}`, r, tags(MaxTags+1)), MaxTags},
		{"create_key_pair keyPairName", check[CreateKeyPairInput],
			fmt.Sprintf(`{%s,"keyPairName":%s}`, r, js("a"+strings.Repeat("é", KeyPairNameMaxLength-1))),
			fmt.Sprintf(`{%s,"keyPairName":%s}`, r, js("a"+strings.Repeat("é", KeyPairNameMaxLength))), KeyPairNameMaxLength},
		{"create_key_pair keyPairName, short", check[CreateKeyPairInput],
			fmt.Sprintf(`{%s,"keyPairName":%s}`, r, js(strings.Repeat("a", KeyPairNameMinLength))),
			fmt.Sprintf(`{%s,"keyPairName":%s}`, r, js(strings.Repeat("a", KeyPairNameMinLength-1))), KeyPairNameMinLength},
		{"tag key", check[CreateKeyPairInput],
			fmt.Sprintf(`{%s,"keyPairName":"ab","tags":[{"key":%s}]}`, r, js(strings.Repeat("k", TagKeyMaxLength))),
			fmt.Sprintf(`{%s,"keyPairName":"ab","tags":[{"key":%s}]}`, r, js(strings.Repeat("k", TagKeyMaxLength+1))), TagKeyMaxLength},
		{"tag value", check[CreateKeyPairInput],
			fmt.Sprintf(`{%s,"keyPairName":"ab","tags":[{"key":"k","value":%s}]}`, r, js(strings.Repeat("v", TagValueMaxLength))),
			fmt.Sprintf(`{%s,"keyPairName":"ab","tags":[{"key":"k","value":%s}]}`, r, js(strings.Repeat("v", TagValueMaxLength+1))), TagValueMaxLength},
		{"regionId", check[DescribeKeyPairsInput],
			fmt.Sprintf(`{"regionId":%s}`, js("a-"+strings.Repeat("b", RegionIDMaxLength-2))),
			fmt.Sprintf(`{"regionId":%s}`, js("a-"+strings.Repeat("b", RegionIDMaxLength-1))), RegionIDMaxLength},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.fn(tc.ok); err != nil {
				t.Errorf("at the limit: %v", err)
			}
			err := tc.fn(tc.tooBig)
			if err == nil || !strings.Contains(err.Error(), strconv.Itoa(tc.limit)) {
				t.Errorf("past the limit: %v, want an error naming %d", err, tc.limit)
			}
		})
	}
}

// TestRegionIDRule: one rule and one code for a malformed region ID, the
// same in the Go check and in the schema's pattern.
func TestRegionIDRule(t *testing.T) {
	var s struct {
		Properties map[string]struct {
			Pattern string `json:"pattern"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(For[CreateKeyPairInput](), &s); err != nil {
		t.Fatal(err)
	}
	schemaRe := regexp.MustCompile(s.Properties["regionId"].Pattern)
	for _, tc := range []struct {
		id string
		ok bool
	}{
		{"cn-hangzhou", true}, {"ap-southeast-1", true}, {"cn-qingdao-et2-bo1", true}, {"eu-central-1", true},
		{"abc", false}, {"ABC", false}, {"CN-hangzhou", false}, {"cn_hangzhou", false}, {"cn-", false},
		{"-cn", false}, {"1cn-x", false}, {"cn--x", false}, {"evil.example.com#", false}, {"cn-x/y", false},
		{"cn-hangzhou\n", false}, {"a-" + strings.Repeat("b", RegionIDMaxLength-1), false},
	} {
		if got := ValidRegionID(tc.id); got != tc.ok {
			t.Errorf("ValidRegionID(%q) = %v, want %v", tc.id, got, tc.ok)
		}
		if len(tc.id) <= RegionIDMaxLength && schemaRe.MatchString(tc.id) != tc.ok {
			t.Errorf("the schema's pattern says %v for %q, want %v", !tc.ok, tc.id, tc.ok)
		}
		err := CheckRegionID(tc.id)
		if tc.ok != (err == nil) {
			t.Errorf("CheckRegionID(%q) = %v", tc.id, err)
		} else if err != nil && err.Code != CodeInvalidRegionID {
			t.Errorf("CheckRegionID(%q) code %s, want %s", tc.id, err.Code, CodeInvalidRegionID)
		}
	}
	if err := CheckRegionID(""); err == nil || err.Code != codeMissingParameter {
		t.Errorf("CheckRegionID(\"\") = %v, want MissingParameter", err)
	}
	if !strings.Contains(RegionIDRule, strconv.Itoa(RegionIDMaxLength)) {
		t.Errorf("RegionIDRule %q does not say the maximum length", RegionIDRule)
	}
}

func TestLooksLikePrivateKey(t *testing.T) {
	for s, want := range map[string]bool{
		"-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA": true,
		"-----begin rsa private key-----":           true,
		"PuTTY-User-Key-File-3: ssh-rsa":            true,
		"Private-Lines: 14":                         true,
		"ssh-rsa AAAAB3NzaC1yc2E= me@laptop":        false,
	} {
		if LooksLikePrivateKey(s) != want {
			t.Errorf("LooksLikePrivateKey(%q) = %v", s, !want)
		}
	}
}
