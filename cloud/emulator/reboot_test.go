package emulator

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
)

// fakeClock is an emulator clock that moves only when told to. It starts at
// the real time: the SDKs sign with the real clock, and the fake one must
// stay within the 15-minute window.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Now().UTC().Truncate(time.Second)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// newRebootEnv is an emulator on a fake clock whose reboots take 10
// seconds.
func newRebootEnv(t *testing.T, opts Options) (*testEnv, *fakeClock) {
	t.Helper()
	clock := newFakeClock()
	opts.Now, opts.RebootTime = clock.Now, 10*time.Second
	return newTestEnv(t, opts), clock
}

func (e *testEnv) reboot(region string, edit func(*ecs.RebootInstancesRequest), ids ...string) (*ecs.RebootInstancesResponse, error) {
	req := ecs.CreateRebootInstancesRequest()
	req.RegionId, req.InstanceId = region, &ids
	if edit != nil {
		edit(req)
	}
	return e.ecs.RebootInstances(req)
}

// status is an instance's status as DescribeInstances shows it.
func (e *testEnv) status(region, id string) (string, ecs.Instance) {
	e.t.Helper()
	req := ecs.CreateDescribeInstancesRequest()
	req.RegionId, req.InstanceIds = region, jsonList(id)
	resp, err := e.ecs.DescribeInstances(req)
	if err != nil || len(resp.Instances.Instance) != 1 {
		e.t.Fatalf("DescribeInstances %s: %v %+v", id, err, resp)
	}
	return resp.Instances.Instance[0].Status, resp.Instances.Instance[0]
}

// TestRebootPassesStoppingAndStarting reboots an instance on a fake clock:
// Stopping for the first half of the reboot time, Starting for the second,
// Running after it with a new StartTime; attach, detach and another reboot
// are refused meanwhile.
func TestRebootPassesStoppingAndStarting(t *testing.T) {
	t.Parallel()
	e, clock := newRebootEnv(t, Options{})
	const region = "cn-hangzhou"
	web := e.instanceID("web-prod-01")
	e.create(region, "rotating")
	_, before := e.status(region, web)

	resp, err := e.reboot(region, nil, web)
	if err != nil {
		t.Fatal(err)
	}
	want := []ecs.InstanceResponse{{InstanceId: web, Code: "200", Message: "success", PreviousStatus: "Running", CurrentStatus: "Stopping"}}
	if !slices.Equal(resp.InstanceResponses.InstanceResponse, want) || resp.RequestId == "" {
		t.Fatalf("answer %+v", resp)
	}
	start := clock.Now()
	for _, step := range []struct {
		at     time.Duration // since the reboot
		status string
	}{
		{0, "Stopping"},
		{4999 * time.Millisecond, "Stopping"},
		{5 * time.Second, "Starting"},
		{9999 * time.Millisecond, "Starting"},
	} {
		clock.Advance(start.Add(step.at).Sub(clock.Now()))
		if got, _ := e.status(region, web); got != step.status {
			t.Fatalf("%v into the reboot: %s, want %s", step.at, got, step.status)
		}
		// The Status filter and the snapshot agree.
		req := ecs.CreateDescribeInstancesRequest()
		req.RegionId, req.Status = region, step.status
		if l, err := e.ecs.DescribeInstances(req); err != nil || !slices.ContainsFunc(l.Instances.Instance, func(in ecs.Instance) bool { return in.InstanceId == web }) {
			t.Errorf("%v: Status=%s does not list the instance: %v", step.at, step.status, err)
		}
		if s := e.snapshot(); s.Instances[0].Status != step.status || s.Instances[0].Reboot == nil {
			t.Errorf("%v: snapshot has %s, reboot %+v", step.at, s.Instances[0].Status, s.Instances[0].Reboot)
		}
		// In transition: attach and detach fail for this instance, another
		// reboot fails the request.
		res, err := e.attach(region, "rotating", web)
		if err != nil || res.FailCount != "1" || res.Results.Result[0].Code != "IncorrectInstanceStatus" {
			t.Errorf("%v: attach while %s: %v %+v", step.at, step.status, err, res)
		}
		dres, err := e.detach(region, "rotating", web)
		if err != nil || dres.FailCount != "1" || dres.Results.Result[0].Code != "IncorrectInstanceStatus" {
			t.Errorf("%v: detach while %s: %v %+v", step.at, step.status, err, dres)
		}
		_, err = e.reboot(region, nil, web)
		wantAPIError(t, err, "IncorrectInstanceStatus", http.StatusForbidden)
	}
	clock.Advance(start.Add(10 * time.Second).Sub(clock.Now()))
	got, after := e.status(region, web)
	if got != "Running" {
		t.Fatalf("10s after the reboot: %s", got)
	}
	if after.StartTime == before.StartTime || after.StartTime != creationTime(clock.Now()) {
		t.Errorf("StartTime %s, was %s; want the reboot's end %s", after.StartTime, before.StartTime, creationTime(clock.Now()))
	}
	if res, err := e.attach(region, "rotating", web); err != nil || res.FailCount != "0" {
		t.Errorf("attach once Running again: %v %+v", err, res)
	}
	if s := e.snapshot(); s.Instances[0].Reboot != nil {
		t.Errorf("the reboot is still recorded: %+v", s.Instances[0].Reboot)
	}
}

