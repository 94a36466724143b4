package emulator

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// maxRebootInstances is how many InstanceId.N one RebootInstances takes.
const maxRebootInstances = 100

type rebootInstancesResponse struct {
	RequestID         string `json:"RequestId"`
	InstanceResponses struct {
		InstanceResponse []rebootResult `json:"InstanceResponse"`
	} `json:"InstanceResponses"`
}

// rebootResult is one instance's outcome. The API declares every field a
// string; a success is Code "200", Message "success".
type rebootResult struct {
	InstanceID     string `json:"InstanceId"`
	Code           string `json:"Code"`
	Message        string `json:"Message"`
	PreviousStatus string `json:"PreviousStatus"`
	CurrentStatus  string `json:"CurrentStatus"`
}

// repeatList reads a RepeatList parameter, name.1, name.2, ..., in index
// order. An index that is not a number from 1, or an empty item, is refused;
// a repeated item is kept once, where it first appears.
func (p params) repeatList(name string) ([]string, *apiError) {
	type item struct {
		n     int
		value string
	}
	var items []item
	for _, k := range p.names() {
		rest, ok := strings.CutPrefix(k, name+".")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(rest)
		if err != nil || n < 1 || strconv.Itoa(n) != rest {
			return nil, errInvalidParameter(k, fmt.Sprintf("%s.N takes N from 1 on", name))
		}
		if p[k] == "" {
			return nil, errInvalidParameter(k, "it is empty")
		}
		items = append(items, item{n, p[k]})
	}
	slices.SortFunc(items, func(a, b item) int { return a.n - b.n })
	var values []string
	for _, it := range items {
		if !slices.Contains(values, it.value) {
			values = append(values, it.value)
		}
	}
	return values, nil
}

// rebootInstances reboots up to 100 Running instances of a region. With
// BatchOptimization AllTogether (the default) one instance that cannot be
// rebooted fails the whole request and nothing is rebooted; with
// SuccessFirst each instance succeeds or fails on its own.
func rebootInstances(c *call) (any, *apiError) {
	region, err := c.region()
	if err != nil {
		return nil, err
	}
	ids, err := c.p.repeatList("InstanceId")
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, errMissingParameter("InstanceId.N")
	}
	if len(ids) > maxRebootInstances {
		return nil, errInvalidParameter("InstanceId.N", fmt.Sprintf("%d instance IDs; at most %d per request", len(ids), maxRebootInstances))
	}
	forced, err := c.p.boolean("ForceReboot")
	if err != nil {
		return nil, err
	}
	dryRun, err := c.p.boolean("DryRun")
	if err != nil {
		return nil, err
	}
	successFirst := false
	switch mode := c.p.get("BatchOptimization"); mode {
	case "", "AllTogether":
	case "SuccessFirst":
		successFirst = true
	default:
		return nil, errInvalidParameter("BatchOptimization", fmt.Sprintf("%s is not AllTogether or SuccessFirst", quoteClip(mode)))
	}
	if dryRun && successFirst {
		// Documented: with SuccessFirst a dry run answers DryRunOperation
		// whether or not the instances would pass.
		return nil, errDryRun()
	}

	resp := rebootInstancesResponse{RequestID: c.requestID}
	resp.InstanceResponses.InstanceResponse = []rebootResult{}
	err = c.update(func(s *State) *apiError {
		targets := make([]*Instance, len(ids))
		var unknown []string
		var notRunning *Instance
		for i, id := range ids {
			j := instanceIndex(s, region, id)
			if j < 0 {
				unknown = append(unknown, id)
				continue
			}
			targets[i] = &s.Instances[j]
			if targets[i].Status != "Running" && notRunning == nil {
				notRunning = targets[i]
			}
		}
		if !successFirst {
			switch {
			case len(unknown) > 0:
				return errInstanceNotFound(unknown, region)
			case notRunning != nil:
				return errIncorrectInstanceStatus(notRunning.InstanceID, notRunning.Status)
			case dryRun:
				return errDryRun()
			}
		}
		for i, in := range targets {
			res := rebootResult{InstanceID: ids[i]}
			switch {
			case in == nil:
				e := errInstanceNotFound([]string{ids[i]}, region)
				res.Code, res.Message = e.Code, e.Message
			case in.Status != "Running":
				e := errIncorrectInstanceStatus(in.InstanceID, in.Status)
				res.Code, res.Message = e.Code, e.Message
				res.PreviousStatus, res.CurrentStatus = in.Status, in.Status
			default:
				c.e.startReboot(in, forced)
				res.Code, res.Message = "200", "success"
				res.PreviousStatus, res.CurrentStatus = "Running", in.Status
			}
			resp.InstanceResponses.InstanceResponse = append(resp.InstanceResponses.InstanceResponse, res)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// rebootInstance reboots one Running instance. The action has no RegionId
// parameter (the generated SDK sends none: the endpoint names the region);
// the classic SDK sends its client's region, which then must hold the
// instance.
func rebootInstance(c *call) (any, *apiError) {
	id, err := c.p.required("InstanceId")
	if err != nil {
		return nil, err
	}
	region := ""
	if _, given := c.p.lookup("RegionId"); given {
		if region, err = c.region(); err != nil {
			return nil, err
		}
	}
	forced, err := c.p.boolean("ForceStop")
	if err != nil {
		return nil, err
	}
	dryRun, err := c.p.boolean("DryRun")
	if err != nil {
		return nil, err
	}
	err = c.update(func(s *State) *apiError {
		j := instanceIndex(s, region, id)
		if j < 0 {
			return errInstanceNotFound([]string{id}, region)
		}
		in := &s.Instances[j]
		switch {
		case in.Status != "Running":
			return errIncorrectInstanceStatus(in.InstanceID, in.Status)
		case dryRun:
			return errDryRun()
		}
		c.e.startReboot(in, forced)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return requestIDResponse{RequestID: c.requestID}, nil
}

func quoteEach(ss []string) []string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = quoteClip(s)
	}
	return q
}
