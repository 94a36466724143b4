package emulator

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"golang.org/x/crypto/ssh"
)

// call is one request on its way through an action.
type call struct {
	e         *Emulator
	p         params
	requestID string
}

// action runs one API action and returns its JSON response body.
type action func(*call) (any, *apiError)

func (e *Emulator) actionTable() map[string]action {
	return map[string]action{
		"CreateKeyPair":     createKeyPair,
		"ImportKeyPair":     importKeyPair,
		"DescribeKeyPairs":  describeKeyPairs,
		"DeleteKeyPairs":    deleteKeyPairs,
		"AttachKeyPair":     attachKeyPair,
		"DetachKeyPair":     detachKeyPair,
		"DescribeRegions":   describeRegions,
		"DescribeInstances": describeInstances,
		"RebootInstances":   rebootInstances,
		"RebootInstance":    rebootInstance,
	}
}

// view and update run fn against the store, passing an *apiError through
// and turning any other failure (an unreadable state directory) into an
// InternalError, so that the caller always gets a well-formed API error.
// Both hand fn the state as it is now: instances in a reboot have the status
// the emulator's clock gives them, and an update stores it.
func (c *call) view(fn func(*State) *apiError) *apiError {
	return c.storeErr(c.e.store.view(func(s *State) error { return asError(fn(c.e.present(s))) }))
}

func (c *call) update(fn func(*State) *apiError) *apiError {
	return c.storeErr(c.e.store.update(func(s *State) error {
		settleReboots(s, c.e.now())
		return asError(fn(s))
	}))
}

// asError avoids the typed-nil trap: a nil *apiError must become a nil error.
func asError(err *apiError) error {
	if err == nil {
		return nil
	}
	return err
}

func (c *call) storeErr(err error) *apiError {
	if err == nil {
		return nil
	}
	var apiErr *apiError
	if errors.As(err, &apiErr) {
		return apiErr
	}
	c.e.log.Error("emulator state", "err", err, "requestId", c.requestID)
	return newError(http.StatusInternalServerError, "InternalError",
		"The request processing has failed due to some unknown error, exception or failure. (emulator state: %v)", err)
}

// region reads the required RegionId and checks that the region exists.
func (c *call) region() (string, *apiError) {
	id, err := c.p.required("RegionId")
	if err != nil {
		return "", err
	}
	err = c.view(func(s *State) *apiError {
		if !slices.ContainsFunc(s.Regions, func(r Region) bool { return r.RegionID == id }) {
			return errRegionNotFound(id)
		}
		return nil
	})
	return id, err
}

// keyPairIndex returns the index of a key pair in s.KeyPairs, or -1.
func keyPairIndex(s *State, region, name string) int {
	return slices.IndexFunc(s.KeyPairs, func(k KeyPair) bool {
		return k.RegionID == region && k.KeyPairName == name
	})
}

// instanceIndex returns the index of an instance in s.Instances, or -1; a
// region "" matches the instance in any region.
func instanceIndex(s *State, region, id string) int {
	return slices.IndexFunc(s.Instances, func(in Instance) bool {
		return in.InstanceID == id && (region == "" || in.RegionID == region)
	})
}

func countKeyPairs(s *State, region string) int {
	n := 0
	for _, k := range s.KeyPairs {
		if k.RegionID == region {
			n++
		}
	}
	return n
}

// creationTimeLayout is the API's CreationTime: UTC, to the minute.
const creationTimeLayout = "2006-01-02T15:04Z"

func creationTime(t time.Time) string { return t.UTC().Format(creationTimeLayout) }

// newKeyPairRequest holds what CreateKeyPair and ImportKeyPair share.
type newKeyPairRequest struct {
	region, name, resourceGroup string
	tags                        []Tag
}

// readNewKeyPair checks the parameters CreateKeyPair and ImportKeyPair share.
func (c *call) readNewKeyPair(allowDot bool) (newKeyPairRequest, *apiError) {
	var r newKeyPairRequest
	var err *apiError
	if r.region, err = c.region(); err != nil {
		return r, err
	}
	if r.name, err = c.p.required("KeyPairName"); err != nil {
		return r, err
	}
	if err = checkKeyPairName(r.name, allowDot); err != nil {
		return r, err
	}
	if r.tags, err = parseTags(c.p, false); err != nil {
		return r, err
	}
	r.resourceGroup = c.p.get("ResourceGroupId")
	err = c.view(func(s *State) *apiError {
		if r.resourceGroup == "" {
			for _, g := range s.ResourceGroups {
				if g.Default {
					r.resourceGroup = g.ID
				}
			}
		} else if !slices.ContainsFunc(s.ResourceGroups, func(g ResourceGroup) bool { return g.ID == r.resourceGroup }) {
			return errResourceGroupNotFound(r.resourceGroup)
		}
		return nil
	})
	return r, err
}

