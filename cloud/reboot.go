package cloud

import (
	"context"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
)

// RebootResult is one instance's outcome of RebootInstances.
type RebootResult struct {
	InstanceID string
	// Success: the API took the reboot; Status is the instance's status
	// right after (Stopping).
	Success bool
	Status  string
	// Code and Message are the API's, per instance or of the request.
	Code    string
	Message string
	// MaybeApplied: the reboot may have started all the same: the request
	// failed without a refusal, or the API applied it but its answer left
	// this instance out.
	MaybeApplied bool
}

// RebootInstances reboots Running instances, in batches of 100 sent
// concurrently (BatchOptimization SuccessFirst: the valid instances of a
// batch reboot, the others are reported one by one). A reboot is not sent
// twice blindly: after a failure that may have been applied, the result
// says so and the caller reads the status. Results are in the order of ids;
// the error is only for what stops the whole call (see DeleteKeyPairs).
func (c *Client) RebootInstances(ctx context.Context, region string, ids []string, force bool) ([]RebootResult, []string, error) {
	const action = "RebootInstances"
	if err := requireRegion(action, region); err != nil {
		return nil, nil, err
	}
	return inBatches(ctx, c, action, region, ids, schema.RebootInstancesBatch, func(batch []string) ([]RebootResult, string, error) {
		req := ecs.CreateRebootInstancesRequest()
		req.RegionId = region
		req.InstanceId = &batch
		req.BatchOptimization = "SuccessFirst"
		if force {
			req.ForceReboot = requests.NewBoolean(true)
		}
		resp, err := send(ctx, c, once, action, region, req, func(cl *ecs.Client) (*ecs.RebootInstancesResponse, string, error) {
			r, err := cl.RebootInstances(req)
			if err != nil {
				return nil, "", err
			}
			return r, r.RequestId, nil
		})
		var answers []ecs.InstanceResponse
		requestID := ""
		if err == nil {
			answers, requestID = resp.InstanceResponses.InstanceResponse, resp.RequestId
		}
		items := batchItems(batch, answers, func(r ecs.InstanceResponse) string { return r.InstanceId }, err)
		out := make([]RebootResult, len(items))
		for j, it := range items {
			switch r := it.answer; {
			case !it.answered:
				out[j] = RebootResult{InstanceID: it.id, Code: it.code, Message: it.message, MaybeApplied: it.maybeApplied}
			case r.Code == "200" || r.Code == "":
				out[j] = RebootResult{InstanceID: it.id, Success: true, Status: r.CurrentStatus}
			default:
				out[j] = RebootResult{InstanceID: it.id, Code: r.Code, Message: r.Message, Status: r.CurrentStatus}
			}
		}
		return out, requestID, err
	})
}

// ActionWaitRunning names the wait for instances to be Running again in
// progress reports; done and total count instances.
const ActionWaitRunning = "WaitRunning"

// Polling for instances coming back: first after Config.PollInterval
// (default pollFirst), then each wait pollGrowth times longer, up to pollMax.
const (
	pollFirst  = 250 * time.Millisecond
	pollGrowth = 1.5
	pollMax    = 5 * time.Second
)

// WaitRunning polls the instances' status (DescribeInstances by ID, 100 per
// request) with backoff until each is Running again or ctx ends, reporting
// each one that comes back. An instance counts as back when it is Running
// after its reboot was seen under way: the caller passes the status each
// had right after the reboot was sent (Stopping), and an instance seen
// Running before anything else is taken as back only when that status
// already showed the reboot. It returns the last status seen of each, by
// ID; an instance not found has "".
func (c *Client) WaitRunning(ctx context.Context, region string, after map[string]string) map[string]string {
	status := make(map[string]string, len(after))
	moving := map[string]bool{}
	var waiting []string
	for id, s := range after {
		status[id] = s
		moving[id] = s != "" && s != "Running"
		waiting = append(waiting, id)
	}
	progress := newTally(ctx, ActionWaitRunning, region, len(waiting))
	// The polls themselves are not progress: only instances coming back.
	poll := WithProgress(ctx, nil)
	delay := c.pollInterval
	for len(waiting) > 0 {
		if !wait(ctx, delay) {
			break
		}
		delay = min(time.Duration(float64(delay)*pollGrowth), pollMax)
		got, err := c.DescribeInstances(poll, schema.DescribeInstancesInput{RegionID: region, InstanceIDs: waiting})
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			continue // a failed poll is tried again at the next tick
		}
		seen := map[string]string{}
		for _, in := range got.Instances {
			seen[in.InstanceID] = in.Status
		}
		var still []string
		for _, id := range waiting {
			s, ok := seen[id]
			status[id] = s
			switch {
			case !ok:
				// Gone: nothing to wait for.
				progress.step()
			case s == "Running" && moving[id]:
				progress.step()
			default:
				moving[id] = moving[id] || s != "Running"
				still = append(still, id)
			}
		}
		waiting = still
	}
	return status
}
