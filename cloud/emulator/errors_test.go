package emulator

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
)

// TestActionErrors sends each request a user can get wrong through the real
// SDK and checks the documented code and HTTP status, and that the state did
// not change.
func TestActionErrors(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, Options{KeyPairQuota: 3})
	const region = "cn-hangzhou"
	rsa2048 := strings.TrimSpace(readFixture(t, "rsa2048.pub"))
	e.create(region, "existing")
	e.create(region, "bound")
	web1, win := e.instanceID("web-prod-01"), e.instanceID("ad-controller-01")
	if _, err := e.attach(region, "bound", web1); err != nil {
		t.Fatal(err)
	}
	e.create("cn-shanghai", "full-1")
	e.create("cn-shanghai", "full-2")
	e.create("cn-shanghai", "full-3")

	create := func(edit func(*ecs.CreateKeyPairRequest)) func() error {
		return func() error {
			req := ecs.CreateCreateKeyPairRequest()
			req.RegionId, req.KeyPairName = region, "fresh"
			edit(req)
			_, err := e.ecs.CreateKeyPair(req)
			return err
		}
	}
	importKey := func(edit func(*ecs.ImportKeyPairRequest)) func() error {
		return func() error {
			req := ecs.CreateImportKeyPairRequest()
			req.RegionId, req.KeyPairName, req.PublicKeyBody = region, "fresh", rsa2048
			edit(req)
			_, err := e.ecs.ImportKeyPair(req)
			return err
		}
	}
	tags := func(kv ...string) *[]ecs.CreateKeyPairTag {
		var ts []ecs.CreateKeyPairTag
		for i := 0; i < len(kv); i += 2 {
			ts = append(ts, ecs.CreateKeyPairTag{Key: kv[i], Value: kv[i+1]})
		}
		return &ts
	}
	manyTags := func(n int) *[]ecs.CreateKeyPairTag {
		var kv []string
		for i := 0; i < n; i++ {
			kv = append(kv, "k"+strings.Repeat("x", i), "v")
		}
		return tags(kv...)
	}
	del := func(names string) func() error {
		return func() error {
			req := ecs.CreateDeleteKeyPairsRequest()
			req.RegionId, req.KeyPairNames = region, names
			_, err := e.ecs.DeleteKeyPairs(req)
			return err
		}
	}
	attach := func(name, ids string) func() error {
		return func() error {
			req := ecs.CreateAttachKeyPairRequest()
			req.RegionId, req.KeyPairName, req.InstanceIds = region, name, ids
			_, err := e.ecs.AttachKeyPair(req)
			return err
		}
	}
	detach := func(name, ids string) func() error {
		return func() error {
			req := ecs.CreateDetachKeyPairRequest()
			req.RegionId, req.KeyPairName, req.InstanceIds = region, name, ids
			_, err := e.ecs.DetachKeyPair(req)
			return err
		}
	}
	describe := func(edit func(*ecs.DescribeKeyPairsRequest)) func() error {
		return func() error {
			req := ecs.CreateDescribeKeyPairsRequest()
			req.RegionId = region
			edit(req)
			_, err := e.ecs.DescribeKeyPairs(req)
			return err
		}
	}
	describeInstances := func(edit func(*ecs.DescribeInstancesRequest)) func() error {
		return func() error {
			req := ecs.CreateDescribeInstancesRequest()
			req.RegionId = region
			edit(req)
			_, err := e.ecs.DescribeInstances(req)
			return err
		}
	}
	// Made-up distinct IDs: the limit is checked before instances are looked up.
	ids := func(n int) string {
		var l []string
		for i := 0; i < n; i++ {
			l = append(l, fmt.Sprintf("i-bp1fake%011d", i))
		}
		return jsonList(l...)
	}
	names := func(n int) string {
		var l []string
		for i := 0; i < n; i++ {
			l = append(l, fmt.Sprintf("name-%03d", i))
		}
		return jsonList(l...)
	}

	for _, tc := range []struct {
		name   string
		do     func() error
		code   string
		status int
	}{
		// Names.
		{"name too short", create(func(r *ecs.CreateKeyPairRequest) { r.KeyPairName = "a" }), "InvalidKeyPairName.Malformed", 400},
		{"name too long", create(func(r *ecs.CreateKeyPairRequest) { r.KeyPairName = "a" + strings.Repeat("b", 128) }), "InvalidKeyPairName.Malformed", 400},
		{"name starts with a digit", create(func(r *ecs.CreateKeyPairRequest) { r.KeyPairName = "1abc" }), "InvalidKeyPairName.Malformed", 400},
		{"name starts with '-'", create(func(r *ecs.CreateKeyPairRequest) { r.KeyPairName = "-abc" }), "InvalidKeyPairName.Malformed", 400},
		{"name with a space", create(func(r *ecs.CreateKeyPairRequest) { r.KeyPairName = "my key" }), "InvalidKeyPairName.Malformed", 400},
		{"name with '.' on create", create(func(r *ecs.CreateKeyPairRequest) { r.KeyPairName = "my.key" }), "InvalidKeyPairName.Malformed", 400},
		{"name with '/'", importKey(func(r *ecs.ImportKeyPairRequest) { r.KeyPairName = "a/b" }), "InvalidKeyPairName.Malformed", 400},
		{"name http://", importKey(func(r *ecs.ImportKeyPairRequest) { r.KeyPairName = "http://x" }), "InvalidKeyPairName.Malformed", 400},
		{"name taken (create)", create(func(r *ecs.CreateKeyPairRequest) { r.KeyPairName = "existing" }), "KeyPair.AlreadyExist", 400},
		{"name taken (import)", importKey(func(r *ecs.ImportKeyPairRequest) { r.KeyPairName = "existing" }), "KeyPair.AlreadyExist", 400},
		{"name missing", create(func(r *ecs.CreateKeyPairRequest) { r.KeyPairName = "" }), "MissingParameter", 400},
		// Quota (this emulator holds 3 per region).
		{"quota (create)", create(func(r *ecs.CreateKeyPairRequest) { r.RegionId = "cn-shanghai" }), "QuotaExceed.KeyPair", 403},
		{"quota (import)", importKey(func(r *ecs.ImportKeyPairRequest) { r.RegionId = "cn-shanghai" }), "QuotaExceed.KeyPair", 403},
		// Region and resource group.
		{"unknown region", create(func(r *ecs.CreateKeyPairRequest) { r.RegionId = "mars-north-1" }), "InvalidRegionId.NotFound", 404},
		{"unknown resource group", create(func(r *ecs.CreateKeyPairRequest) { r.ResourceGroupId = "rg-nothere" }), "InvalidResourceGroup.NotFound", 404},
		// Tags.
		{"duplicate tag key", create(func(r *ecs.CreateKeyPairRequest) { r.Tag = tags("env", "a", "env", "b") }), "Duplicate.TagKey", 400},
		{"empty tag key", create(func(r *ecs.CreateKeyPairRequest) { r.Tag = tags("", "v") }), "InvalidTagKey.Malformed", 400},
		{"tag key aliyun prefix", create(func(r *ecs.CreateKeyPairRequest) { r.Tag = tags("aliyun-x", "v") }), "InvalidTagKey.Malformed", 400},
		{"tag key acs: prefix", create(func(r *ecs.CreateKeyPairRequest) { r.Tag = tags("acs:x", "v") }), "InvalidTagKey.Malformed", 400},
		{"tag key with https://", create(func(r *ecs.CreateKeyPairRequest) { r.Tag = tags("see https://x", "v") }), "InvalidTagKey.Malformed", 400},
		{"tag key too long", create(func(r *ecs.CreateKeyPairRequest) { r.Tag = tags(strings.Repeat("k", 129), "v") }), "InvalidTagKey.Malformed", 400},
		{"tag value acs: prefix", create(func(r *ecs.CreateKeyPairRequest) { r.Tag = tags("k", "acs:v") }), "InvalidTagValue.Malformed", 400},
		{"tag value with http://", create(func(r *ecs.CreateKeyPairRequest) { r.Tag = tags("k", "http://v") }), "InvalidTagValue.Malformed", 400},
		{"tag value too long", create(func(r *ecs.CreateKeyPairRequest) { r.Tag = tags("k", strings.Repeat("v", 129)) }), "InvalidTagValue.Malformed", 400},
		{"21 tags", create(func(r *ecs.CreateKeyPairRequest) { r.Tag = manyTags(21) }), "QuotaExceed.Tags", 403},
		// Public keys.
		{"public key missing", importKey(func(r *ecs.ImportKeyPairRequest) { r.PublicKeyBody = "" }), "MissingParameter", 400},
		{"public key garbage", importKey(func(r *ecs.ImportKeyPairRequest) { r.PublicKeyBody = "ssh-rsa AAAAB3Nza12345678qwertyuudsfsg" }), "InvalidPublicKeyBody.Malformed", 400},
		{"public key ed25519", importKey(func(r *ecs.ImportKeyPairRequest) {
			r.PublicKeyBody = strings.TrimSpace(readFixture(t, "ed25519.pub"))
		}), "InvalidPublicKeyBody.Malformed", 400},
		// DescribeKeyPairs.
		{"page size 51", describe(func(r *ecs.DescribeKeyPairsRequest) { r.PageSize = requests.NewInteger(51) }), "InvalidParameter", 400},
		{"page size 0", describe(func(r *ecs.DescribeKeyPairsRequest) { r.PageSize = requests.NewInteger(0) }), "InvalidParameter", 400},
		{"page number 0", describe(func(r *ecs.DescribeKeyPairsRequest) { r.PageNumber = requests.NewInteger(0) }), "InvalidParameter", 400},
		{"page number not a number", describe(func(r *ecs.DescribeKeyPairsRequest) { r.PageNumber = "two" }), "InvalidParameter", 400},
		{"IncludePublicKey not a bool", describe(func(r *ecs.DescribeKeyPairsRequest) { r.IncludePublicKey = "yes" }), "InvalidParameter", 400},
		{"describe unknown region", describe(func(r *ecs.DescribeKeyPairsRequest) { r.RegionId = "xx-nowhere-1" }), "InvalidRegionId.NotFound", 404},
		// DeleteKeyPairs.
		{"delete names missing", del(""), "MissingParameter", 400},
		{"delete bare name", del("existing"), "InvalidKeyPairNames.ValueNotSupported", 400},
		{"delete empty array", del("[]"), "InvalidKeyPairNames.ValueNotSupported", 400},
		{"delete numbers", del("[1,2]"), "InvalidKeyPairNames.ValueNotSupported", 400},
		{"delete object", del(`{"a":"b"}`), "InvalidKeyPairNames.ValueNotSupported", 400},
		{"delete trailing junk", del(`["existing"] x`), "InvalidKeyPairNames.ValueNotSupported", 400},
		{"delete 101 names", del(names(101)), "InstanceKeyPairLimitExceeded", 403},
		{"delete bound key", del(jsonList("existing", "bound")), "InvalidParameter.KeypairAlreadyAttachedInstance", 400},
		// AttachKeyPair and DetachKeyPair.
		{"attach unknown key", attach("nokey", jsonList(web1)), "InvalidKeyPairName.NotFound", 400},
		{"attach ids missing", attach("existing", ""), "MissingParameter", 400},
		{"attach bare id", attach("existing", web1), "InvalidInstanceIds.ValueNotSupported", 400},
		{"attach unknown instance", attach("existing", jsonList(web1, "i-bp1doesnotexist000")), "InvalidInstanceIds.ValueNotSupported", 400},
		{"attach instance of another region", attach("existing", jsonList(e.instanceID("api-prod-01"))), "InvalidInstanceIds.ValueNotSupported", 400},
		{"attach 51 instances", attach("existing", ids(51)), "InstanceKeyPairLimitExceeded", 403},
		{"attach windows", attach("existing", jsonList(win)), "DependencyViolation.WindowsInstance", 403},
		{"detach unknown key", detach("nokey", jsonList(web1)), "InvalidKeyPairName.NotFound", 400},
		{"detach windows", detach("existing", jsonList(win)), "DependencyViolation.WindowsInstance", 403},
		{"detach 51 instances", detach("existing", ids(51)), "InstanceKeyPairLimitExceeded", 403},
		{"detach malformed", detach("existing", "[\"i-1\""), "InvalidInstanceIds.ValueNotSupported", 400},
		// DescribeInstances.
		{"instances bad status", describeInstances(func(r *ecs.DescribeInstancesRequest) { r.Status = "Exploded" }), "InvalidStatus.NotFound", 404},
		{"instances page size 101", describeInstances(func(r *ecs.DescribeInstancesRequest) { r.PageSize = requests.NewInteger(101) }), "InvalidParameter", 400},
		{"instances bad ids", describeInstances(func(r *ecs.DescribeInstancesRequest) { r.InstanceIds = "i-1,i-2" }), "InvalidInstanceIds.ValueNotSupported", 400},
		{"instances unknown region", describeInstances(func(r *ecs.DescribeInstancesRequest) { r.RegionId = "xx-nowhere-1" }), "InvalidRegionId.NotFound", 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.snapshot()
			wantAPIError(t, tc.do(), tc.code, tc.status)
			e.assertUnchanged(before)
		})
	}
}

func readFixture(t testing.TB, name string) string {
	t.Helper()
	b, err := readTestdata("keys", name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