// checkRoom refuses a new key pair whose name is taken or whose region is
// full. It runs once the parameters are checked, before a key is generated,
// and again inside the update that stores it, since another request may
// have got there in between.
func (c *call) checkRoom(s *State, r newKeyPairRequest) *apiError {
	if keyPairIndex(s, r.region, r.name) >= 0 {
		return errKeyPairExists(r.name)
	}
	if countKeyPairs(s, r.region) >= c.e.quota {
		return errKeyPairQuota(c.e.quota)
	}
	return nil
}

func (c *call) store(r newKeyPairRequest, fingerprint, publicKey string) (KeyPair, *apiError) {
	kp := KeyPair{
		RegionID:        r.region,
		KeyPairID:       "ssh-" + randomString(20, lowerAlnum),
		KeyPairName:     r.name,
		FingerPrint:     fingerprint,
		PublicKey:       publicKey,
		ResourceGroupID: r.resourceGroup,
		CreationTime:    c.e.now().UTC(),
		Tags:            r.tags,
	}
	err := c.update(func(s *State) *apiError {
		if err := c.checkRoom(s, r); err != nil {
			return err
		}
		s.KeyPairs = append(s.KeyPairs, kp)
		return nil
	})
	return kp, err
}

type createKeyPairResponse struct {
	RequestID          string `json:"RequestId"`
	KeyPairID          string `json:"KeyPairId"`
	KeyPairName        string `json:"KeyPairName"`
	KeyPairFingerPrint string `json:"KeyPairFingerPrint"`
	PrivateKeyBody     string `json:"PrivateKeyBody"`
}

func createKeyPair(c *call) (any, *apiError) {
	r, err := c.readNewKeyPair(false)
	if err != nil {
		return nil, err
	}
	if err := c.view(func(s *State) *apiError { return c.checkRoom(s, r) }); err != nil {
		return nil, err
	}
	key, genErr := newRSAKey(c.e.fast)
	if genErr != nil {
		return nil, c.storeErr(fmt.Errorf("generating an RSA key: %w", genErr))
	}
	pub, genErr := ssh.NewPublicKey(&key.PublicKey)
	if genErr != nil {
		return nil, c.storeErr(genErr)
	}
	kp, err := c.store(r, fingerprintMD5(pub), authorizedKey(pub))
	if err != nil {
		return nil, err
	}
	return createKeyPairResponse{
		RequestID:          c.requestID,
		KeyPairID:          kp.KeyPairID,
		KeyPairName:        kp.KeyPairName,
		KeyPairFingerPrint: kp.FingerPrint,
		PrivateKeyBody:     encodePrivateKeyPEM(key),
	}, nil
}

type importKeyPairResponse struct {
	RequestID          string `json:"RequestId"`
	KeyPairName        string `json:"KeyPairName"`
	KeyPairFingerPrint string `json:"KeyPairFingerPrint"`
}

func importKeyPair(c *call) (any, *apiError) {
	r, err := c.readNewKeyPair(true)
	if err != nil {
		return nil, err
	}
	body, err := c.p.required("PublicKeyBody")
	if err != nil {
		return nil, err
	}
	pub, canonical, parseErr := parsePublicKeyBody(body)
	if parseErr != nil {
		return nil, errPublicKeyMalformed(parseErr.Error())
	}
	if err := c.view(func(s *State) *apiError { return c.checkRoom(s, r) }); err != nil {
		return nil, err
	}
	kp, err := c.store(r, fingerprintMD5(pub), canonical)
	if err != nil {
		return nil, err
	}
	return importKeyPairResponse{
		RequestID:          c.requestID,
		KeyPairName:        kp.KeyPairName,
		KeyPairFingerPrint: kp.FingerPrint,
	}, nil
}

type describeKeyPairsResponse struct {
	RequestID  string `json:"RequestId"`
	PageNumber int    `json:"PageNumber"`
	PageSize   int    `json:"PageSize"`
	TotalCount int    `json:"TotalCount"`
	KeyPairs   struct {
		KeyPair []keyPairItem `json:"KeyPair"`
	} `json:"KeyPairs"`
}

type keyPairItem struct {
	CreationTime       string `json:"CreationTime"`
	KeyPairName        string `json:"KeyPairName"`
	KeyPairFingerPrint string `json:"KeyPairFingerPrint"`
	ResourceGroupID    string `json:"ResourceGroupId"`
	PublicKey          string `json:"PublicKey,omitempty"`
	Tags               struct {
		Tag []tagItem `json:"Tag"`
	} `json:"Tags"`
}

