package emulator

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
	"golang.org/x/crypto/ssh"
)

// instanceID finds a seeded instance by name.
func (e *testEnv) instanceID(name string) string {
	e.t.Helper()
	for _, in := range e.snapshot().Instances {
		if in.InstanceName == name {
			return in.InstanceID
		}
	}
	e.t.Fatalf("no seeded instance named %q", name)
	return ""
}

func jsonList(items ...string) string {
	b, _ := json.Marshal(items)
	return string(b)
}

func (e *testEnv) create(region, name string, tags ...ecs.CreateKeyPairTag) *ecs.CreateKeyPairResponse {
	e.t.Helper()
	req := ecs.CreateCreateKeyPairRequest()
	req.RegionId, req.KeyPairName = region, name
	if len(tags) > 0 {
		req.Tag = &tags
	}
	resp, err := e.ecs.CreateKeyPair(req)
	if err != nil {
		e.t.Fatalf("CreateKeyPair %s: %v", name, err)
	}
	return resp
}

func (e *testEnv) importKey(region, name, body string) (*ecs.ImportKeyPairResponse, error) {
	req := ecs.CreateImportKeyPairRequest()
	req.RegionId, req.KeyPairName, req.PublicKeyBody = region, name, body
	return e.ecs.ImportKeyPair(req)
}

func (e *testEnv) attach(region, name string, ids ...string) (*ecs.AttachKeyPairResponse, error) {
	req := ecs.CreateAttachKeyPairRequest()
	req.RegionId, req.KeyPairName, req.InstanceIds = region, name, jsonList(ids...)
	return e.ecs.AttachKeyPair(req)
}

func (e *testEnv) detach(region, name string, ids ...string) (*ecs.DetachKeyPairResponse, error) {
	req := ecs.CreateDetachKeyPairRequest()
	req.RegionId, req.KeyPairName, req.InstanceIds = region, name, jsonList(ids...)
	return e.ecs.DetachKeyPair(req)
}

func (e *testEnv) describeKeys(region string, edit func(*ecs.DescribeKeyPairsRequest)) *ecs.DescribeKeyPairsResponse {
	e.t.Helper()
	req := ecs.CreateDescribeKeyPairsRequest()
	req.RegionId = region
	if edit != nil {
		edit(req)
	}
	resp, err := e.ecs.DescribeKeyPairs(req)
	if err != nil {
		e.t.Fatalf("DescribeKeyPairs: %v", err)
	}
	return resp
}

func keyNames(resp *ecs.DescribeKeyPairsResponse) []string {
	var names []string
	for _, k := range resp.KeyPairs.KeyPair {
		names = append(names, k.KeyPairName)
	}
	return names
}

func (e *testEnv) instanceKey(region, id string) string {
	e.t.Helper()
	req := ecs.CreateDescribeInstancesRequest()
	req.RegionId, req.InstanceIds = region, jsonList(id)
	resp, err := e.ecs.DescribeInstances(req)
	if err != nil {
		e.t.Fatal(err)
	}
	if len(resp.Instances.Instance) != 1 {
		e.t.Fatalf("DescribeInstances %s: got %d instances", id, len(resp.Instances.Instance))
	}
	return resp.Instances.Instance[0].KeyPairName
}

func TestDescribeRegions(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, Options{})
	resp, err := e.ecs.DescribeRegions(ecs.CreateDescribeRegionsRequest())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range resp.Regions.Region {
		ids = append(ids, r.RegionId)
		if r.LocalName == "" || r.RegionEndpoint == "" || r.Status != "available" {
			t.Errorf("region %+v: missing fields", r)
		}
	}
	for _, want := range []string{"cn-hangzhou", "cn-shanghai", "cn-beijing", "ap-southeast-1", "us-west-1", "eu-central-1"} {
		if !slices.Contains(ids, want) {
			t.Errorf("DescribeRegions lacks %s: %v", want, ids)
		}
	}
}

