package emulator

import (
	"net/http"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
)

// TestDescribeInstancesTokenPaging follows NextToken through a region of 250
// instances, as the Terraform provider pages: every instance exactly once,
// in order, and no token after the last page.
func TestDescribeInstancesTokenPaging(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, Options{})
	_, ids, err := e.emu.Populate("eu-west-1", 0, 250)
	if err != nil {
		t.Fatal(err)
	}
	list := func(maxResults string, token string) *ecs.DescribeInstancesResponse {
		t.Helper()
		req := ecs.CreateDescribeInstancesRequest()
		req.RegionId, req.MaxResults, req.NextToken = "eu-west-1", requests.Integer(maxResults), token
		resp, err := e.ecs.DescribeInstances(req)
		if err != nil {
			t.Fatalf("MaxResults %q NextToken %q: %v", maxResults, token, err)
		}
		return resp
	}

	for _, tc := range []struct {
		name string
		// first is the first request's MaxResults, then the later ones'.
		first, then string
		pageSize    int // documented: below 10 is 10, above 100 is 100
	}{
		{"MaxResults 50", "50", "50", 50},
		{"MaxResults 100", "100", "100", 100},
		{"MaxResults 3", "3", "3", 10},
		{"MaxResults 1000", "1000", "1000", 100},
		{"only the token after the first page", "9", "", 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			token, pages := "", 0
			for {
				maxResults := tc.then
				if token == "" {
					maxResults = tc.first
				}
				resp := list(maxResults, token)
				pages++
				if len(resp.Instances.Instance) > tc.pageSize || resp.PageSize != tc.pageSize || resp.TotalCount != 250 {
					t.Fatalf("page %d: %d instances, PageSize %d, TotalCount %d", pages, len(resp.Instances.Instance), resp.PageSize, resp.TotalCount)
				}
				for _, in := range resp.Instances.Instance {
					got = append(got, in.InstanceId)
				}
				if resp.NextToken == "" {
					break
				}
				if len(resp.NextToken) != 32 {
					t.Errorf("NextToken %q is not 32 hex characters like the documented example", resp.NextToken)
				}
				token = resp.NextToken
				if pages > 300 {
					t.Fatal("the tokens never end")
				}
			}
			if want := (250 + tc.pageSize - 1) / tc.pageSize; pages != want {
				t.Errorf("%d pages, want %d", pages, want)
			}
			if len(got) != len(ids) {
				t.Fatalf("%d instances listed, want %d", len(got), len(ids))
			}
			for i := range ids {
				if got[i] != ids[i] {
					t.Fatalf("instance %d is %s, want %s", i, got[i], ids[i])
				}
			}
		})
	}

	t.Run("filters and tokens", func(t *testing.T) {
		// A token continues the listing it came from; with other filters it
		// is refused.
		req := ecs.CreateDescribeInstancesRequest()
		req.RegionId, req.MaxResults, req.Status = "eu-west-1", requests.NewInteger(10), "Running"
		first, err := e.ecs.DescribeInstances(req)
		if err != nil || first.NextToken == "" {
			t.Fatalf("%v %+v", err, first)
		}
		next := ecs.CreateDescribeInstancesRequest()
		next.RegionId, next.NextToken, next.Status = "eu-west-1", first.NextToken, "Running"
		second, err := e.ecs.DescribeInstances(next)
		if err != nil || second.Instances.Instance[0].InstanceId != ids[10] {
			t.Fatalf("second page: %v %+v", err, second)
		}
		before := e.snapshot()
		for name, edit := range map[string]func(*ecs.DescribeInstancesRequest){
			"other filter":   func(r *ecs.DescribeInstancesRequest) { r.Status = "Stopped"; r.NextToken = first.NextToken },
			"other region":   func(r *ecs.DescribeInstancesRequest) { r.RegionId = "cn-hangzhou"; r.NextToken = first.NextToken },
			"not a token":    func(r *ecs.DescribeInstancesRequest) { r.NextToken = "caeba0bbb2be03f84eb48b699f0a4883" },
			"garbage":        func(r *ecs.DescribeInstancesRequest) { r.NextToken = "page-2" },
			"MaxResults NaN": func(r *ecs.DescribeInstancesRequest) { r.MaxResults = "ten" },
		} {
			req := ecs.CreateDescribeInstancesRequest()
			req.RegionId, req.Status = "eu-west-1", "Running"
			edit(req)
			_, err := e.ecs.DescribeInstances(req)
			if err == nil {
				t.Errorf("%s: accepted", name)
				continue
			}
			code, status, _ := serverError(t, err)
			if code != "InvalidParameter" || status != http.StatusBadRequest {
				t.Errorf("%s: %s %d, want InvalidParameter 400", name, code, status)
			}
		}
		e.assertUnchanged(before)
	})

	t.Run("PageNumber paging gives no token", func(t *testing.T) {
		req := ecs.CreateDescribeInstancesRequest()
		req.RegionId, req.PageSize, req.PageNumber = "eu-west-1", requests.NewInteger(100), requests.NewInteger(2)
		resp, err := e.ecs.DescribeInstances(req)
		if err != nil || resp.NextToken != "" || len(resp.Instances.Instance) != 100 || resp.Instances.Instance[0].InstanceId != ids[100] {
			t.Fatalf("%v: token %q, %d instances", err, resp.NextToken, len(resp.Instances.Instance))
		}
	})
}
