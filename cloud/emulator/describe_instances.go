package emulator

import (
	"fmt"
	"slices"
)

type describeInstancesResponse struct {
	RequestID  string `json:"RequestId"`
	PageNumber int    `json:"PageNumber"`
	PageSize   int    `json:"PageSize"`
	TotalCount int    `json:"TotalCount"`
	NextToken  string `json:"NextToken"`
	Instances  struct {
		Instance []instanceItem `json:"Instance"`
	} `json:"Instances"`
}

var instanceStatuses = []string{"Pending", "Running", "Starting", "Stopping", "Stopped"}

// instanceFilter is what a DescribeInstances request asks for.
type instanceFilter struct {
	region, keyPair, status string
	ids                     []string // nil: any
	tags                    []Tag
	// Exact-match filters, by DescribeInstances parameter name.
	exact map[string]string
}

// exactInstanceFilters are the filters that match one field exactly.
var exactInstanceFilters = map[string]func(Instance) string{
	"ZoneId":          func(in Instance) string { return in.ZoneID },
	"VpcId":           func(in Instance) string { return in.VpcID },
	"VSwitchId":       func(in Instance) string { return in.VSwitchID },
	"InstanceType":    func(in Instance) string { return in.InstanceType },
	"ImageId":         func(in Instance) string { return in.ImageID },
	"ResourceGroupId": func(in Instance) string { return in.ResourceGroupID },
}

func (c *call) readInstanceFilter() (instanceFilter, *apiError) {
	var f instanceFilter
	var err *apiError
	if f.region, err = c.region(); err != nil {
		return f, err
	}
	f.status = c.p.get("Status")
	if f.status != "" && !slices.Contains(instanceStatuses, f.status) {
		return f, errStatusNotFound(f.status)
	}
	if text := c.p.get("InstanceIds"); text != "" {
		var why string
		if f.ids, why = parseJSONList(text); why != "" {
			return f, errInstanceIdsNotSupported(why)
		}
		if len(f.ids) > maxDescribeIDs {
			return f, errInstanceIdsNotSupported(fmt.Sprintf("at most %d instance IDs", maxDescribeIDs))
		}
	}
	if f.tags, err = parseTags(c.p, true); err != nil {
		return f, err
	}
	f.keyPair = c.p.get("KeyPairName")
	f.exact = map[string]string{}
	for name := range exactInstanceFilters {
		if v := c.p.get(name); v != "" {
			f.exact[name] = v
		}
	}
	return f, nil
}

func (f instanceFilter) match(in Instance) bool {
	if in.RegionID != f.region ||
		(f.ids != nil && !slices.Contains(f.ids, in.InstanceID)) ||
		(f.keyPair != "" && in.KeyPairName != f.keyPair) ||
		(f.status != "" && in.Status != f.status) ||
		!hasAllTags(in.Tags, f.tags) {
		return false
	}
	for name, want := range f.exact {
		if exactInstanceFilters[name](in) != want {
			return false
		}
	}
	return true
}

func describeInstances(c *call) (any, *apiError) {
	f, err := c.readInstanceFilter()
	if err != nil {
		return nil, err
	}
	maxResults, hasMax, err := c.p.maxResults()
	if err != nil {
		return nil, err
	}
	token := c.p.get("NextToken")
	// MaxResults or NextToken ask for token paging, which the API recommends
	// over PageNumber and PageSize; those are then not read.
	byToken := hasMax || token != ""
	page, size, offset := 1, maxResults, 0
	var key string // the filter's, which binds a page token to it
	if byToken {
		key = f.key()
		if token != "" {
			if offset, err = tokenOffset(key, token); err != nil {
				return nil, err
			}
		}
		page = offset/size + 1
	} else {
		if page, err = c.p.integer("PageNumber", 1, int(^uint32(0)>>1)); err != nil {
			return nil, err
		}
		if size, err = c.p.integer("PageSize", defaultPageSize, maxInstancePageSize); err != nil {
			return nil, err
		}
		offset = (page - 1) * size
	}

	resp := describeInstancesResponse{RequestID: c.requestID, PageNumber: page, PageSize: size}
	resp.Instances.Instance = []instanceItem{}
	err = c.view(func(s *State) *apiError {
		var matches []Instance
		for _, in := range s.Instances {
			if f.match(in) {
				matches = append(matches, in)
			}
		}
		resp.TotalCount = len(matches)
		if offset < len(matches) {
			end := min(offset+size, len(matches))
			for _, in := range matches[offset:end] {
				resp.Instances.Instance = append(resp.Instances.Instance, renderInstance(in))
			}
			if byToken && end < len(matches) {
				resp.NextToken = nextToken(key, end)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}