func TestDescribeInstances(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, Options{})
	req := ecs.CreateDescribeInstancesRequest()
	req.RegionId = "cn-hangzhou"
	req.PageSize = requests.NewInteger(100)
	resp, err := e.ecs.DescribeInstances(req)
	if err != nil {
		t.Fatal(err)
	}
	var linuxRunning, linuxStopped, windows int
	for _, in := range resp.Instances.Instance {
		switch {
		case in.OSType == "windows":
			windows++
		case in.Status == "Running":
			linuxRunning++
		case in.Status == "Stopped":
			linuxStopped++
		}
		if in.RegionId != "cn-hangzhou" || !strings.HasPrefix(in.ZoneId, "cn-hangzhou-") || !strings.HasPrefix(in.InstanceId, "i-") {
			t.Errorf("instance %+v: wrong region, zone or ID", in)
		}
	}
	if resp.TotalCount != len(resp.Instances.Instance) || linuxRunning == 0 || linuxStopped == 0 || windows == 0 {
		t.Errorf("cn-hangzhou: total %d, listed %d, linux running %d, linux stopped %d, windows %d",
			resp.TotalCount, len(resp.Instances.Instance), linuxRunning, linuxStopped, windows)
	}

	// Paging, and the Status filter.
	req = ecs.CreateDescribeInstancesRequest()
	req.RegionId, req.PageSize, req.PageNumber = "cn-hangzhou", requests.NewInteger(3), requests.NewInteger(2)
	page, err := e.ecs.DescribeInstances(req)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(page.Instances.Instance); got != 3 || page.Instances.Instance[0].InstanceId != resp.Instances.Instance[3].InstanceId {
		t.Errorf("page 2 of 3: got %d instances starting at %v", got, page.Instances.Instance)
	}
	req = ecs.CreateDescribeInstancesRequest()
	req.RegionId, req.Status = "cn-hangzhou", "Stopped"
	stopped, err := e.ecs.DescribeInstances(req)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range stopped.Instances.Instance {
		if in.Status != "Stopped" {
			t.Errorf("Status=Stopped returned %s %s", in.InstanceId, in.Status)
		}
	}
	if stopped.TotalCount == 0 {
		t.Error("Status=Stopped returned nothing")
	}
}

func TestCreateKeyPair(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, Options{})
	resp := e.create("cn-hangzhou", "demo", ecs.CreateKeyPairTag{Key: "env", Value: "dev"}, ecs.CreateKeyPairTag{Key: "empty"})
	if resp.KeyPairName != "demo" || !strings.HasPrefix(resp.KeyPairId, "ssh-") || resp.RequestId == "" {
		t.Errorf("response %+v", resp)
	}
	block, _ := pem.Decode([]byte(resp.PrivateKeyBody))
	if block == nil || block.Type != "RSA PRIVATE KEY" {
		t.Fatal("PrivateKeyBody is not a PKCS#1 PEM block")
	}
	key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if key.N.BitLen() != 2048 {
		t.Errorf("key size %d, want 2048", key.N.BitLen())
	}
	pub, err := ssh.NewPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if got := ssh.FingerprintLegacyMD5(pub); got != resp.KeyPairFingerPrint {
		t.Errorf("fingerprint of the private key's public half %s, reported %s", got, resp.KeyPairFingerPrint)
	}

	d := e.describeKeys("cn-hangzhou", func(r *ecs.DescribeKeyPairsRequest) { r.IncludePublicKey = requests.NewBoolean(true) })
	if d.TotalCount != 1 {
		t.Fatalf("TotalCount %d", d.TotalCount)
	}
	kp := d.KeyPairs.KeyPair[0]
	if kp.KeyPairFingerPrint != resp.KeyPairFingerPrint || kp.PublicKey != strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub))) {
		t.Errorf("described %+v", kp)
	}
	if kp.ResourceGroupId != "rg-acfmzqyw7x4jb6a" {
		t.Errorf("ResourceGroupId %q, want the default group", kp.ResourceGroupId)
	}
	wantTags := []ecs.Tag{{TagKey: "env", TagValue: "dev"}, {TagKey: "empty", TagValue: ""}}
	if !slices.Equal(kp.Tags.Tag, wantTags) {
		t.Errorf("tags %+v, want %+v", kp.Tags.Tag, wantTags)
	}
	if _, err := time.Parse("2006-01-02T15:04Z", kp.CreationTime); err != nil {
		t.Errorf("CreationTime %q: %v", kp.CreationTime, err)
	}
	// PublicKey only when asked.
	if d := e.describeKeys("cn-hangzhou", nil); d.KeyPairs.KeyPair[0].PublicKey != "" {
		t.Error("PublicKey returned without IncludePublicKey")
	}
}

