package cloud

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud/emulator"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
)

func TestNewEndpointRule(t *testing.T) {
	for _, tc := range []struct {
		endpoint string
		ok       bool
		want     string // in the error
	}{
		{"", true, ""},
		{"https://ecs.example.com", true, ""},
		{"https://ecs.example.com:8443/", true, ""},
		{"http://127.0.0.1:1", true, ""},
		{"http://127.9.8.7:1", true, ""},
		{"http://localhost:1", true, ""},
		{"http://LOCALHOST:1", true, ""},
		{"http://[::1]:1", true, ""},
		{"https://127.0.0.1:8443", true, ""},
		{"http://example.com", false, "only allowed for a loopback host"},
		{"http://10.0.0.1:8080", false, "only allowed for a loopback host"},
		{"http://localhost.example.com", false, "only allowed for a loopback host"},
		{"ftp://ecs.example.com", false, "scheme https://"},
		{"127.0.0.1:8080", false, "scheme https://"},
		{"ecs.example.com", false, "scheme https://"},
		{"https://", false, "scheme https://"},
		{"https://user:pw@ecs.example.com", false, "no user, path or query"},
		{"https://ecs.example.com/api", false, "no user, path or query"},
		{"https://ecs.example.com/?a=b", false, "no user, path or query"},
	} {
		t.Run(tc.endpoint, func(t *testing.T) {
			_, err := New(Config{Endpoint: tc.endpoint})
			if tc.ok {
				if err != nil {
					t.Fatalf("New(%q): %v", tc.endpoint, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("New(%q) succeeded, want an error", tc.endpoint)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), strings.Replace(tc.endpoint, ":pw@", ":xxxxx@", 1)) {
				t.Errorf("New(%q): %v; want it to name the endpoint and say %q", tc.endpoint, err, tc.want)
			}
			if strings.Contains(tc.endpoint, "pw@") && strings.Contains(err.Error(), ":pw@") {
				t.Errorf("error leaks the password: %v", err)
			}
		})
	}
}

func TestNewConfigErrors(t *testing.T) {
	for name, cfg := range map[string]Config{
		"negative timeout":     {Timeout: -1},
		"negative concurrency": {Concurrency: -1},
		"empty secret":         {Credentials: &StaticCredentials{AccessKeyID: "LTAIxxxx"}},
		"profile and static":   {Profile: "p", Credentials: &StaticCredentials{AccessKeyID: "a", AccessKeySecret: "b"}},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
	t.Setenv("DEBUG", "x,sdk")
	if _, err := New(Config{}); err == nil || !strings.Contains(err.Error(), "DEBUG") {
		t.Errorf("DEBUG=sdk: New = %v, want an error naming DEBUG", err)
	}
}

// Without an endpoint override every request goes over HTTPS to the
// request's region endpoint (the SDK's default scheme is HTTP).
func TestHTTPSRegionEndpoints(t *testing.T) {
	rec := &recorder{}
	c, err := New(Config{
		Credentials:  &StaticCredentials{AccessKeyID: "LTAI5tTestTestTest", AccessKeySecret: "topsecretvalue123"},
		roundTripper: rec,
		Retry:        fastRetry,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		region, host string
	}{
		{"cn-hangzhou", "ecs-cn-hangzhou.aliyuncs.com"},
		{"cn-beijing", "ecs.cn-beijing.aliyuncs.com"},
		{"ap-southeast-1", "ecs.ap-southeast-1.aliyuncs.com"},
		{"eu-central-1", "ecs.eu-central-1.aliyuncs.com"},
	} {
		_, err := c.DescribeKeyPairs(bg, schema.DescribeKeyPairsInput{RegionID: tc.region})
		e := wantError(t, err, CodeConnectionFailed, 0)
		u := rec.last()
		if u.Scheme != "https" || u.Host != tc.host || u.Query().Get("RegionId") != tc.region {
			t.Errorf("%s: request went to %s://%s with RegionId %q; want https://%s", tc.region, u.Scheme, u.Host, u.Query().Get("RegionId"), tc.host)
		}
		if strings.Contains(e.Error(), "Signature") || strings.Contains(e.Error(), "topsecret") || strings.Contains(e.Error(), "?") {
			t.Errorf("transport error leaks the URL: %v", e)
		}
		if !e.Retryable || !strings.Contains(e.Message, tc.host) {
			t.Errorf("transport error = %+v; want retryable, naming %s", e, tc.host)
		}
	}
	// A region-less call uses the client's region.
	_, _ = c.DescribeRegions(bg)
	if u := rec.last(); u.Scheme != "https" || u.Host != "ecs-cn-hangzhou.aliyuncs.com" {
		t.Errorf("DescribeRegions went to %s", u.Redacted())
	}

	// An https override is honoured for every region.
	rec2 := &recorder{}
	c2, err := New(Config{Endpoint: "https://ecs.example.com:8443",
		Credentials:  &StaticCredentials{AccessKeyID: "LTAI5tTestTestTest", AccessKeySecret: "topsecretvalue123"},
		roundTripper: rec2})
	if err != nil {
		t.Fatal(err)
	}
	_, _, _ = c2.AttachKeyPair(bg, "cn-shanghai", "k1", []string{"i-1"})
	if u := rec2.last(); u.Scheme != "https" || u.Host != "ecs.example.com:8443" || u.Query().Get("RegionId") != "cn-shanghai" {
		t.Errorf("override: request went to %s", u.Redacted())
	}
}

func TestDescribeRegions(t *testing.T) {
	env := newEnv(t, emulator.Options{})
	c := env.client()
	out, err := c.DescribeRegions(bg)
	if err != nil {
		t.Fatal(err)
	}
	seed := loadSeed(t)
	if len(out.Regions) != len(seed.Regions) {
		t.Fatalf("got %d regions, want %d", len(out.Regions), len(seed.Regions))
	}
	for i, r := range out.Regions {
		want := seed.Regions[i]
		if r.RegionID != want.RegionID || r.LocalName != want.LocalName || r.RegionEndpoint != want.RegionEndpoint || r.Status != want.Status {
			t.Errorf("region %d = %+v, want %+v", i, r, want)
		}
	}
}

func TestKeyPairLifecycle(t *testing.T) {
	env := newEnv(t, emulator.Options{})
	c := env.client()
	const region = "cn-hangzhou"

	created, err := c.CreateKeyPair(bg, schema.CreateKeyPairInput{RegionID: region, KeyPairName: "made-here",
		Tags: []schema.Tag{{Key: "env", Value: "dev"}, {Key: "empty"}}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(created.KeyPairID, "ssh-") || created.KeyPairName != "made-here" || created.RequestID == "" ||
		len(strings.Split(created.KeyPairFingerPrint, ":")) != 16 {
		t.Errorf("created = %v", created)
	}
	if !strings.HasPrefix(string(created.PrivateKeyPEM), "-----BEGIN ") || !strings.Contains(string(created.PrivateKeyPEM), "PRIVATE KEY-----") {
		t.Errorf("private key is not PEM")
	}

	pub := readPublicKey(t, "rsa2048.pub")
	md5, err := os.ReadFile(filepath.Join(testdata, "keys", "rsa2048.md5"))
	if err != nil {
		t.Fatal(err)
	}
	imported, err := c.ImportKeyPair(bg, schema.ImportKeyPairInput{RegionID: region, KeyPairName: "laptop.v1",
		PublicKeyBody: pub, Tags: []schema.Tag{{Key: "owner", Value: "me"}}})
	if err != nil {
		t.Fatal(err)
	}
	// ssh-keygen -l -E md5 output: "2048 MD5:<fingerprint> comment (RSA)".
	wantFP := strings.TrimPrefix(strings.Fields(string(md5))[1], "MD5:")
	if imported.KeyPairName != "laptop.v1" || imported.KeyPairFingerPrint != wantFP || imported.RequestID == "" {
		t.Errorf("imported = %+v, want fingerprint %s", imported, wantFP)
	}

	all, err := c.DescribeKeyPairs(bg, schema.DescribeKeyPairsInput{RegionID: region})
	if err != nil {
		t.Fatal(err)
	}
	if all.TotalCount != 2 || len(all.KeyPairs) != 2 || all.KeyPairs[0].KeyPairName != "made-here" || all.KeyPairs[1].KeyPairName != "laptop.v1" {
		t.Fatalf("describe all = %+v", all)
	}
	k := all.KeyPairs[0]
	if k.PublicKey != "" || k.CreationTime == "" || k.ResourceGroupID == "" || k.KeyPairFingerPrint != created.KeyPairFingerPrint {
		t.Errorf("key pair = %+v", k)
	}
	if len(k.Tags) != 2 || k.Tags[0] != (schema.Tag{Key: "env", Value: "dev"}) || k.Tags[1] != (schema.Tag{Key: "empty"}) {
		t.Errorf("tags = %+v", k.Tags)
	}

	for _, tc := range []struct {
		name string
		in   schema.DescribeKeyPairsInput
		want []string
	}{
		{"wildcard prefix", schema.DescribeKeyPairsInput{KeyPairName: "made*"}, []string{"made-here"}},
		{"wildcard middle", schema.DescribeKeyPairsInput{KeyPairName: "l*1"}, []string{"laptop.v1"}},
		{"wildcard case-sensitive", schema.DescribeKeyPairsInput{KeyPairName: "MADE*"}, nil},
		{"exact", schema.DescribeKeyPairsInput{KeyPairName: "laptop.v1"}, []string{"laptop.v1"}},
		{"tag", schema.DescribeKeyPairsInput{Tags: []schema.Tag{{Key: "owner", Value: "me"}}}, []string{"laptop.v1"}},
		{"tag key only", schema.DescribeKeyPairsInput{Tags: []schema.Tag{{Key: "env"}}}, []string{"made-here"}},
		{"fingerprint", schema.DescribeKeyPairsInput{KeyPairFingerPrint: wantFP}, []string{"laptop.v1"}},
		{"no match", schema.DescribeKeyPairsInput{KeyPairName: "nothing*"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.RegionID = region
			out, err := c.DescribeKeyPairs(bg, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, k := range out.KeyPairs {
				got = append(got, k.KeyPairName)
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") || out.TotalCount != len(tc.want) || out.KeyPairs == nil {
				t.Errorf("got %v (total %d), want %v", got, out.TotalCount, tc.want)
			}
		})
	}

	withKey, err := c.DescribeKeyPairs(bg, schema.DescribeKeyPairsInput{RegionID: region, KeyPairName: "laptop.v1", IncludePublicKey: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(withKey.KeyPairs) != 1 || !strings.HasPrefix(pub, withKey.KeyPairs[0].PublicKey) || withKey.KeyPairs[0].PublicKey == "" {
		t.Errorf("includePublicKey: %+v", withKey.KeyPairs)
	}

	results, err := c.DeleteKeyPairs(bg, region, []string{"made-here", "laptop.v1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 1 || results[0].Err != nil || results[0].RequestID == "" || len(results[0].Items) != 2 {
		t.Errorf("delete = %+v", results)
	}
	if n := len(env.snapshot().KeyPairs); n != 0 {
		t.Errorf("%d key pairs left", n)
	}
}

func TestDescribeKeyPairsAllPages(t *testing.T) {
	env := newEnv(t, emulator.Options{})
	c := env.client()
	const region = "cn-shanghai"
	var names []string
	for i := range 120 {
		name := "kp-" + string(rune('a'+i%26)) + "-" + itoa(i)
		names = append(names, name)
		if _, err := c.CreateKeyPair(bg, schema.CreateKeyPairInput{RegionID: region, KeyPairName: name}); err != nil {
			t.Fatal(err)
		}
	}
	env.cnt.reset()
	out, err := c.DescribeKeyPairs(bg, schema.DescribeKeyPairsInput{RegionID: region})
	if err != nil {
		t.Fatal(err)
	}
	if out.TotalCount != 120 || len(out.KeyPairs) != 120 {
		t.Fatalf("got %d key pairs (total %d), want 120", len(out.KeyPairs), out.TotalCount)
	}
	for i, k := range out.KeyPairs {
		if k.KeyPairName != names[i] {
			t.Fatalf("key pair %d is %s, want %s (creation order)", i, k.KeyPairName, names[i])
		}
	}
	if n := env.cnt.count("DescribeKeyPairs"); n != 3 {
		t.Errorf("%d DescribeKeyPairs requests, want 3 (pages of 50)", n)
	}

	page, err := c.DescribeKeyPairs(bg, schema.DescribeKeyPairsInput{RegionID: region, PageNumber: 2, PageSize: 50})
	if err != nil {
		t.Fatal(err)
	}
	if page.TotalCount != 120 || len(page.KeyPairs) != 50 || page.KeyPairs[0].KeyPairName != names[50] || page.KeyPairs[49].KeyPairName != names[99] {
		t.Errorf("page 2: total %d, %d items", page.TotalCount, len(page.KeyPairs))
	}
	last, err := c.DescribeKeyPairs(bg, schema.DescribeKeyPairsInput{RegionID: region, PageNumber: 3, PageSize: 50})
	if err != nil {
		t.Fatal(err)
	}
	if last.TotalCount != 120 || len(last.KeyPairs) != 20 {
		t.Errorf("page 3: total %d, %d items", last.TotalCount, len(last.KeyPairs))
	}
	// Only pageSize: the first page of that size.
	first, err := c.DescribeKeyPairs(bg, schema.DescribeKeyPairsInput{RegionID: region, PageSize: 7})
	if err != nil {
		t.Fatal(err)
	}
	if first.TotalCount != 120 || len(first.KeyPairs) != 7 || first.KeyPairs[0].KeyPairName != names[0] {
		t.Errorf("pageSize only: total %d, %d items", first.TotalCount, len(first.KeyPairs))
	}
	// A page size the API refuses comes back as its error.
	_, err = c.DescribeKeyPairs(bg, schema.DescribeKeyPairsInput{RegionID: region, PageNumber: 1, PageSize: 51})
	wantError(t, err, "InvalidParameter", http.StatusBadRequest)
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}

func TestDeleteKeyPairsBatches(t *testing.T) {
	env := newEnv(t, emulator.Options{Faults: emulator.FaultPlan{Default: emulator.Faults{Latency: 50 * time.Millisecond}}})
	c := env.client()
	const region = "cn-hangzhou"
	var names []string
	for i := range 250 {
		names = append(names, "del-"+itoa(i))
	}
	// Ten exist, spread over the batches; the rest are unknown (a no-op).
	for i := 0; i < 250; i += 25 {
		if _, err := c.CreateKeyPair(bg, schema.CreateKeyPairInput{RegionID: region, KeyPairName: names[i]}); err != nil {
			t.Fatal(err)
		}
	}
	env.cnt.reset()
	start := time.Now()
	results, err := c.DeleteKeyPairs(bg, region, names)
	if err != nil {
		t.Fatal(err)
	}
	if n := env.cnt.count("DeleteKeyPairs"); n != 3 {
		t.Errorf("%d DeleteKeyPairs requests, want 3", n)
	}
	if env.cnt.maxConcurrent() < 2 {
		t.Errorf("batches were not sent concurrently (max in flight %d, took %s)", env.cnt.maxConcurrent(), time.Since(start))
	}
	if len(results) != 3 {
		t.Fatalf("%d results, want 3", len(results))
	}
	var all []string
	for i, r := range results {
		if r.Err != nil || r.RequestID == "" {
			t.Errorf("batch %d: %+v", i, r)
		}
		all = append(all, r.Items...)
	}
	if strings.Join(all, ",") != strings.Join(names, ",") || len(results[0].Items) != 100 || len(results[2].Items) != 50 {
		t.Errorf("batches are not the caller's names in order")
	}
	if n := len(env.snapshot().KeyPairs); n != 0 {
		t.Errorf("%d key pairs left", n)
	}
}

func TestDeleteKeyPairsBatchFailure(t *testing.T) {
	seed, linux, _ := instanceSeed(3, 0)
	env := newEnv(t, emulator.Options{Seed: seed})
	c := env.client()
	const region = "cn-hangzhou"
	names := []string{}
	for i := range 150 {
		names = append(names, "k-"+itoa(i))
	}
	for _, n := range []string{names[0], names[120]} {
		if _, err := c.CreateKeyPair(bg, schema.CreateKeyPairInput{RegionID: region, KeyPairName: n}); err != nil {
			t.Fatal(err)
		}
	}
	// names[120] is bound: its batch fails, the first goes through.
	if _, _, err := c.AttachKeyPair(bg, region, names[120], linux[:1]); err != nil {
		t.Fatal(err)
	}
	results, err := c.DeleteKeyPairs(bg, region, names)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 2 || results[0].Err != nil {
		t.Fatalf("results = %+v", results)
	}
	e := wantError(t, results[1].Err, "InvalidParameter.KeypairAlreadyAttachedInstance", http.StatusBadRequest)
	if results[1].RequestID == "" || results[1].RequestID != e.RequestID {
		t.Errorf("failed batch request ID %q, error's %q", results[1].RequestID, e.RequestID)
	}
}

func TestAttachDetachBatches(t *testing.T) {
	seed, linux, win := instanceSeed(130, 2)
	env := newEnv(t, emulator.Options{Seed: seed, Faults: emulator.FaultPlan{Default: emulator.Faults{Latency: 50 * time.Millisecond}}})
	c := env.client()
	const region = "cn-hangzhou"
	if _, err := c.CreateKeyPair(bg, schema.CreateKeyPairInput{RegionID: region, KeyPairName: "fleet"}); err != nil {
		t.Fatal(err)
	}
	// 120 instances in reverse order, one Windows instance among them.
	var ids []string
	for i := 118; i >= 0; i-- {
		ids = append(ids, linux[i])
	}
	ids = append(ids[:60], append([]string{win[0]}, ids[60:]...)...)
	env.cnt.reset()
	results, requestIDs, err := c.AttachKeyPair(bg, region, "fleet", ids)
	if err != nil {
		t.Fatal(err)
	}
	if n := env.cnt.count("AttachKeyPair"); n != 3 || len(requestIDs) != 3 {
		t.Errorf("%d requests, %d request IDs; want 3", n, len(requestIDs))
	}
	if env.cnt.maxConcurrent() < 2 {
		t.Errorf("batches were not sent concurrently (max in flight %d)", env.cnt.maxConcurrent())
	}
	if len(results) != len(ids) {
		t.Fatalf("%d results for %d instances", len(results), len(ids))
	}
	for i, r := range results {
		if r.InstanceID != ids[i] {
			t.Fatalf("result %d is for %s, want %s (caller order)", i, r.InstanceID, ids[i])
		}
		if r.InstanceID == win[0] {
			if r.Success || r.Code != "DependencyViolation.WindowsInstance" {
				t.Errorf("windows instance: %+v", r)
			}
		} else if !r.Success || r.Code != "200" {
			t.Errorf("instance %s: %+v", r.InstanceID, r)
		}
	}

	// A batch of only Windows instances fails as a whole: each instance is
	// marked with the batch's error.
	results, requestIDs, err = c.AttachKeyPair(bg, region, "fleet", win)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 2 || len(requestIDs) != 1 || requestIDs[0] == "" {
		t.Fatalf("results %+v, request IDs %v", results, requestIDs)
	}
	for i, r := range results {
		if r.InstanceID != win[i] || r.Success || r.Code != "DependencyViolation.WindowsInstance" || r.Message == "" {
			t.Errorf("all-windows batch: %+v", r)
		}
	}

	// An unknown instance fails its batch (InvalidInstanceIds) and only it.
	mixed := append(append([]string{}, linux[:50]...), "i-bp1doesnotexist000", linux[50])
	results, _, err = c.DetachKeyPair(bg, region, "fleet", mixed)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range results {
		if i < 50 && (!r.Success || r.InstanceID != linux[i]) {
			t.Errorf("detach %d: %+v", i, r)
		}
		if i >= 50 && (r.Success || r.Code != "InvalidInstanceIds.ValueNotSupported") {
			t.Errorf("detach in the bad batch %d: %+v", i, r)
		}
	}

	// Detach from an instance that does not carry the key: per instance.
	results, _, err = c.DetachKeyPair(bg, region, "fleet", []string{linux[0], linux[129]})
	if err != nil {
		t.Fatal(err)
	}
	if results[0].Success || results[1].Success || results[0].Code == "" {
		t.Errorf("detach of unbound: %+v", results)
	}

	// An unknown key pair: every batch fails the same way, per instance.
	results, _, err = c.AttachKeyPair(bg, region, "nope", linux[:60])
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.Success || r.Code != "InvalidKeyPairName.NotFound" {
			t.Fatalf("unknown key pair: %+v", r)
		}
	}
}

func TestDescribeInstances(t *testing.T) {
	seed, linux, win := instanceSeed(130, 2)
	env := newEnv(t, emulator.Options{Seed: seed})
	c := env.client()
	const region = "cn-hangzhou"

	out, err := c.DescribeInstances(bg, schema.DescribeInstancesInput{RegionID: region})
	if err != nil {
		t.Fatal(err)
	}
	if out.TotalCount != 132 || len(out.Instances) != 132 {
		t.Fatalf("got %d instances (total %d), want 132", len(out.Instances), out.TotalCount)
	}
	if n := env.cnt.count("DescribeInstances"); n != 2 {
		t.Errorf("%d requests, want 2 (pages of 100)", n)
	}
	for i, in := range out.Instances {
		want := seed.Instances[i]
		if in.InstanceID != want.InstanceID || in.OSType != want.OSType || in.Status != want.Status ||
			in.InstanceName != want.InstanceName || in.RegionID != region || in.ZoneID != want.ZoneID || in.KeyPairName != "" {
			t.Fatalf("instance %d = %+v, want %+v", i, in, want)
		}
	}

	// 130 IDs, reversed: two batches, merged in the caller's order.
	var ids []string
	for i := len(linux) - 1; i >= 0; i-- {
		ids = append(ids, linux[i])
	}
	env.cnt.reset()
	out, err = c.DescribeInstances(bg, schema.DescribeInstancesInput{RegionID: region, InstanceIDs: ids})
	if err != nil {
		t.Fatal(err)
	}
	if n := env.cnt.count("DescribeInstances"); n != 2 {
		t.Errorf("%d requests, want 2 (batches of 100 IDs)", n)
	}
	if len(out.Instances) != 130 || out.TotalCount != 130 {
		t.Fatalf("got %d instances", len(out.Instances))
	}
	for i, in := range out.Instances {
		if in.InstanceID != ids[i] {
			t.Fatalf("instance %d is %s, want %s", i, in.InstanceID, ids[i])
		}
	}

	page, err := c.DescribeInstances(bg, schema.DescribeInstancesInput{RegionID: region, PageNumber: 2, PageSize: 50})
	if err != nil {
		t.Fatal(err)
	}
	if page.TotalCount != 132 || len(page.Instances) != 50 || page.Instances[0].InstanceID != seed.Instances[50].InstanceID {
		t.Errorf("page 2: total %d, %d items", page.TotalCount, len(page.Instances))
	}
	_, err = c.DescribeInstances(bg, schema.DescribeInstancesInput{RegionID: region, InstanceIDs: ids, PageNumber: 1, PageSize: 10})
	wantError(t, err, CodeInvalidParameter, 0)

	// Filters: status, OS type mapping, key pair name.
	stopped, err := c.DescribeInstances(bg, schema.DescribeInstancesInput{RegionID: region, Status: "Stopped"})
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range stopped.Instances {
		if in.Status != "Stopped" {
			t.Errorf("status filter returned %+v", in)
		}
	}
	wins, err := c.DescribeInstances(bg, schema.DescribeInstancesInput{RegionID: region, InstanceIDs: win})
	if err != nil {
		t.Fatal(err)
	}
	if len(wins.Instances) != 2 || wins.Instances[0].OSType != "windows" {
		t.Errorf("windows: %+v", wins.Instances)
	}
	if _, err := c.CreateKeyPair(bg, schema.CreateKeyPairInput{RegionID: region, KeyPairName: "bound"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.AttachKeyPair(bg, region, "bound", linux[3:6]); err != nil {
		t.Fatal(err)
	}
	bound, err := c.DescribeInstances(bg, schema.DescribeInstancesInput{RegionID: region, KeyPairName: "bound"})
	if err != nil {
		t.Fatal(err)
	}
	if bound.TotalCount != 3 || bound.Instances[0].KeyPairName != "bound" {
		t.Errorf("key pair filter: %+v", bound)
	}
	none, err := c.DescribeInstances(bg, schema.DescribeInstancesInput{RegionID: region, KeyPairName: "nothing"})
	if err != nil {
		t.Fatal(err)
	}
	if none.Instances == nil || none.TotalCount != 0 {
		t.Errorf("no match: %+v", none)
	}
}

func TestErrorMapping(t *testing.T) {
	env := newEnv(t, emulator.Options{KeyPairQuota: 2})
	c := env.client()
	const region = "cn-hangzhou"
	if _, err := c.CreateKeyPair(bg, schema.CreateKeyPairInput{RegionID: region, KeyPairName: "one"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		call      func() error
		code      string
		status    int
		retryable bool
	}{
		{"already exists", func() error {
			_, err := c.CreateKeyPair(bg, schema.CreateKeyPairInput{RegionID: region, KeyPairName: "one"})
			return err
		}, "KeyPair.AlreadyExist", 400, false},
		{"quota", func() error {
			if _, err := c.CreateKeyPair(bg, schema.CreateKeyPairInput{RegionID: region, KeyPairName: "two"}); err != nil {
				return err
			}
			_, err := c.CreateKeyPair(bg, schema.CreateKeyPairInput{RegionID: region, KeyPairName: "three"})
			return err
		}, "QuotaExceed.KeyPair", 403, false},
		{"unknown region", func() error {
			_, err := c.DescribeKeyPairs(bg, schema.DescribeKeyPairsInput{RegionID: "xx-nowhere-1"})
			return err
		}, "InvalidRegionId.NotFound", 404, false},
		{"malformed public key", func() error {
			_, err := c.ImportKeyPair(bg, schema.ImportKeyPairInput{RegionID: region, KeyPairName: "bad", PublicKeyBody: "ssh-rsa AAAA"})
			return err
		}, "InvalidPublicKeyBody.Malformed", 400, false},
		{"unknown region stops a batched call", func() error {
			_, err := c.DeleteKeyPairs(bg, "xx-nowhere-1", []string{"a"})
			return err
		}, "InvalidRegionId.NotFound", 404, false},
		{"host injection in region", func() error {
			_, err := c.DescribeKeyPairs(bg, schema.DescribeKeyPairsInput{RegionID: "evil.example.com#"})
			return err
		}, "InvalidRegionId.Malformed", 0, false},
		{"missing region", func() error {
			_, err := c.DescribeInstances(bg, schema.DescribeInstancesInput{})
			return err
		}, CodeMissingParameter, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := wantError(t, tc.call(), tc.code, tc.status)
			if tc.status != 0 && (e.RequestID == "" || !strings.Contains(e.Error(), e.RequestID)) {
				t.Errorf("request ID missing: %v", e)
			}
			if e.Retryable != tc.retryable || e.Message == "" || e.Action == "" {
				t.Errorf("error = %+v", e)
			}
			if !strings.HasPrefix(e.Error(), tc.code+": ") {
				t.Errorf("Error() = %q", e.Error())
			}
		})
	}

	for _, tc := range []struct {
		name   string
		faults emulator.Faults
		codes  []string
	}{
		{"throttling", emulator.Faults{ThrottleRate: 1}, []string{"Throttling"}},
		{"server error", emulator.Faults{ServerErrorRate: 1}, []string{"ServiceUnavailable", "InternalError"}},
		{"dropped connection", emulator.Faults{DropRate: 1}, []string{CodeConnectionFailed}},
		{"dropped after the change", emulator.Faults{DropAfterRate: 1}, []string{CodeConnectionFailed}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env.emu.SetFaults(emulator.FaultPlan{Default: tc.faults})
			defer env.emu.SetFaults(emulator.FaultPlan{})
			for range 4 {
				_, err := c.DescribeRegions(bg)
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("got %T %v", err, err)
				}
				if !strings.Contains(strings.Join(tc.codes, ","), e.Code) || !e.Retryable {
					t.Fatalf("got %+v, want one of %v, retryable", e, tc.codes)
				}
				if e.Code != CodeConnectionFailed && (e.RequestID == "" || e.HTTPStatus < 400) {
					t.Errorf("API error without request ID or status: %+v", e)
				}
				if e.Code == "ServiceUnavailable" && e.HTTPStatus != 503 {
					t.Errorf("ServiceUnavailable with HTTP %d", e.HTTPStatus)
				}
			}
		})
	}

	// A closed port: connection refused, retryable.
	dead := newEnv(t, emulator.Options{})
	dc := dead.client()
	dead.srv.Close()
	_, err := dc.DescribeRegions(bg)
	e := wantError(t, err, CodeConnectionFailed, 0)
	if !e.Retryable || !strings.Contains(e.Message, "refused") {
		t.Errorf("closed port: %+v", e)
	}
}

func TestPerBatchTransportFailure(t *testing.T) {
	seed, linux, _ := instanceSeed(60, 0)
	env := newEnv(t, emulator.Options{Seed: seed})
	c := env.client()
	if _, err := c.CreateKeyPair(bg, schema.CreateKeyPairInput{RegionID: "cn-hangzhou", KeyPairName: "kk"}); err != nil {
		t.Fatal(err)
	}
	env.emu.SetFaults(emulator.FaultPlan{PerAction: map[string]emulator.Faults{"AttachKeyPair": {DropAfterRate: 1}}})
	results, ids, err := c.AttachKeyPair(bg, "cn-hangzhou", "kk", linux)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 60 || len(ids) != 0 {
		t.Fatalf("results %d, ids %v", len(results), ids)
	}
	for _, r := range results {
		if r.Success || r.Code != CodeConnectionFailed || !strings.Contains(r.Message, "without an answer") {
			t.Fatalf("dropped batch: %+v", r)
		}
	}
}

// An instance a successful batch's answer leaves out was in a request the
// API applied: what became of it is unknown, so it may have been changed.
// Attach, detach and reboot read such an answer alike.
func TestAnswerWithoutInstance(t *testing.T) {
	rec := &recorder{respond: func(r *http.Request) *http.Response {
		switch r.URL.Query().Get("Action") {
		case "RebootInstances":
			return jsonResponse(r, 200, `{"RequestId": "R-reboot", "InstanceResponses": {"InstanceResponse": [`+
				`{"InstanceId": "i-a", "Code": "200", "CurrentStatus": "Stopping"}]}}`)
		default:
			return jsonResponse(r, 200, `{"RequestId": "R-bind", "TotalCount": "2", "FailCount": "0", "Results": {"Result": [`+
				`{"InstanceId": "i-a", "Success": "true", "Code": "200", "Message": "successful"}]}}`)
		}
	}}
	c, err := New(Config{Credentials: &StaticCredentials{AccessKeyID: "LTAIxx", AccessKeySecret: "secret-xyz-123"}, roundTripper: rec})
	if err != nil {
		t.Fatal(err)
	}
	for _, action := range []string{"AttachKeyPair", "DetachKeyPair"} {
		bind := c.AttachKeyPair
		if action == "DetachKeyPair" {
			bind = c.DetachKeyPair
		}
		results, ids, err := bind(bg, "cn-hangzhou", "k", []string{"i-a", "i-b"})
		if err != nil {
			t.Fatalf("%s: %v", action, err)
		}
		if len(results) != 2 || len(ids) != 1 || ids[0] != "R-bind" {
			t.Fatalf("%s: results %+v, ids %v", action, results, ids)
		}
		if r := results[0]; r.InstanceID != "i-a" || !r.Success || r.MaybeApplied {
			t.Errorf("%s: answered instance: %+v", action, r)
		}
		if r := results[1]; r.InstanceID != "i-b" || r.Success || r.Code != CodeInvalidResponse || !r.MaybeApplied {
			t.Errorf("%s: instance missing from the answer: %+v, want failed, %s, maybe applied", action, r, CodeInvalidResponse)
		}
	}
	results, ids, err := c.RebootInstances(bg, "cn-hangzhou", []string{"i-a", "i-b"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 2 || len(ids) != 1 || ids[0] != "R-reboot" {
		t.Fatalf("reboot: results %+v, ids %v", results, ids)
	}
	if r := results[0]; r.InstanceID != "i-a" || !r.Success || r.Status != "Stopping" || r.MaybeApplied {
		t.Errorf("reboot: answered instance: %+v", r)
	}
	if r := results[1]; r.InstanceID != "i-b" || r.Success || r.Code != CodeInvalidResponse || !r.MaybeApplied {
		t.Errorf("reboot: instance missing from the answer: %+v, want failed, %s, maybe applied", r, CodeInvalidResponse)
	}
}

func TestWrongSecret(t *testing.T) {
	env := newEnv(t, emulator.Options{})
	const wrong = "ThisIsNotTheSecret0123456789xy"
	c := env.client(func(cfg *Config) {
		cfg.Credentials = &StaticCredentials{AccessKeyID: env.creds.AccessKeyID, AccessKeySecret: wrong}
	})
	_, err := c.DescribeKeyPairs(bg, schema.DescribeKeyPairsInput{RegionID: "cn-hangzhou"})
	e := wantError(t, err, "SignatureDoesNotMatch", 400)
	for _, bad := range []string{wrong, env.creds.AccessKeySecret, "string to sign", "Signature=", env.creds.AccessKeyID} {
		if strings.Contains(e.Error(), bad) {
			t.Errorf("error contains %q: %v", bad, e)
		}
	}
	if !strings.Contains(e.Message, "AccessKey secret") || e.Retryable || e.RequestID == "" {
		t.Errorf("error = %+v", e)
	}

	// A wrong AccessKey ID.
	c2 := env.client(func(cfg *Config) {
		cfg.Credentials = &StaticCredentials{AccessKeyID: "LTAIunknownunknown00", AccessKeySecret: wrong}
	})
	_, err = c2.DescribeRegions(bg)
	e = wantError(t, err, "InvalidAccessKeyId.NotFound", 404)
	if !strings.Contains(e.Message, "AccessKey ID") {
		t.Errorf("error = %+v", e)
	}
	// Batched calls report it once, as the call's error.
	_, _, err = c2.AttachKeyPair(bg, "cn-hangzhou", "k", []string{"i-a", "i-b"})
	wantError(t, err, "InvalidAccessKeyId.NotFound", 404)
}

func TestSTSCredentials(t *testing.T) {
	const token = "CAIS-sts-token-value-0123456789abcdef"
	env := newEnv(t, emulator.Options{Credentials: emulator.Credentials{SecurityToken: token}})
	c := env.client()
	if _, err := c.DescribeRegions(bg); err != nil {
		t.Fatal(err)
	}
	// Without the token the emulator refuses, as the cloud does.
	c2 := env.client(func(cfg *Config) { cfg.Credentials.SecurityToken = "" })
	_, err := c2.DescribeRegions(bg)
	wantError(t, err, "MissingSecurityToken", 400)
	c3 := env.client(func(cfg *Config) { cfg.Credentials.SecurityToken = "CAIS-wrong-token-000000000000" })
	_, err = c3.DescribeRegions(bg)
	if err == nil || strings.Contains(err.Error(), "CAIS-") {
		t.Errorf("wrong token: %v", err)
	}
}

// clearCredentialEnv leaves no credential source: no ALIBABA_CLOUD_*
// variables, an empty home, no metadata service.
func clearCredentialEnv(t *testing.T) string {
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "ALIBABA_CLOUD_") {
			t.Setenv(k, "")
		}
	}
	for _, k := range []string{"ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_SECURITY_TOKEN",
		"ALIBABA_CLOUD_ROLE_ARN", "ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "ALIBABA_CLOUD_OIDC_TOKEN_FILE", "ALIBABA_CLOUD_PROFILE",
		"ALIBABA_CLOUD_CREDENTIALS_FILE", "ALIBABA_CLOUD_CREDENTIALS_URI", "ALIBABA_CLOUD_ECS_METADATA"} {
		t.Setenv(k, "")
	}
	t.Setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("USERPROFILE", home)
	return home
}

func TestMissingCredentials(t *testing.T) {
	clearCredentialEnv(t)
	env := newEnv(t, emulator.Options{})
	c := env.client(func(cfg *Config) { cfg.Credentials = nil })
	start := time.Now()
	_, err := c.DescribeRegions(bg)
	e := wantError(t, err, CodeMissingCredentials, 0)
	if e.Message != MissingCredentialsMessage {
		t.Errorf("message = %q", e.Message)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %s", d)
	}
	if n := env.cnt.count("DescribeRegions"); n != 0 {
		t.Errorf("%d requests sent without credentials", n)
	}
	// Batched calls report it once.
	_, err = c.DeleteKeyPairs(bg, "cn-hangzhou", []string{"a", "b"})
	wantError(t, err, CodeMissingCredentials, 0)

	cp := env.client(func(cfg *Config) { cfg.Credentials, cfg.Profile = nil, "nosuch" })
	_, err = cp.DescribeRegions(bg)
	e = wantError(t, err, CodeMissingCredentials, 0)
	if !strings.Contains(e.Message, `"nosuch"`) || !strings.Contains(e.Message, "--sandbox") {
		t.Errorf("profile message = %q", e.Message)
	}
}

func TestChainCredentials(t *testing.T) {
	home := clearCredentialEnv(t)
	env := newEnv(t, emulator.Options{})
	id, secret := env.creds.AccessKeyID, env.creds.AccessKeySecret

	t.Run("environment", func(t *testing.T) {
		t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", id)
		t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", secret)
		c := env.client(func(cfg *Config) { cfg.Credentials = nil })
		if _, err := c.DescribeRegions(bg); err != nil {
			t.Fatal(err)
		}
	})

	cli := `{"current": "other", "profiles": [
		{"name": "other", "mode": "AK", "access_key_id": "LTAIother", "access_key_secret": "other-secret"},
		{"name": "emu", "mode": "AK", "access_key_id": "` + id + `", "access_key_secret": "` + secret + `"},
		{"name": "broken", "mode": "Bogus"}]}`
	if err := os.MkdirAll(filepath.Join(home, ".aliyun"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".aliyun", "config.json"), []byte(cli), 0o600); err != nil {
		t.Fatal(err)
	}
	ini := "[default]\ntype = access_key\naccess_key_id = LTAIdefault\naccess_key_secret = default-secret\n\n" +
		"[inifile]\ntype = access_key\naccess_key_id = " + id + "\naccess_key_secret = " + secret + "\n"
	if err := os.MkdirAll(filepath.Join(home, ".alibabacloud"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".alibabacloud", "credentials"), []byte(ini), 0o600); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		profile string
		code    string // "" = success
	}{
		{"emu", ""},
		{"inifile", ""},
		{"other", "InvalidAccessKeyId.NotFound"}, // a profile that exists, with keys the emulator does not know
		{"broken", CodeMissingCredentials},
		{"absent", CodeMissingCredentials},
	} {
		t.Run("profile "+tc.profile, func(t *testing.T) {
			c := env.client(func(cfg *Config) { cfg.Credentials, cfg.Profile = nil, tc.profile })
			_, err := c.DescribeRegions(bg)
			if tc.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			e := wantError(t, err, tc.code, 0)
			if strings.Contains(e.Error(), "secret") && strings.Contains(e.Error(), secret) {
				t.Errorf("error leaks the secret: %v", e)
			}
			if tc.profile == "broken" && !strings.Contains(e.Message, "could not be used") {
				t.Errorf("broken profile message: %q", e.Message)
			}
		})
	}

	// Without a profile, the chain uses the CLI config's current profile.
	c := env.client(func(cfg *Config) { cfg.Credentials = nil })
	_, err := c.DescribeRegions(bg)
	wantError(t, err, "InvalidAccessKeyId.NotFound", 404)
}

func TestContextCancel(t *testing.T) {
	env := newEnv(t, emulator.Options{Faults: emulator.FaultPlan{Default: emulator.Faults{Latency: 2 * time.Second}}})
	c := env.client()

	ctx, cancel := context.WithCancel(bg)
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.DescribeRegions(ctx)
	if d := time.Since(start); d > 400*time.Millisecond {
		t.Errorf("returned after %s", d)
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	wantError(t, err, CodeRequestCanceled, 0)

	ctx, cancel2 := context.WithTimeout(bg, 100*time.Millisecond)
	defer cancel2()
	start = time.Now()
	_, _, err = c.AttachKeyPair(ctx, "cn-hangzhou", "k", []string{"i-a"})
	if d := time.Since(start); d > 500*time.Millisecond || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("deadline: %v after %s", err, d)
	}

	// A context done before the call sends nothing.
	env.cnt.reset()
	done, cancel3 := context.WithCancel(bg)
	cancel3()
	_, err = c.DeleteKeyPairs(done, "cn-hangzhou", []string{"a"})
	if !errors.Is(err, context.Canceled) || env.cnt.count("DeleteKeyPairs") != 0 {
		t.Errorf("cancelled before: %v, %d requests", err, env.cnt.count("DeleteKeyPairs"))
	}
}

// Requests from many goroutines on one Client: the race detector checks the
// SDK clients are never shared.
func TestConcurrentUse(t *testing.T) {
	env := newEnv(t, emulator.Options{})
	c := env.client(func(cfg *Config) { cfg.Concurrency = 3 })
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 20 {
		wg.Go(func() {
			if _, err := c.DescribeRegions(bg); err != nil {
				errs <- err
			}
			if _, err := c.CreateKeyPair(bg, schema.CreateKeyPairInput{RegionID: "cn-qingdao", KeyPairName: "c-" + itoa(i)}); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Fresh clients, built concurrently, race on nothing either.
	wg = sync.WaitGroup{}
	for range 8 {
		wg.Go(func() {
			c := env.client()
			_, _ = c.DescribeKeyPairs(bg, schema.DescribeKeyPairsInput{RegionID: "cn-qingdao"})
		})
	}
	wg.Wait()
}

// The SDK panics on an error body whose Code is not a string; the call
// fails cleanly instead.
func TestMalformedAnswers(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		code   string
	}{
		{"numeric code", 400, `{"Code": 123, "Message": "x", "RequestId": "R1"}`, CodeInvalidResponse},
		{"html 502", 502, `<html><body>Bad Gateway</body></html>`, "HTTP502"},
		{"bad json success", 200, `{"RequestId": [}`, CodeInvalidResponse},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{respond: func(r *http.Request) *http.Response { return jsonResponse(r, tc.status, tc.body) }}
			c, err := New(Config{Credentials: &StaticCredentials{AccessKeyID: "LTAIxx", AccessKeySecret: "secret-xyz-123"}, roundTripper: rec})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.DescribeRegions(bg)
			e := wantError(t, err, tc.code, 0)
			if tc.status >= 500 && !e.Retryable {
				t.Errorf("5xx not retryable: %+v", e)
			}
		})
	}
}

// A proxy in the environment never captures a loopback endpoint, and a
// NO_PROXY the SDK would misread as a regexp does no harm.
func TestProxyEnvironment(t *testing.T) {
	for _, k := range []string{"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"} {
		t.Setenv(k, "http://127.0.0.1:1")
	}
	t.Setenv("NO_PROXY", "(unbalanced")
	t.Setenv("no_proxy", "(unbalanced")
	env := newEnv(t, emulator.Options{})
	c := env.client()
	if _, err := c.DescribeRegions(bg); err != nil {
		t.Fatalf("loopback request went through the proxy: %v", err)
	}
	if tr, ok := c.newTransport().(*http.Transport); !ok || tr.Proxy != nil {
		t.Errorf("loopback transport has a proxy")
	}
	remote, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if tr, ok := remote.newTransport().(*http.Transport); !ok || tr.Proxy == nil || tr.TLSClientConfig.MinVersion < tls.VersionTLS12 {
		t.Errorf("remote transport: want the environment's proxy and TLS >= 1.2")
	}
}

func TestImportRefusesPrivateKey(t *testing.T) {
	rec := &recorder{}
	c, err := New(Config{Credentials: &StaticCredentials{AccessKeyID: "LTAIxx", AccessKeySecret: "secret-xyz-123"}, roundTripper: rec})
	if err != nil {
		t.Fatal(err)
	}
	body := "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----"
	_, err = c.ImportKeyPair(bg, schema.ImportKeyPairInput{RegionID: "cn-hangzhou", KeyPairName: "oops", PublicKeyBody: body})
	e := wantError(t, err, "InvalidPublicKeyBody.Malformed", 0)
	if rec.last() != nil || strings.Contains(e.Error(), "b3BlbnNzaC1rZXktdjEAAAAA") {
		t.Errorf("private key sent or echoed: %v", e)
	}
}
