package emulator

// These tests drive the emulator with the generated Go SDK,
// github.com/alibabacloud-go/ecs-20140526/v7, the SDK the Alibaba Cloud
// documentation points users to today. In its default configuration it signs
// with v3 (ACS3-HMAC-SHA256 headers); with SignatureAlgorithm "v2" it uses
// the RPC signature v1. Every emulated action runs both ways, and its typed
// answer must come back filled.

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	openapiutil "github.com/alibabacloud-go/darabonba-openapi/v2/utils"
	ecs7 "github.com/alibabacloud-go/ecs-20140526/v7/client"
	"github.com/alibabacloud-go/tea/tea"
)

// sdk7Client is a generated-SDK client for srv: its host:port as the
// endpoint, plain HTTP, and the emulator's credentials. algorithm "" is the
// SDK's default (v3).
func sdk7Client(t *testing.T, srv *Server, algorithm string, creds Credentials) *ecs7.Client {
	t.Helper()
	cfg := &openapiutil.Config{
		AccessKeyId:     tea.String(creds.AccessKeyID),
		AccessKeySecret: tea.String(creds.AccessKeySecret),
		Endpoint:        tea.String(srv.Host),
		Protocol:        tea.String("http"),
		RegionId:        tea.String("cn-hangzhou"),
		NoProxy:         tea.String(srv.Host), // a proxy in the environment must not capture loopback
	}
	if creds.SecurityToken != "" {
		cfg.SecurityToken = tea.String(creds.SecurityToken)
	}
	if algorithm != "" {
		cfg.SignatureAlgorithm = tea.String(algorithm)
	}
	c, err := ecs7.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wantSDKError checks that err is an API error with the code and status.
func wantSDKError(t *testing.T, err error, code string, status int) {
	t.Helper()
	var se *tea.SDKError
	if !errors.As(err, &se) {
		t.Fatalf("want %s (HTTP %d), got %T %v", code, status, err, err)
	}
	if tea.StringValue(se.Code) != code || tea.IntValue(se.StatusCode) != status {
		t.Fatalf("want %s (HTTP %d), got %s (HTTP %d): %s", code, status, tea.StringValue(se.Code), tea.IntValue(se.StatusCode), tea.StringValue(se.Message))
	}
}

var signatures = []struct{ name, algorithm string }{
	{"default v3", ""},
	{"v2", "v2"},
}

// seededID returns the ID of a seeded instance, by name, through the SDK.
func seededID(t *testing.T, c *ecs7.Client, region, name string) string {
	t.Helper()
	resp, err := c.DescribeInstances(&ecs7.DescribeInstancesRequest{RegionId: tea.String(region), PageSize: tea.Int32(100)})
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range resp.Body.Instances.Instance {
		if tea.StringValue(in.InstanceName) == name {
			return tea.StringValue(in.InstanceId)
		}
	}
	t.Fatalf("no instance %s in %s", name, region)
	return ""
}

// TestGeneratedSDKKeyPairLifecycle runs every emulated action through the
// generated SDK: create, import, describe, attach, reboot, detach, delete,
// and the regions and instances listings, checking the typed answers.
func TestGeneratedSDKKeyPairLifecycle(t *testing.T) {
	t.Parallel()
	for _, sig := range signatures {
		t.Run(sig.name, func(t *testing.T) {
			t.Parallel()
			e, clk := newRebootEnv(t, Options{})
			c := sdk7Client(t, e.srv, sig.algorithm, e.srv.Credentials)
			region := tea.String("cn-hangzhou")

			regions, err := c.DescribeRegions(&ecs7.DescribeRegionsRequest{AcceptLanguage: tea.String("en-US")})
			if err != nil {
				t.Fatal(err)
			}
			if n := len(regions.Body.Regions.Region); n < 6 || tea.StringValue(regions.Body.RequestId) == "" {
				t.Fatalf("DescribeRegions: %d regions", n)
			}
			for _, r := range regions.Body.Regions.Region {
				if tea.StringValue(r.RegionId) == "" || tea.StringValue(r.LocalName) == "" || tea.StringValue(r.RegionEndpoint) == "" || tea.StringValue(r.Status) != "available" {
					t.Errorf("region %s", r)
				}
			}

			created, err := c.CreateKeyPair(&ecs7.CreateKeyPairRequest{
				RegionId: region, KeyPairName: tea.String("sdk7-created"),
				Tag: []*ecs7.CreateKeyPairRequestTag{{Key: tea.String("env"), Value: tea.String("test")}, {Key: tea.String("team"), Value: tea.String("")}},
			})
			if err != nil {
				t.Fatal(err)
			}
			if b := created.Body; tea.StringValue(b.KeyPairName) != "sdk7-created" || !strings.HasPrefix(tea.StringValue(b.KeyPairId), "ssh-") ||
				strings.Count(tea.StringValue(b.KeyPairFingerPrint), ":") != 15 || !strings.HasPrefix(tea.StringValue(b.PrivateKeyBody), "-----BEGIN RSA PRIVATE KEY-----") {
				t.Errorf("CreateKeyPair: name %s id %s fingerprint %s", tea.StringValue(b.KeyPairName), tea.StringValue(b.KeyPairId), tea.StringValue(b.KeyPairFingerPrint))
			}
			pub, err := os.ReadFile(filepath.Join(testdata, "keys", "rsa2048.pub"))
			if err != nil {
				t.Fatal(err)
			}
			imported, err := c.ImportKeyPair(&ecs7.ImportKeyPairRequest{RegionId: region, KeyPairName: tea.String("sdk7.imported"), PublicKeyBody: tea.String(string(pub))})
			if err != nil {
				t.Fatal(err)
			}
			if tea.StringValue(imported.Body.KeyPairFingerPrint) == "" || tea.StringValue(imported.Body.KeyPairName) != "sdk7.imported" {
				t.Errorf("ImportKeyPair: %s", imported.Body)
			}

			described, err := c.DescribeKeyPairs(&ecs7.DescribeKeyPairsRequest{
				RegionId: region, KeyPairName: tea.String("sdk7*"), IncludePublicKey: tea.Bool(true), PageSize: tea.Int32(50),
				Tag: []*ecs7.DescribeKeyPairsRequestTag{{Key: tea.String("env"), Value: tea.String("test")}},
			})
			if err != nil {
				t.Fatal(err)
			}
			b := described.Body
			if tea.Int32Value(b.TotalCount) != 1 || tea.Int32Value(b.PageSize) != 50 || tea.Int32Value(b.PageNumber) != 1 || len(b.KeyPairs.KeyPair) != 1 {
				t.Fatalf("DescribeKeyPairs: %s", b)
			}
			kp := b.KeyPairs.KeyPair[0]
			if tea.StringValue(kp.KeyPairName) != "sdk7-created" || tea.StringValue(kp.KeyPairFingerPrint) != tea.StringValue(created.Body.KeyPairFingerPrint) ||
				!strings.HasPrefix(tea.StringValue(kp.PublicKey), "ssh-rsa ") || tea.StringValue(kp.CreationTime) == "" || tea.StringValue(kp.ResourceGroupId) == "" ||
				len(kp.Tags.Tag) != 2 || tea.StringValue(kp.Tags.Tag[1].TagKey) != "team" || tea.StringValue(kp.Tags.Tag[1].TagValue) != "" {
				t.Errorf("DescribeKeyPairs item: %s", kp)
			}

			web, web2 := seededID(t, c, "cn-hangzhou", "web-prod-01"), seededID(t, c, "cn-hangzhou", "web-prod-02")
			attached, err := c.AttachKeyPair(&ecs7.AttachKeyPairRequest{RegionId: region, KeyPairName: tea.String("sdk7-created"), InstanceIds: tea.String(`["` + web + `","` + web2 + `"]`)})
			if err != nil {
				t.Fatal(err)
			}
			if a := attached.Body; tea.StringValue(a.TotalCount) != "2" || tea.StringValue(a.FailCount) != "0" || len(a.Results.Result) != 2 ||
				tea.StringValue(a.Results.Result[0].Success) != "true" || tea.StringValue(a.Results.Result[0].Code) != "200" {
				t.Errorf("AttachKeyPair: %s", a)
			}

			instances, err := c.DescribeInstances(&ecs7.DescribeInstancesRequest{RegionId: region, KeyPairName: tea.String("sdk7-created"), MaxResults: tea.Int32(10)})
			if err != nil {
				t.Fatal(err)
			}
			if ib := instances.Body; tea.Int32Value(ib.TotalCount) != 2 || len(ib.Instances.Instance) != 2 || tea.StringValue(ib.NextToken) != "" {
				t.Fatalf("DescribeInstances by key pair: %s", ib)
			}
			in := instances.Body.Instances.Instance[0]
			if tea.StringValue(in.InstanceId) != web || tea.StringValue(in.KeyPairName) != "sdk7-created" || tea.StringValue(in.Status) != "Running" ||
				len(in.VpcAttributes.PrivateIpAddress.IpAddress) != 1 || len(in.PublicIpAddress.IpAddress) != 1 || tea.Int32Value(in.Cpu) != 2 ||
				tea.Int32Value(in.Memory) != 8192 || tea.StringValue(in.OSType) != "linux" || len(in.Tags.Tag) != 2 || len(in.SecurityGroupIds.SecurityGroupId) == 0 ||
				len(in.NetworkInterfaces.NetworkInterface) != 1 || in.EipAddress == nil || in.InnerIpAddress == nil || in.OperationLocks == nil {
				t.Errorf("DescribeInstances item: %s", in)
			}

			rebooted, err := c.RebootInstances(&ecs7.RebootInstancesRequest{RegionId: region, InstanceId: []*string{tea.String(web)}, ForceReboot: tea.Bool(false)})
			if err != nil {
				t.Fatal(err)
			}
			if r := rebooted.Body.InstanceResponses.InstanceResponse; len(r) != 1 || tea.StringValue(r[0].InstanceId) != web || tea.StringValue(r[0].Code) != "200" ||
				tea.StringValue(r[0].PreviousStatus) != "Running" || tea.StringValue(r[0].CurrentStatus) != "Stopping" {
				t.Errorf("RebootInstances: %s", rebooted.Body)
			}
			// RebootInstance sends no RegionId in this SDK.
			one, err := c.RebootInstance(&ecs7.RebootInstanceRequest{InstanceId: tea.String(web2), ForceStop: tea.Bool(true)})
			if err != nil {
				t.Fatal(err)
			}
			if tea.StringValue(one.Body.RequestId) == "" {
				t.Error("RebootInstance: no RequestId")
			}
			status := func(id string) string {
				t.Helper()
				r, err := c.DescribeInstances(&ecs7.DescribeInstancesRequest{RegionId: region, InstanceIds: tea.String(`["` + id + `"]`)})
				if err != nil || len(r.Body.Instances.Instance) != 1 {
					t.Fatalf("DescribeInstances %s: %v", id, err)
				}
				return tea.StringValue(r.Body.Instances.Instance[0].Status)
			}
			if s := status(web); s != "Stopping" {
				t.Errorf("just after the reboot: %s", s)
			}
			clk.Advance(5 * time.Second)
			if s := status(web2); s != "Starting" {
				t.Errorf("halfway through the reboot: %s", s)
			}
			clk.Advance(5 * time.Second)
			if s := status(web); s != "Running" {
				t.Errorf("after the reboot: %s", s)
			}

			detached, err := c.DetachKeyPair(&ecs7.DetachKeyPairRequest{RegionId: region, KeyPairName: tea.String("sdk7-created"), InstanceIds: tea.String(`["` + web + `","` + web2 + `"]`)})
			if err != nil {
				t.Fatal(err)
			}
			if d := detached.Body; tea.StringValue(d.TotalCount) != "2" || tea.StringValue(d.FailCount) != "0" || tea.StringValue(d.KeyPairName) != "sdk7-created" {
				t.Errorf("DetachKeyPair: %s", d)
			}
			deleted, err := c.DeleteKeyPairs(&ecs7.DeleteKeyPairsRequest{RegionId: region, KeyPairNames: tea.String(`["sdk7-created","sdk7.imported"]`)})
			if err != nil {
				t.Fatal(err)
			}
			if tea.StringValue(deleted.Body.RequestId) == "" {
				t.Error("DeleteKeyPairs: no RequestId")
			}
			left, err := c.DescribeKeyPairs(&ecs7.DescribeKeyPairsRequest{RegionId: region})
			if err != nil || tea.Int32Value(left.Body.TotalCount) != 0 {
				t.Errorf("after DeleteKeyPairs: %v %s", err, left.Body)
			}
		})
	}
}

// TestGeneratedSDKPagesByToken follows NextToken with the generated SDK
// through a region of 120 instances.
func TestGeneratedSDKPagesByToken(t *testing.T) {
	t.Parallel()
	for _, sig := range signatures {
		t.Run(sig.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, Options{})
			_, ids, err := e.emu.Populate("us-east-1", 0, 120)
			if err != nil {
				t.Fatal(err)
			}
			c := sdk7Client(t, e.srv, sig.algorithm, e.srv.Credentials)
			var got []string
			var token *string
			for range 20 {
				resp, err := c.DescribeInstances(&ecs7.DescribeInstancesRequest{RegionId: tea.String("us-east-1"), MaxResults: tea.Int32(50), NextToken: token})
				if err != nil {
					t.Fatal(err)
				}
				for _, in := range resp.Body.Instances.Instance {
					got = append(got, tea.StringValue(in.InstanceId))
				}
				if tea.StringValue(resp.Body.NextToken) == "" {
					break
				}
				token = resp.Body.NextToken
			}
			if !slices.Equal(got, ids) {
				t.Errorf("listed %d instances, want the %d populated ones in order", len(got), len(ids))
			}
		})
	}
}