// TestImportKeyPairFingerprints imports every fixture key through the SDK:
// the types the API accepts get the fingerprint ssh-keygen printed for them,
// the others are refused.
func TestImportKeyPairFingerprints(t *testing.T) {
	t.Parallel()
	pubs, err := filepath.Glob(filepath.Join(testdata, "keys", "*.pub"))
	if err != nil || len(pubs) == 0 {
		t.Fatalf("no fixture keys: %v", err)
	}
	e := newTestEnv(t, Options{})
	for i, path := range pubs {
		body, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		name := "fixture-" + strings.TrimSuffix(filepath.Base(path), ".pub")
		keyType := strings.Fields(string(body))[0]
		accepted := slices.Contains([]string{"ssh-rsa", "ssh-dss", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521"}, keyType)
		t.Run(filepath.Base(path), func(t *testing.T) {
			before := e.snapshot()
			resp, err := e.importKey("cn-shanghai", name, string(body))
			if !accepted {
				wantAPIError(t, err, "InvalidPublicKeyBody.Malformed", http.StatusBadRequest)
				e.assertUnchanged(before)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := readMD5Fixture(t, strings.TrimSuffix(path, ".pub")+".md5")
			if resp.KeyPairFingerPrint != want {
				t.Errorf("fingerprint %s, ssh-keygen says %s", resp.KeyPairFingerPrint, want)
			}
			if resp.KeyPairName != name {
				t.Errorf("KeyPairName %q", resp.KeyPairName)
			}
			// Found by its fingerprint.
			d := e.describeKeys("cn-shanghai", func(r *ecs.DescribeKeyPairsRequest) { r.KeyPairFingerPrint = want })
			if !slices.Equal(keyNames(d), []string{name}) {
				t.Errorf("by fingerprint: %v", keyNames(d))
			}
		})
		_ = i
	}
}

// readMD5Fixture reads what `ssh-keygen -l -E md5` printed, e.g.
// "2048 MD5:ab:cd:... comment (RSA)", and returns the hex after "MD5:".
func readMD5Fixture(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range strings.Fields(string(b)) {
		if hex, ok := strings.CutPrefix(f, "MD5:"); ok {
			return hex
		}
	}
	t.Fatalf("%s: no MD5: field", path)
	return ""
}

func TestDescribeKeyPairsFilters(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, Options{})
	for _, n := range []string{"SshKey", "webSshKey", "SshKeyProd", "mySshKeyOld", "sshkey-lower", "other"} {
		e.create("cn-hangzhou", n)
	}
	e.create("cn-hangzhou", "tagged-a", ecs.CreateKeyPairTag{Key: "team", Value: "web"}, ecs.CreateKeyPairTag{Key: "env", Value: "prod"})
	e.create("cn-hangzhou", "tagged-b", ecs.CreateKeyPairTag{Key: "team", Value: "web"}, ecs.CreateKeyPairTag{Key: "env", Value: "dev"})
	e.create("cn-shanghai", "SshKeyElsewhere")

	for _, tc := range []struct {
		pattern string
		want    []string
	}{
		{"*SshKey", []string{"SshKey", "webSshKey"}},
		{"SshKey*", []string{"SshKey", "SshKeyProd"}},
		{"*SshKey*", []string{"SshKey", "webSshKey", "SshKeyProd", "mySshKeyOld"}},
		{"SshKey", []string{"SshKey"}},
		{"my*Old", []string{"mySshKeyOld"}},
		{"sshkey*", []string{"sshkey-lower"}}, // case-sensitive
		{"nothing*", nil},
		{"*", []string{"SshKey", "webSshKey", "SshKeyProd", "mySshKeyOld", "sshkey-lower", "other", "tagged-a", "tagged-b"}},
	} {
		d := e.describeKeys("cn-hangzhou", func(r *ecs.DescribeKeyPairsRequest) {
			r.KeyPairName = tc.pattern
			r.PageSize = requests.NewInteger(50)
		})
		if got := keyNames(d); !slices.Equal(got, tc.want) || d.TotalCount != len(tc.want) {
			t.Errorf("KeyPairName %q: got %v (total %d), want %v", tc.pattern, got, d.TotalCount, tc.want)
		}
	}

	tagged := func(tags ...ecs.DescribeKeyPairsTag) []string {
		return keyNames(e.describeKeys("cn-hangzhou", func(r *ecs.DescribeKeyPairsRequest) { r.Tag = &tags }))
	}
	if got := tagged(ecs.DescribeKeyPairsTag{Key: "team", Value: "web"}); !slices.Equal(got, []string{"tagged-a", "tagged-b"}) {
		t.Errorf("team=web: %v", got)
	}
	if got := tagged(ecs.DescribeKeyPairsTag{Key: "team", Value: "web"}, ecs.DescribeKeyPairsTag{Key: "env", Value: "prod"}); !slices.Equal(got, []string{"tagged-a"}) {
		t.Errorf("team=web and env=prod: %v", got)
	}
	if got := tagged(ecs.DescribeKeyPairsTag{Key: "env"}); !slices.Equal(got, []string{"tagged-a", "tagged-b"}) {
		t.Errorf("key env, any value: %v", got)
	}

	// Paging keeps creation order; a page past the end is empty.
	var all []string
	for page := 1; page <= 4; page++ {
		d := e.describeKeys("cn-hangzhou", func(r *ecs.DescribeKeyPairsRequest) {
			r.PageSize, r.PageNumber = requests.NewInteger(3), requests.NewInteger(page)
		})
		if d.TotalCount != 8 || d.PageNumber != page || d.PageSize != 3 {
			t.Errorf("page %d: total %d number %d size %d", page, d.TotalCount, d.PageNumber, d.PageSize)
		}
		all = append(all, keyNames(d)...)
	}
	if want := []string{"SshKey", "webSshKey", "SshKeyProd", "mySshKeyOld", "sshkey-lower", "other", "tagged-a", "tagged-b"}; !slices.Equal(all, want) {
		t.Errorf("all pages: %v", all)
	}
	// Default page size is 10.
	if d := e.describeKeys("cn-hangzhou", nil); d.PageSize != 10 || d.PageNumber != 1 {
		t.Errorf("defaults: page %d size %d", d.PageNumber, d.PageSize)
	}
}

func TestAttachDetachDelete(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, Options{})
	const region = "cn-hangzhou"
	web1, web2, db := e.instanceID("web-prod-01"), e.instanceID("web-prod-02"), e.instanceID("db-replica-01")
	win, starting := e.instanceID("ad-controller-01"), e.instanceID("ci-runner-01")
	e.create(region, "first")
	e.create(region, "second")

	// Attach to a Running and a Stopped Linux instance.
	resp, err := e.attach(region, "first", web1, db)
	if err != nil {
		t.Fatal(err)
	}
	if resp.TotalCount != "2" || resp.FailCount != "0" || resp.KeyPairName != "first" || len(resp.Results.Result) != 2 {
		t.Fatalf("attach: %+v", resp)
	}
	for _, r := range resp.Results.Result {
		if r.Success != "true" || r.Code != "200" || r.Message != "successful" {
			t.Errorf("attach result %+v", r)
		}
	}
	if e.instanceKey(region, web1) != "first" || e.instanceKey(region, db) != "first" {
		t.Error("attach did not bind the key")
	}
	// DescribeInstances finds instances by key pair name.
	req := ecs.CreateDescribeInstancesRequest()
	req.RegionId, req.KeyPairName = region, "first"
	bound, err := e.ecs.DescribeInstances(req)
	if err != nil || bound.TotalCount != 2 {
		t.Fatalf("instances with key first: %v %+v", err, bound)
	}

	// Attaching another key replaces the first.
	if _, err := e.attach(region, "second", web1); err != nil {
		t.Fatal(err)
	}
	if got := e.instanceKey(region, web1); got != "second" {
		t.Errorf("after replacing: %q", got)
	}

	// A mixed batch: Windows and a Starting instance fail one by one.
	resp, err = e.attach(region, "second", web2, win, starting)
	if err != nil {
		t.Fatal(err)
	}
	if resp.TotalCount != "3" || resp.FailCount != "2" {
		t.Errorf("mixed batch: total %s failed %s", resp.TotalCount, resp.FailCount)
	}
	codes := map[string]string{}
	for _, r := range resp.Results.Result {
		codes[r.InstanceId] = r.Success + " " + r.Code
	}
	if codes[web2] != "true 200" || codes[win] != "false DependencyViolation.WindowsInstance" || codes[starting] != "false IncorrectInstanceStatus" {
		t.Errorf("mixed batch results: %v", codes)
	}
	if e.instanceKey(region, win) != "" || e.instanceKey(region, starting) != "" {
		t.Error("a failed instance got the key")
	}

	// A bound key cannot be deleted; nothing in the batch is.
	before := e.snapshot()
	del := ecs.CreateDeleteKeyPairsRequest()
	del.RegionId, del.KeyPairNames = region, jsonList("first", "second")
	_, err = e.ecs.DeleteKeyPairs(del)
	wantAPIError(t, err, "InvalidParameter.KeypairAlreadyAttachedInstance", http.StatusBadRequest)
	e.assertUnchanged(before)

	// Detach: only where the key is attached.
	dresp, err := e.detach(region, "first", db, web1)
	if err != nil {
		t.Fatal(err)
	}
	if dresp.TotalCount != "2" || dresp.FailCount != "1" {
		t.Errorf("detach: %+v", dresp)
	}
	if e.instanceKey(region, db) != "" || e.instanceKey(region, web1) != "second" {
		t.Error("detach changed the wrong instance")
	}
	if _, err := e.detach(region, "second", web1, web2); err != nil {
		t.Fatal(err)
	}

	// Now both delete; an unknown name in the list is ignored.
	del = ecs.CreateDeleteKeyPairsRequest()
	del.RegionId, del.KeyPairNames = region, jsonList("first", "second", "never-existed")
	if _, err := e.ecs.DeleteKeyPairs(del); err != nil {
		t.Fatal(err)
	}
	if d := e.describeKeys(region, nil); d.TotalCount != 0 {
		t.Errorf("after delete: %v", keyNames(d))
	}
	// Deleting again is a no-op, not an error.
	del = ecs.CreateDeleteKeyPairsRequest()
	del.RegionId, del.KeyPairNames = region, jsonList("first")
	if _, err := e.ecs.DeleteKeyPairs(del); err != nil {
		t.Errorf("deleting a deleted key: %v", err)
	}
}
