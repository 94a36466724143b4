package emulator

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	ecs7 "github.com/alibabacloud-go/ecs-20140526/v7/client"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
)

// sharedStructFields are fields that the classic SDK declares on the
// structs it shares between actions, which DescribeInstances does not send:
// instance tags are TagKey/TagValue only (the generated SDK's DescribeInstances
// model has no other tag field).
var sharedStructFields = map[string]bool{
	"Instances.Instance[].Tags.Tag[].Key":               true,
	"Instances.Instance[].Tags.Tag[].Value":             true,
	"Instances.Instance[].Tags.Tag[].ResourceTypeCount": true,
}

// missingFields walks a response model's JSON fields against a decoded JSON
// value and returns the paths of declared fields that are absent, or present
// with a JSON type the field cannot hold. Lists are checked item by item.
func missingFields(t reflect.Type, v any, path string, out map[string]string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			out[path] = fmt.Sprintf("is %T, want an object", v)
			return
		}
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if f.Anonymous || name == "" || name == "-" {
				continue
			}
			p := strings.TrimPrefix(path+"."+name, ".")
			if sharedStructFields[p] {
				continue
			}
			val, ok := obj[name]
			if !ok {
				out[p] = "missing"
				continue
			}
			missingFields(f.Type, val, p, out)
		}
	case reflect.Slice:
		list, ok := v.([]any)
		if !ok {
			out[path] = fmt.Sprintf("is %T, want a list", v)
			return
		}
		for _, item := range list {
			missingFields(t.Elem(), item, path+"[]", out)
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			out[path] = fmt.Sprintf("is %T, want a string", v)
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			out[path] = fmt.Sprintf("is %T, want a boolean", v)
		}
	case reflect.Int, reflect.Int32, reflect.Int64, reflect.Float32, reflect.Float64:
		if _, ok := v.(float64); !ok {
			out[path] = fmt.Sprintf("is %T, want a number", v)
		}
	}
}

// TestDescribeInstancesFillsTheSDKModels lists every seeded region's
// instances and finds every field of both SDKs' DescribeInstances models in
// the raw answer, with a JSON type the field can hold.
func TestDescribeInstancesFillsTheSDKModels(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, Options{})
	e.create("cn-hangzhou", "model-key")
	if _, err := e.attach("cn-hangzhou", "model-key", e.instanceID("web-prod-01")); err != nil {
		t.Fatal(err)
	}
	regions := map[string]bool{}
	for _, in := range e.snapshot().Instances {
		regions[in.RegionID] = true
	}
	for region := range regions {
		req := ecs.CreateDescribeInstancesRequest()
		req.RegionId, req.PageSize = region, requests.NewInteger(100)
		resp, err := e.ecs.DescribeInstances(req)
		if err != nil {
			t.Fatal(err)
		}
		raw := resp.GetHttpContentBytes()
		var doc map[string]any
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		if len(resp.Instances.Instance) == 0 {
			t.Fatalf("%s: no instances", region)
		}
		for model, typ := range map[string]reflect.Type{
			"alibaba-cloud-sdk-go ecs.DescribeInstancesResponse": reflect.TypeFor[ecs.DescribeInstancesResponse](),
			"ecs-20140526 client.DescribeInstancesResponseBody":  reflect.TypeFor[ecs7.DescribeInstancesResponseBody](),
		} {
			out := map[string]string{}
			missingFields(typ, doc, "", out)
			paths := make([]string, 0, len(out))
			for p, why := range out {
				paths = append(paths, p+" "+why)
			}
			slices.Sort(paths)
			if len(paths) > 0 {
				t.Errorf("%s, %s: %d fields:\n%s", region, model, len(paths), strings.Join(paths, "\n"))
			}
		}
		// And the generated SDK's typed model decodes it.
		var body ecs7.DescribeInstancesResponseBody
		if err := json.Unmarshal(raw, &body); err != nil {
			t.Errorf("%s: the generated SDK's model does not decode the answer: %v", region, err)
		}
	}
}