// TestRebootInstancesOutcomes checks each documented rule of RebootInstances
// and what was or was not rebooted.
func TestRebootInstancesOutcomes(t *testing.T) {
	t.Parallel()
	const region = "cn-hangzhou"
	for _, tc := range []struct {
		name string
		// ids are seeded instance names, or IDs that do not exist.
		ids  []string
		edit func(*ecs.RebootInstancesRequest)
		// code and status of a refused request; empty for success.
		code   string
		status int
		// per instance name: the outcome's Code (SuccessFirst and success).
		results map[string]string
		// rebooted instance names, and whether their reboot is forced.
		rebooted []string
		forced   bool
	}{
		{name: "one Running instance", ids: []string{"web-prod-01"},
			results: map[string]string{"web-prod-01": "200"}, rebooted: []string{"web-prod-01"}},
		{name: "Linux and Windows together", ids: []string{"web-prod-01", "web-prod-02", "ad-controller-01"},
			results:  map[string]string{"web-prod-01": "200", "web-prod-02": "200", "ad-controller-01": "200"},
			rebooted: []string{"web-prod-01", "web-prod-02", "ad-controller-01"}},
		{name: "the same ID twice", ids: []string{"web-prod-01", "web-prod-01"},
			results: map[string]string{"web-prod-01": "200"}, rebooted: []string{"web-prod-01"}},
		{name: "ForceReboot", ids: []string{"web-prod-01"}, edit: func(r *ecs.RebootInstancesRequest) { r.ForceReboot = requests.NewBoolean(true) },
			results: map[string]string{"web-prod-01": "200"}, rebooted: []string{"web-prod-01"}, forced: true},
		{name: "AllTogether with a Stopped instance", ids: []string{"web-prod-01", "db-replica-01"},
			code: "IncorrectInstanceStatus", status: 403},
		{name: "AllTogether with a Starting instance", ids: []string{"ci-runner-01"},
			code: "IncorrectInstanceStatus", status: 403},
		{name: "AllTogether with an unknown ID", ids: []string{"web-prod-01", "i-bp1doesnotexist000"},
			code: "InvalidInstanceId.NotFound", status: 404},
		{name: "an instance of another region", ids: []string{"api-prod-01"},
			code: "InvalidInstanceId.NotFound", status: 404},
		{name: "AllTogether named", ids: []string{"web-prod-01", "db-replica-01"}, edit: func(r *ecs.RebootInstancesRequest) { r.BatchOptimization = "AllTogether" },
			code: "IncorrectInstanceStatus", status: 403},
		{name: "SuccessFirst reboots the valid ones", ids: []string{"web-prod-01", "db-replica-01", "i-bp1doesnotexist000", "web-prod-02"},
			edit: func(r *ecs.RebootInstancesRequest) { r.BatchOptimization = "SuccessFirst" },
			results: map[string]string{"web-prod-01": "200", "db-replica-01": "IncorrectInstanceStatus",
				"i-bp1doesnotexist000": "InvalidInstanceId.NotFound", "web-prod-02": "200"},
			rebooted: []string{"web-prod-01", "web-prod-02"}},
		{name: "SuccessFirst with nothing valid", ids: []string{"db-replica-01"},
			edit:    func(r *ecs.RebootInstancesRequest) { r.BatchOptimization = "SuccessFirst" },
			results: map[string]string{"db-replica-01": "IncorrectInstanceStatus"}},
		{name: "DryRun that passes", ids: []string{"web-prod-01", "web-prod-02"}, edit: func(r *ecs.RebootInstancesRequest) { r.DryRun = requests.NewBoolean(true) },
			code: "DryRunOperation", status: 400},
		{name: "DryRun that fails", ids: []string{"web-prod-01", "db-replica-01"}, edit: func(r *ecs.RebootInstancesRequest) { r.DryRun = requests.NewBoolean(true) },
			code: "IncorrectInstanceStatus", status: 403},
		{name: "DryRun with SuccessFirst answers DryRunOperation whatever the instances", ids: []string{"db-replica-01"},
			edit: func(r *ecs.RebootInstancesRequest) {
				r.DryRun, r.BatchOptimization = requests.NewBoolean(true), "SuccessFirst"
			}, code: "DryRunOperation", status: 400},
		{name: "no InstanceId", code: "MissingParameter", status: 400},
		{name: "101 instance IDs", ids: func() []string {
			var l []string
			for i := range 101 {
				l = append(l, fmt.Sprintf("i-bp1many%011d", i))
			}
			return l
		}(), code: "InvalidParameter", status: 400},
		{name: "BatchOptimization unknown", ids: []string{"web-prod-01"}, edit: func(r *ecs.RebootInstancesRequest) { r.BatchOptimization = "Eventually" },
			code: "InvalidParameter", status: 400},
		{name: "ForceReboot not a boolean", ids: []string{"web-prod-01"}, edit: func(r *ecs.RebootInstancesRequest) { r.ForceReboot = "yes" },
			code: "InvalidParameter", status: 400},
		{name: "unknown region", ids: []string{"web-prod-01"}, edit: func(r *ecs.RebootInstancesRequest) { r.RegionId = "mars-north-1" },
			code: "InvalidRegionId.NotFound", status: 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, _ := newRebootEnv(t, Options{})
			idOf := map[string]string{}
			var ids []string
			for _, name := range tc.ids {
				id := name
				for _, in := range e.snapshot().Instances {
					if in.InstanceName == name {
						id = in.InstanceID
					}
				}
				idOf[id] = name
				ids = append(ids, id)
			}
			before := e.snapshot()
			resp, err := e.reboot(region, tc.edit, ids...)
			if tc.code != "" {
				wantAPIError(t, err, tc.code, tc.status)
				e.assertUnchanged(before)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, r := range resp.InstanceResponses.InstanceResponse {
				got[idOf[r.InstanceId]] = r.Code
				if r.Code == "200" && (r.PreviousStatus != "Running" || r.CurrentStatus != "Stopping" || r.Message != "success") {
					t.Errorf("success %+v", r)
				}
				if r.Code == "IncorrectInstanceStatus" && (r.CurrentStatus != "Stopped" || r.PreviousStatus != "Stopped") {
					t.Errorf("not Running %+v", r)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.results) {
				t.Errorf("outcomes %v, want %v", got, tc.results)
			}
			var rebooted []string
			for _, in := range e.snapshot().Instances {
				if in.Reboot != nil {
					rebooted = append(rebooted, in.InstanceName)
					if in.Reboot.Forced != tc.forced {
						t.Errorf("%s: Forced %v", in.InstanceName, in.Reboot.Forced)
					}
				}
			}
			slices.Sort(rebooted)
			want := slices.Clone(tc.rebooted)
			slices.Sort(want)
			if !slices.Equal(rebooted, want) {
				t.Errorf("rebooted %v, want %v", rebooted, want)
			}
		})
	}
}

func TestRebootInstance(t *testing.T) {
	t.Parallel()
	e, clock := newRebootEnv(t, Options{})
	web, db := e.instanceID("web-prod-01"), e.instanceID("db-replica-01")
	reboot := func(id string, edit func(*ecs.RebootInstanceRequest)) error {
		req := ecs.CreateRebootInstanceRequest()
		req.RegionId, req.InstanceId = "cn-hangzhou", id
		if edit != nil {
			edit(req)
		}
		resp, err := e.ecs.RebootInstance(req)
		if err == nil && resp.RequestId == "" {
			t.Errorf("no RequestId: %s", resp.GetHttpContentString())
		}
		return err
	}
	for _, tc := range []struct {
		name, id string
		edit     func(*ecs.RebootInstanceRequest)
		code     string
		status   int
	}{
		{"DryRun", web, func(r *ecs.RebootInstanceRequest) { r.DryRun = requests.NewBoolean(true) }, "DryRunOperation", 400},
		{"DryRun of a Stopped instance", db, func(r *ecs.RebootInstanceRequest) { r.DryRun = requests.NewBoolean(true) }, "IncorrectInstanceStatus", 403},
		{"Stopped", db, nil, "IncorrectInstanceStatus", 403},
		{"unknown", "i-bp1doesnotexist000", nil, "InvalidInstanceId.NotFound", 404},
		{"in another region", web, func(r *ecs.RebootInstanceRequest) { r.RegionId = "cn-shanghai" }, "InvalidInstanceId.NotFound", 404},
		{"no InstanceId", "", nil, "MissingParameter", 400},
		{"ForceStop not a boolean", web, func(r *ecs.RebootInstanceRequest) { r.ForceStop = "sure" }, "InvalidParameter", 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.snapshot()
			wantAPIError(t, reboot(tc.id, tc.edit), tc.code, tc.status)
			e.assertUnchanged(before)
		})
	}
	if err := reboot(web, func(r *ecs.RebootInstanceRequest) { r.ForceStop = requests.NewBoolean(true) }); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.status("cn-hangzhou", web); got != "Stopping" {
		t.Errorf("after RebootInstance: %s", got)
	}
	if r := e.snapshot().Instances[0].Reboot; r == nil || !r.Forced {
		t.Errorf("reboot %+v, want a forced one", r)
	}
	clock.Advance(10 * time.Second)
	if got, _ := e.status("cn-hangzhou", web); got != "Running" {
		t.Errorf("10s later: %s", got)
	}
}