// TestGeneratedSDKErrors checks that the generated SDK's errors carry the
// documented codes and statuses, both ways of signing.
func TestGeneratedSDKErrors(t *testing.T) {
	t.Parallel()
	for _, sig := range signatures {
		t.Run(sig.name, func(t *testing.T) {
			t.Parallel()
			srv := newTestEnv(t, Options{Faults: FaultPlan{PerAction: map[string]Faults{"DescribeRegions": {ThrottleRate: 1}}}}).srv
			c := sdk7Client(t, srv, sig.algorithm, srv.Credentials)
			region := tea.String("cn-hangzhou")
			web, win, db := seededID(t, c, "cn-hangzhou", "web-prod-01"), seededID(t, c, "cn-hangzhou", "ad-controller-01"), seededID(t, c, "cn-hangzhou", "db-replica-01")
			if _, err := c.CreateKeyPair(&ecs7.CreateKeyPairRequest{RegionId: region, KeyPairName: tea.String("bound")}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.AttachKeyPair(&ecs7.AttachKeyPairRequest{RegionId: region, KeyPairName: tea.String("bound"), InstanceIds: tea.String(`["` + web + `"]`)}); err != nil {
				t.Fatal(err)
			}
			wrongSecret := sdk7Client(t, srv, sig.algorithm, Credentials{AccessKeyID: srv.Credentials.AccessKeyID, AccessKeySecret: "not-the-secret"})
			unknownKey := sdk7Client(t, srv, sig.algorithm, Credentials{AccessKeyID: "LTAInobody", AccessKeySecret: "x"})

			for _, tc := range []struct {
				name   string
				call   func() error
				code   string
				status int
			}{
				{"malformed name", func() error {
					_, err := c.CreateKeyPair(&ecs7.CreateKeyPairRequest{RegionId: region, KeyPairName: tea.String("1bad")})
					return err
				}, "InvalidKeyPairName.Malformed", 400},
				{"name taken", func() error {
					_, err := c.CreateKeyPair(&ecs7.CreateKeyPairRequest{RegionId: region, KeyPairName: tea.String("bound")})
					return err
				}, "KeyPair.AlreadyExist", 400},
				{"unknown region", func() error {
					_, err := c.DescribeKeyPairs(&ecs7.DescribeKeyPairsRequest{RegionId: tea.String("mars-north-1")})
					return err
				}, "InvalidRegionId.NotFound", 404},
				{"ed25519 key", func() error {
					pub, _ := os.ReadFile(filepath.Join(testdata, "keys", "ed25519.pub"))
					_, err := c.ImportKeyPair(&ecs7.ImportKeyPairRequest{RegionId: region, KeyPairName: tea.String("ed"), PublicKeyBody: tea.String(string(pub))})
					return err
				}, "InvalidPublicKeyBody.Malformed", 400},
				{"delete a bound key", func() error {
					_, err := c.DeleteKeyPairs(&ecs7.DeleteKeyPairsRequest{RegionId: region, KeyPairNames: tea.String(`["bound"]`)})
					return err
				}, "InvalidParameter.KeypairAlreadyAttachedInstance", 400},
				{"attach to Windows", func() error {
					_, err := c.AttachKeyPair(&ecs7.AttachKeyPairRequest{RegionId: region, KeyPairName: tea.String("bound"), InstanceIds: tea.String(`["` + win + `"]`)})
					return err
				}, "DependencyViolation.WindowsInstance", 403},
				{"attach an unknown key", func() error {
					_, err := c.AttachKeyPair(&ecs7.AttachKeyPairRequest{RegionId: region, KeyPairName: tea.String("nokey"), InstanceIds: tea.String(`["` + web + `"]`)})
					return err
				}, "InvalidKeyPairName.NotFound", 400},
				{"describe a page too large", func() error {
					_, err := c.DescribeKeyPairs(&ecs7.DescribeKeyPairsRequest{RegionId: region, PageSize: tea.Int32(51)})
					return err
				}, "InvalidParameter", 400},
				{"a bad NextToken", func() error {
					_, err := c.DescribeInstances(&ecs7.DescribeInstancesRequest{RegionId: region, NextToken: tea.String("caeba0bbb2be03f84eb48b699f0a4883")})
					return err
				}, "InvalidParameter", 400},
				{"reboot a Stopped instance", func() error {
					_, err := c.RebootInstances(&ecs7.RebootInstancesRequest{RegionId: region, InstanceId: []*string{tea.String(web), tea.String(db)}})
					return err
				}, "IncorrectInstanceStatus", 403},
				{"reboot dry run", func() error {
					_, err := c.RebootInstances(&ecs7.RebootInstancesRequest{RegionId: region, InstanceId: []*string{tea.String(web)}, DryRun: tea.Bool(true)})
					return err
				}, "DryRunOperation", 400},
				{"reboot an unknown instance", func() error {
					_, err := c.RebootInstance(&ecs7.RebootInstanceRequest{InstanceId: tea.String("i-bp1doesnotexist000")})
					return err
				}, "InvalidInstanceId.NotFound", 404},
				{"throttled", func() error {
					_, err := c.DescribeRegions(&ecs7.DescribeRegionsRequest{})
					return err
				}, "Throttling", 400},
				{"wrong secret", func() error {
					_, err := wrongSecret.DescribeKeyPairs(&ecs7.DescribeKeyPairsRequest{RegionId: region})
					return err
				}, "SignatureDoesNotMatch", 400},
				{"unknown AccessKey", func() error {
					_, err := unknownKey.DescribeKeyPairs(&ecs7.DescribeKeyPairsRequest{RegionId: region})
					return err
				}, "InvalidAccessKeyId.NotFound", 404},
			} {
				t.Run(tc.name, func(t *testing.T) {
					wantSDKError(t, tc.call(), tc.code, tc.status)
				})
			}
		})
	}
}

// TestGeneratedSDKWithSTS: STS credentials (an AccessKey with a security
// token) work both ways, and a wrong token is refused.
func TestGeneratedSDKWithSTS(t *testing.T) {
	t.Parallel()
	creds := Credentials{AccessKeyID: "STS.sdk7", AccessKeySecret: "s3cret", SecurityToken: "token-7"}
	srv := newTestEnv(t, Options{Credentials: creds}).srv
	for _, sig := range signatures {
		if _, err := sdk7Client(t, srv, sig.algorithm, creds).DescribeRegions(&ecs7.DescribeRegionsRequest{}); err != nil {
			t.Errorf("%s: %v", sig.name, err)
		}
		bad := creds
		bad.SecurityToken = "token-8"
		_, err := sdk7Client(t, srv, sig.algorithm, bad).DescribeRegions(&ecs7.DescribeRegionsRequest{})
		wantSDKError(t, err, "InvalidSecurityToken.Mismatch", 400)
	}
}