// TestDescribeInstancesShowsTheSeed checks that what DescribeInstances shows
// agrees with the seed: addresses where clients look for them, one primary
// network interface with the same address, specs, tags, security groups;
// and that an instance a seed describes only briefly gets the defaults.
func TestDescribeInstancesShowsTheSeed(t *testing.T) {
	t.Parallel()
	seed := loadTestSeed(t)
	seed.Instances = append(seed.Instances, Instance{
		InstanceID: "i-bp1brief0000000000", InstanceName: "brief", RegionID: "cn-hangzhou", ZoneID: "cn-hangzhou-h",
		Status: "Stopped", OSType: "windows", OSName: "Windows Server 2022", InstanceType: "ecs.r7.xlarge", ImageID: "win",
	})
	e := newTestEnv(t, Options{Seed: seed})
	byID := func(region, id string) ecs.Instance {
		t.Helper()
		req := ecs.CreateDescribeInstancesRequest()
		req.RegionId, req.InstanceIds = region, jsonList(id)
		resp, err := e.ecs.DescribeInstances(req)
		if err != nil || len(resp.Instances.Instance) != 1 {
			t.Fatalf("%s: %v %+v", id, err, resp)
		}
		return resp.Instances.Instance[0]
	}
	web := byID("cn-hangzhou", e.instanceID("web-prod-01"))
	if !slices.Equal(web.PublicIpAddress.IpAddress, []string{"203.0.113.11"}) || web.EipAddress.IpAddress != "" ||
		!slices.Equal(web.VpcAttributes.PrivateIpAddress.IpAddress, []string{"172.16.1.11"}) || len(web.InnerIpAddress.IpAddress) != 0 ||
		web.VpcAttributes.VpcId == "" || web.VpcAttributes.VSwitchId == "" || web.NetworkType != "vpc" || web.InstanceNetworkType != "vpc" {
		t.Errorf("web-prod-01 addresses: public %v eip %+v vpc %+v inner %v network %s",
			web.PublicIpAddress, web.EipAddress, web.VpcAttributes, web.InnerIpAddress, web.NetworkType)
	}
	if eni := web.NetworkInterfaces.NetworkInterface; len(eni) != 1 || eni[0].PrimaryIpAddress != "172.16.1.11" || eni[0].Type != "Primary" ||
		!strings.HasPrefix(eni[0].MacAddress, "00:16:3e:") || !strings.HasPrefix(eni[0].NetworkInterfaceId, "eni-bp1") ||
		len(eni[0].PrivateIpSets.PrivateIpSet) != 1 || eni[0].PrivateIpSets.PrivateIpSet[0].PrivateIpAddress != "172.16.1.11" {
		t.Errorf("web-prod-01 network interfaces %+v", eni)
	}
	if web.Cpu != 2 || web.Memory != 8192 || web.InstanceTypeFamily != "ecs.g7" || web.CreationTime != "2025-01-20T08:00Z" ||
		web.StartTime != web.CreationTime || web.ExpiredTime != "2099-12-31T15:59Z" || web.InstanceChargeType != "PostPaid" ||
		web.HostName != "iZbp16pycdybk155oxtz7qZ" || web.ResourceGroupId != "rg-aek2xl5qwbgh7ri" || web.OSNameEn != web.OSName {
		t.Errorf("web-prod-01 details %+v", web)
	}
	if len(web.SecurityGroupIds.SecurityGroupId) != 2 || len(web.Tags.Tag) != 2 || web.Tags.Tag[1].TagKey != "env" || web.Tags.Tag[1].TagValue != "prod" {
		t.Errorf("web-prod-01 groups %v tags %+v", web.SecurityGroupIds, web.Tags)
	}
	if again := byID("cn-hangzhou", e.instanceID("web-prod-01")); !reflect.DeepEqual(again, web) {
		t.Error("two answers for the same instance differ")
	}
	bastion := byID("cn-beijing", e.instanceID("bastion-01"))
	if bastion.EipAddress.IpAddress != "203.0.113.101" || !strings.HasPrefix(bastion.EipAddress.AllocationId, "eip-2ze") ||
		len(bastion.PublicIpAddress.IpAddress) != 0 || bastion.InternetChargeType != "PayByTraffic" {
		t.Errorf("bastion-01: eip %+v public %v", bastion.EipAddress, bastion.PublicIpAddress)
	}
	brief := byID("cn-hangzhou", "i-bp1brief0000000000")
	if brief.Cpu != 4 || brief.Memory != 32768 || brief.NetworkType != "classic" || len(brief.NetworkInterfaces.NetworkInterface) != 0 ||
		brief.HostName != "iZbp1brief00000" || brief.StoppedMode != "KeepCharging" || brief.CreationTime == "" {
		t.Errorf("a brief seed instance: %+v", brief)
	}

	// Filters by tag and network.
	list := func(edit func(*ecs.DescribeInstancesRequest)) []string {
		t.Helper()
		req := ecs.CreateDescribeInstancesRequest()
		req.RegionId, req.PageSize = "cn-hangzhou", requests.NewInteger(100)
		edit(req)
		resp, err := e.ecs.DescribeInstances(req)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, in := range resp.Instances.Instance {
			names = append(names, in.InstanceName)
		}
		return names
	}
	if got := list(func(r *ecs.DescribeInstancesRequest) {
		r.Tag = &[]ecs.DescribeInstancesTag{{Key: "app", Value: "web-prod"}}
	}); !slices.Equal(got, []string{"web-prod-01", "web-prod-02", "web-prod-03"}) {
		t.Errorf("Tag app=web-prod: %v", got)
	}
	if got := list(func(r *ecs.DescribeInstancesRequest) { r.ZoneId = "cn-hangzhou-j" }); !slices.Equal(got, []string{"web-prod-03", "ci-runner-01"}) {
		t.Errorf("ZoneId cn-hangzhou-j: %v", got)
	}
	if got := list(func(r *ecs.DescribeInstancesRequest) { r.VSwitchId = web.VpcAttributes.VSwitchId }); !slices.Contains(got, "web-prod-01") || slices.Contains(got, "web-prod-02") {
		t.Errorf("VSwitchId of web-prod-01: %v", got)
	}
}