// TestRebootSharedStateDir runs two emulators on one state directory, as two
// sandbox processes would: both see a reboot one of them started go through
// its phases, and a third opened after it ended (a restart) sees it done.
func TestRebootSharedStateDir(t *testing.T) {
	t.Parallel()
	skipWithoutFileLocking(t)
	dir := t.TempDir()
	clock := newFakeClock()
	open := func() *testEnv {
		return newTestEnv(t, Options{StateDir: dir, Now: clock.Now, RebootTime: 10 * time.Second})
	}
	a, b := open(), open()
	web := a.instanceID("web-prod-01")
	start := clock.Now()
	if _, err := a.reboot("cn-hangzhou", nil, web); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		advance time.Duration
		status  string
	}{{0, "Stopping"}, {6 * time.Second, "Starting"}} {
		clock.Advance(step.advance)
		for name, e := range map[string]*testEnv{"the rebooting emulator": a, "the other": b} {
			if got, _ := e.status("cn-hangzhou", web); got != step.status {
				t.Errorf("%s: %s, want %s", name, got, step.status)
			}
		}
	}
	// The other emulator is refused a second reboot of the same instance.
	_, err := b.reboot("cn-hangzhou", nil, web)
	wantAPIError(t, err, "IncorrectInstanceStatus", http.StatusForbidden)

	// Both stop; the reboot ends while none runs; a new one finds it done.
	a.srv.Close()
	b.srv.Close()
	clock.Advance(5 * time.Second)
	c := open()
	if got, in := c.status("cn-hangzhou", web); got != "Running" || in.StartTime != creationTime(start.Add(10*time.Second)) {
		t.Errorf("after a restart: %s, StartTime %s", got, in.StartTime)
	}
}

// TestRebootFaults: the fault plan applies to the reboot actions like any.
func TestRebootFaults(t *testing.T) {
	t.Parallel()
	e, _ := newRebootEnv(t, Options{Faults: FaultPlan{PerAction: map[string]Faults{
		"RebootInstances": {ThrottleRate: 1},
		"RebootInstance":  {DropAfterRate: 1},
	}}})
	web, web2 := e.instanceID("web-prod-01"), e.instanceID("web-prod-02")
	before := e.snapshot()
	_, err := e.reboot("cn-hangzhou", nil, web)
	wantAPIError(t, err, "Throttling", http.StatusBadRequest)
	e.assertUnchanged(before)

	req := ecs.CreateRebootInstanceRequest()
	req.RegionId, req.InstanceId = "cn-hangzhou", web2
	if _, err := e.ecs.RebootInstance(req); err == nil {
		t.Fatal("a dropped answer came back")
	}
	if got, _ := e.status("cn-hangzhou", web2); got != "Stopping" {
		t.Errorf("the reboot behind a dropped answer: %s, want Stopping", got)
	}
}