type tagItem struct {
	TagKey   string `json:"TagKey"`
	TagValue string `json:"TagValue"`
}

// tagItems renders tags as the API does, [] when there are none.
func tagItems(tags []Tag) []tagItem {
	out := make([]tagItem, 0, len(tags))
	for _, t := range tags {
		out = append(out, tagItem{TagKey: t.Key, TagValue: t.Value})
	}
	return out
}

func describeKeyPairs(c *call) (any, *apiError) {
	region, err := c.region()
	if err != nil {
		return nil, err
	}
	page, err := c.p.integer("PageNumber", 1, int(^uint32(0)>>1))
	if err != nil {
		return nil, err
	}
	size, err := c.p.integer("PageSize", defaultPageSize, maxKeyPairPageSize)
	if err != nil {
		return nil, err
	}
	withKey, err := c.p.boolean("IncludePublicKey")
	if err != nil {
		return nil, err
	}
	filterTags, err := parseTags(c.p, true)
	if err != nil {
		return nil, err
	}
	pattern, hasPattern := c.p.lookup("KeyPairName")
	fingerprint := c.p.get("KeyPairFingerPrint")
	group := c.p.get("ResourceGroupId")

	resp := describeKeyPairsResponse{RequestID: c.requestID, PageNumber: page, PageSize: size}
	resp.KeyPairs.KeyPair = []keyPairItem{}
	err = c.view(func(s *State) *apiError {
		var matches []KeyPair
		for _, kp := range s.KeyPairs {
			if kp.RegionID == region &&
				(!hasPattern || pattern == "" || matchWildcard(pattern, kp.KeyPairName)) &&
				(fingerprint == "" || kp.FingerPrint == fingerprint) &&
				(group == "" || kp.ResourceGroupID == group) &&
				hasAllTags(kp.Tags, filterTags) {
				matches = append(matches, kp)
			}
		}
		resp.TotalCount = len(matches)
		for _, kp := range pageOf(matches, page, size) {
			item := keyPairItem{
				CreationTime:       creationTime(kp.CreationTime),
				KeyPairName:        kp.KeyPairName,
				KeyPairFingerPrint: kp.FingerPrint,
				ResourceGroupID:    kp.ResourceGroupID,
			}
			if withKey {
				item.PublicKey = kp.PublicKey
			}
			item.Tags.Tag = tagItems(kp.Tags)
			resp.KeyPairs.KeyPair = append(resp.KeyPairs.KeyPair, item)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// hasAllTags reports whether have carries every tag in want. A wanted tag
// with an empty value matches any value of that key.
func hasAllTags(have, want []Tag) bool {
	for _, w := range want {
		if !slices.ContainsFunc(have, func(h Tag) bool {
			return h.Key == w.Key && (w.Value == "" || h.Value == w.Value)
		}) {
			return false
		}
	}
	return true
}

// pageOf returns page number page (from 1) of size items.
func pageOf[T any](items []T, page, size int) []T {
	start := (page - 1) * size
	if start >= len(items) || start < 0 {
		return nil
	}
	return items[start:min(start+size, len(items))]
}

type requestIDResponse struct {
	RequestID string `json:"RequestId"`
}

func deleteKeyPairs(c *call) (any, *apiError) {
	region, err := c.region()
	if err != nil {
		return nil, err
	}
	text, err := c.p.required("KeyPairNames")
	if err != nil {
		return nil, err
	}
	names, why := parseJSONList(text)
	if why != "" {
		return nil, errKeyPairNamesNotSupported(why)
	}
	if len(names) > maxDeleteNames {
		return nil, errDeleteLimit(maxDeleteNames)
	}
	err = c.update(func(s *State) *apiError {
		// A key pair bound to an instance cannot be deleted; one such name
		// fails the whole call and nothing is deleted. Unknown names are
		// ignored.
		var bound []string
		for _, name := range names {
			if slices.ContainsFunc(s.Instances, func(in Instance) bool {
				return in.RegionID == region && in.KeyPairName == name
			}) {
				bound = append(bound, name)
			}
		}
		if len(bound) > 0 {
			return errKeyPairAttached(bound)
		}
		s.KeyPairs = slices.DeleteFunc(s.KeyPairs, func(k KeyPair) bool {
			return k.RegionID == region && slices.Contains(names, k.KeyPairName)
		})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return requestIDResponse{RequestID: c.requestID}, nil
}

type bindResponse struct {
	RequestID   string `json:"RequestId"`
	KeyPairName string `json:"KeyPairName"`
	// The API documents these counts and every Result field as strings.
	TotalCount string `json:"TotalCount"`
	FailCount  string `json:"FailCount"`
	Results    struct {
		Result []bindResult `json:"Result"`
	} `json:"Results"`
}

type bindResult struct {
	InstanceID string `json:"InstanceId"`
	Success    string `json:"Success"`
	Code       string `json:"Code"`
	Message    string `json:"Message"`
}

func attachKeyPair(c *call) (any, *apiError) {
	return bindKeyPair(c, true)
}

func detachKeyPair(c *call) (any, *apiError) {
	return bindKeyPair(c, false)
}

// bindKeyPair attaches (attach true) or detaches a key pair. The whole call
// is refused when the key pair or any instance is unknown, when the list is
// malformed or too long, or when every instance runs Windows. Otherwise each
// instance succeeds or fails on its own.
func bindKeyPair(c *call, attach bool) (any, *apiError) {
	region, err := c.region()
	if err != nil {
		return nil, err
	}
	name, err := c.p.required("KeyPairName")
	if err != nil {
		return nil, err
	}
	text, err := c.p.required("InstanceIds")
	if err != nil {
		return nil, err
	}
	ids, why := parseJSONList(text)
	if why != "" {
		return nil, errInstanceIdsNotSupported(why)
	}
	if len(ids) > maxAttachInstances {
		return nil, errInstanceLimit(maxAttachInstances)
	}
	resp := bindResponse{RequestID: c.requestID, KeyPairName: name}
	err = c.update(func(s *State) *apiError {
		if keyPairIndex(s, region, name) < 0 {
			return errKeyPairNotFound(name)
		}
		targets := make([]*Instance, len(ids))
		windows := 0
		for i, id := range ids {
			j := instanceIndex(s, region, id)
			if j < 0 {
				return errInstanceIdsNotSupported(fmt.Sprintf("instance %q does not exist in region %s", id, region))
			}
			targets[i] = &s.Instances[j]
			if targets[i].OSType == "windows" {
				windows++
			}
		}
		if windows == len(targets) {
			return errWindowsInstance()
		}
		failed := 0
		for _, in := range targets {
			res := bindOne(in, name, attach)
			if res.Success != "true" {
				failed++
			}
			resp.Results.Result = append(resp.Results.Result, res)
		}
		resp.TotalCount = strconv.Itoa(len(targets))
		resp.FailCount = strconv.Itoa(failed)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// bindOne applies an attach or detach to one instance and reports the result.
func bindOne(in *Instance, name string, attach bool) bindResult {
	fail := func(code, msg string) bindResult {
		return bindResult{InstanceID: in.InstanceID, Success: "false", Code: code, Message: msg}
	}
	switch {
	case in.OSType == "windows":
		return fail("DependencyViolation.WindowsInstance", windowsMessage)
	case in.Status != "Running" && in.Status != "Stopped":
		return fail("IncorrectInstanceStatus",
			fmt.Sprintf("The current status of the resource does not support this operation. (instance is %s; it must be Running or Stopped)", in.Status))
	case !attach && in.KeyPairName != name:
		return fail("InvalidParameter.KeyPairNotAttached",
			fmt.Sprintf("The specified key pair is not bound to the instance. (it carries %q)", in.KeyPairName))
	}
	if attach {
		in.KeyPairName = name // replaces any key the instance had
	} else {
		in.KeyPairName = ""
	}
	return bindResult{InstanceID: in.InstanceID, Success: "true", Code: "200", Message: "successful"}
}

type describeRegionsResponse struct {
	RequestID string `json:"RequestId"`
	Regions   struct {
		Region []regionItem `json:"Region"`
	} `json:"Regions"`
}

type regionItem struct {
	RegionID       string `json:"RegionId"`
	LocalName      string `json:"LocalName"`
	RegionEndpoint string `json:"RegionEndpoint"`
	Status         string `json:"Status"`
}

var acceptLanguages = []string{"zh-CN", "zh_TW", "en-US", "ja", "fr", "de", "ko"}

func describeRegions(c *call) (any, *apiError) {
	// RegionId is not a DescribeRegions parameter, though the SDK sends its
	// client's region; it is ignored, as the service does.
	if lang := c.p.get("AcceptLanguage"); lang != "" && !slices.Contains(acceptLanguages, lang) {
		return nil, newError(http.StatusNotFound, "InvalidAcceptLanguage.NotFound",
			"Only Chinese (zh-CN), English (en-US), and Japanese (ja) are allowed. (AcceptLanguage %q)", lang)
	}
	resp := describeRegionsResponse{RequestID: c.requestID}
	resp.Regions.Region = []regionItem{}
	err := c.view(func(s *State) *apiError {
		for _, r := range s.Regions {
			resp.Regions.Region = append(resp.Regions.Region, regionItem(r))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}
