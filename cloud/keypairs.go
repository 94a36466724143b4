package cloud

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
)

// jsonArray renders a list as the API's JSON-array string parameter.
func jsonArray(items []string) string {
	if items == nil {
		items = []string{}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(items) // []string always encodes
	return string(bytes.TrimRight(b.Bytes(), "\n"))
}

// CreateKeyPair creates an RSA key pair. The private key is in the result
// only; see CreatedKeyPair.
func (c *Client) CreateKeyPair(ctx context.Context, in schema.CreateKeyPairInput) (CreatedKeyPair, error) {
	const action = "CreateKeyPair"
	if err := requireRegion(action, in.RegionID); err != nil {
		return CreatedKeyPair{}, err
	}
	req := ecs.CreateCreateKeyPairRequest()
	req.RegionId = in.RegionID
	req.KeyPairName = in.KeyPairName
	req.ResourceGroupId = in.ResourceGroupID
	if len(in.Tags) > 0 {
		tags := make([]ecs.CreateKeyPairTag, len(in.Tags))
		for i, t := range in.Tags {
			tags[i] = ecs.CreateKeyPairTag{Key: t.Key, Value: t.Value}
		}
		req.Tag = &tags
	}
	attempt := func() (CreatedKeyPair, error) {
		return send(ctx, c, once, action, in.RegionID, req, func(cl *ecs.Client) (CreatedKeyPair, string, error) {
			resp, err := cl.CreateKeyPair(req)
			if err != nil {
				return CreatedKeyPair{}, "", err
			}
			return CreatedKeyPair{
				KeyPairID:          resp.KeyPairId,
				KeyPairName:        resp.KeyPairName,
				KeyPairFingerPrint: resp.KeyPairFingerPrint,
				RequestID:          resp.RequestId,
				PrivateKeyPEM:      PrivateKey(resp.PrivateKeyBody),
			}, resp.RequestId, nil
		})
	}
	start := time.Now()
	return sendWrite(ctx, c, action, in.RegionID, in.KeyPairName, attempt,
		func(kp ecs.KeyPair, _ string, cause *Error) (CreatedKeyPair, error) {
			if createdBefore(kp.CreationTime, start) {
				return CreatedKeyPair{}, &Error{Code: "KeyPair.AlreadyExist", Action: action, Message: fmt.Sprintf(
					"key pair %q already exists in %s (created %s); this call created nothing. Choose another name.",
					in.KeyPairName, in.RegionID, kp.CreationTime)}
			}
			// The request ID is the lost answer's, when a gateway or the
			// API sent one (a 5xx); the look-up's would mislead.
			return CreatedKeyPair{}, &Error{Code: CodeCreatedWithoutPrivateKey, Action: action, RequestID: cause.RequestID, Message: fmt.Sprintf(
				"key pair %q WAS CREATED in %s (fingerprint %s, created %s), but the answer carrying its private key was lost (%s), "+
					"and a private key cannot be retrieved again",
				in.KeyPairName, in.RegionID, kp.KeyPairFingerPrint, kp.CreationTime, cause.Code)}
		})
}

// ImportKeyPair imports a public key.
func (c *Client) ImportKeyPair(ctx context.Context, in schema.ImportKeyPairInput) (schema.ImportKeyPairOutput, error) {
	const action = "ImportKeyPair"
	if err := requireRegion(action, in.RegionID); err != nil {
		return schema.ImportKeyPairOutput{}, err
	}
	if schema.LooksLikePrivateKey(in.PublicKeyBody) {
		// Never send a private key anywhere (an API error could echo it).
		return schema.ImportKeyPairOutput{}, &Error{Code: "InvalidPublicKeyBody.Malformed", Action: action,
			Message: "publicKeyBody holds a private key; pass the public key (the contents of the .pub file) instead"}
	}
	req := ecs.CreateImportKeyPairRequest()
	req.RegionId = in.RegionID
	req.KeyPairName = in.KeyPairName
	req.PublicKeyBody = in.PublicKeyBody
	req.ResourceGroupId = in.ResourceGroupID
	if len(in.Tags) > 0 {
		tags := make([]ecs.ImportKeyPairTag, len(in.Tags))
		for i, t := range in.Tags {
			tags[i] = ecs.ImportKeyPairTag{Key: t.Key, Value: t.Value}
		}
		req.Tag = &tags
	}
	attempt := func() (schema.ImportKeyPairOutput, error) {
		return send(ctx, c, once, action, in.RegionID, req, func(cl *ecs.Client) (schema.ImportKeyPairOutput, string, error) {
			resp, err := cl.ImportKeyPair(req)
			if err != nil {
				return schema.ImportKeyPairOutput{}, "", err
			}
			return schema.ImportKeyPairOutput{
				KeyPairName:        resp.KeyPairName,
				KeyPairFingerPrint: resp.KeyPairFingerPrint,
				RequestID:          resp.RequestId,
			}, resp.RequestId, nil
		})
	}
	return sendWrite(ctx, c, action, in.RegionID, in.KeyPairName, attempt,
		func(kp ecs.KeyPair, requestID string, cause *Error) (schema.ImportKeyPairOutput, error) {
			want, err := Fingerprint(in.PublicKeyBody)
			switch {
			case err != nil:
				return schema.ImportKeyPairOutput{}, &Error{Code: CodeOutcomeUnknown, Action: action, Message: fmt.Sprintf(
					"the answer to this import was lost (%s) and key pair %q now exists in %s with fingerprint %s, "+
						"which could not be compared with publicKeyBody (%v). Check it with `ssh-keygen -l -E md5 -f key.pub`.",
					cause.Code, in.KeyPairName, in.RegionID, kp.KeyPairFingerPrint, err)}
			case !strings.EqualFold(want, kp.KeyPairFingerPrint):
				return schema.ImportKeyPairOutput{}, &Error{Code: "KeyPair.AlreadyExist", Action: action, Message: fmt.Sprintf(
					"key pair %q already exists in %s with another public key (fingerprint %s, not %s); this import changed nothing. "+
						"Choose another name.", in.KeyPairName, in.RegionID, kp.KeyPairFingerPrint, want)}
			}
			// The key the caller meant to import is there under its name:
			// whichever request put it there, the import is done.
			return schema.ImportKeyPairOutput{KeyPairName: kp.KeyPairName, KeyPairFingerPrint: kp.KeyPairFingerPrint,
				RequestID: requestID}, nil
		})
}

// DescribeKeyPairs lists key pairs. Without PageNumber and PageSize it
// returns every match: the first page of 50, then the other pages
// concurrently, in the API's order. With either, it returns that one page
// (the API's defaults fill the other) and the true TotalCount.
func (c *Client) DescribeKeyPairs(ctx context.Context, in schema.DescribeKeyPairsInput) (schema.DescribeKeyPairsOutput, error) {
	const action = "DescribeKeyPairs"
	if err := requireRegion(action, in.RegionID); err != nil {
		return schema.DescribeKeyPairsOutput{}, err
	}
	page := func(number, size int) (*ecs.DescribeKeyPairsResponse, error) {
		req := ecs.CreateDescribeKeyPairsRequest()
		req.RegionId = in.RegionID
		req.KeyPairName = in.KeyPairName
		req.KeyPairFingerPrint = in.KeyPairFingerPrint
		req.ResourceGroupId = in.ResourceGroupID
		if in.IncludePublicKey {
			req.IncludePublicKey = requests.NewBoolean(true)
		}
		if number > 0 {
			req.PageNumber = requests.NewInteger(number)
		}
		if size > 0 {
			req.PageSize = requests.NewInteger(size)
		}
		if len(in.Tags) > 0 {
			tags := make([]ecs.DescribeKeyPairsTag, len(in.Tags))
			for i, t := range in.Tags {
				tags[i] = ecs.DescribeKeyPairsTag{Key: t.Key, Value: t.Value}
			}
			req.Tag = &tags
		}
		return send(ctx, c, idempotent, action, in.RegionID, req, func(cl *ecs.Client) (*ecs.DescribeKeyPairsResponse, string, error) {
			r, err := cl.DescribeKeyPairs(req)
			if err != nil {
				return nil, "", err
			}
			return r, r.RequestId, nil
		})
	}

	out := schema.DescribeKeyPairsOutput{KeyPairs: []schema.KeyPair{}}
	if in.PageNumber > 0 || in.PageSize > 0 {
		resp, err := page(in.PageNumber, in.PageSize)
		if err != nil {
			return schema.DescribeKeyPairsOutput{}, err
		}
		out.TotalCount = resp.TotalCount
		for _, k := range resp.KeyPairs.KeyPair {
			out.KeyPairs = append(out.KeyPairs, keyPairFromAPI(k, in.RegionID))
		}
		return out, nil
	}

	pages, err := allPages(ctx, c, action, in.RegionID, listingKey(action, in.RegionID, in.KeyPairName, in.KeyPairFingerPrint,
		in.ResourceGroupID, in.Tags, in.IncludePublicKey), schema.DescribeKeyPairsPageSize, func(number int) ([]ecs.KeyPair, int, error) {
		resp, err := page(number, schema.DescribeKeyPairsPageSize)
		if err != nil {
			return nil, 0, err
		}
		return resp.KeyPairs.KeyPair, resp.TotalCount, nil
	})
	if err != nil {
		return schema.DescribeKeyPairsOutput{}, err
	}
	seen := map[string]bool{}
	for _, k := range pages {
		// Pages read while key pairs come and go may overlap.
		if seen[k.KeyPairName] {
			continue
		}
		seen[k.KeyPairName] = true
		out.KeyPairs = append(out.KeyPairs, keyPairFromAPI(k, in.RegionID))
	}
	out.TotalCount = len(out.KeyPairs)
	return out, nil
}

func keyPairFromAPI(k ecs.KeyPair, region string) schema.KeyPair {
	kp := schema.KeyPair{
		RegionID:           region,
		KeyPairName:        k.KeyPairName,
		KeyPairFingerPrint: k.KeyPairFingerPrint,
		CreationTime:       k.CreationTime,
		ResourceGroupID:    k.ResourceGroupId,
		PublicKey:          k.PublicKey,
		Tags:               []schema.Tag{},
	}
	for _, t := range k.Tags.Tag {
		key, value := t.TagKey, t.TagValue
		if key == "" {
			key, value = t.Key, t.Value
		}
		kp.Tags = append(kp.Tags, schema.Tag{Key: key, Value: value})
	}
	return kp
}

// BatchResult is the outcome of one DeleteKeyPairs request.
type BatchResult struct {
	// Items are the names this request carried, in the caller's order.
	Items []string
	// RequestID is the API's request ID, when an answer arrived.
	RequestID string
	// Err is nil when the batch succeeded, else an *Error.
	Err error
}

// DeleteKeyPairs deletes key pairs in batches of 100 names, sent
// concurrently; the results are in the caller's order. The error is only
// for what stops the whole call: a context that ended before anything was
// sent, missing or rejected credentials, an unknown region.
func (c *Client) DeleteKeyPairs(ctx context.Context, region string, names []string) ([]BatchResult, error) {
	const action = "DeleteKeyPairs"
	if err := requireRegion(action, region); err != nil {
		return nil, err
	}
	results, _, err := inBatches(ctx, c, action, region, names, schema.DeleteKeyPairsBatch, func(batch []string) ([]BatchResult, string, error) {
		req := ecs.CreateDeleteKeyPairsRequest()
		req.RegionId = region
		req.KeyPairNames = jsonArray(batch)
		requestID, err := send(ctx, c, idempotent, action, region, req, func(cl *ecs.Client) (string, string, error) {
			resp, err := cl.DeleteKeyPairs(req)
			if err != nil {
				return "", "", err
			}
			return resp.RequestId, resp.RequestId, nil
		})
		r := BatchResult{Items: batch, RequestID: requestID, Err: err}
		if e, ok := err.(*Error); ok {
			r.RequestID = e.RequestID
		}
		return []BatchResult{r}, r.RequestID, err
	})
	return results, err
}

// InstanceResult is one instance's outcome of AttachKeyPair/DetachKeyPair.
type InstanceResult struct {
	InstanceID string
	Success    bool
	// Code is "200" on success, else the API's error code (per instance, or
	// that of the request when it failed as a whole).
	Code    string
	Message string
	// MaybeApplied is set when the change may have been made all the same:
	// the request failed without a refusal, or the API applied it but its
	// answer left this instance out.
	MaybeApplied bool
}

// AttachKeyPair binds a key pair to instances, in batches of 50 sent
// concurrently. It returns one result per instance in the caller's order and
// the request IDs in batch order. A batch that fails as a whole (e.g.
// DependencyViolation.WindowsInstance when all its instances run Windows)
// marks each of its instances failed with that error. The error is only for
// what stops the whole call (see DeleteKeyPairs).
func (c *Client) AttachKeyPair(ctx context.Context, region, keyPairName string, instanceIDs []string) ([]InstanceResult, []string, error) {
	return c.bind(ctx, "AttachKeyPair", region, keyPairName, instanceIDs)
}

// DetachKeyPair unbinds a key pair from instances; see AttachKeyPair.
func (c *Client) DetachKeyPair(ctx context.Context, region, keyPairName string, instanceIDs []string) ([]InstanceResult, []string, error) {
	return c.bind(ctx, "DetachKeyPair", region, keyPairName, instanceIDs)
}

func (c *Client) bind(ctx context.Context, action, region, keyPairName string, instanceIDs []string) ([]InstanceResult, []string, error) {
	if err := requireRegion(action, region); err != nil {
		return nil, nil, err
	}
	return inBatches(ctx, c, action, region, instanceIDs, schema.BindKeyPairBatch, func(ids []string) ([]InstanceResult, string, error) {
		type answer struct {
			requestID string
			results   []ecs.Result
		}
		var a answer
		var err error
		var attempts atomic.Int32 // counted in the SDK goroutine of each attempt
		if action == "AttachKeyPair" {
			req := ecs.CreateAttachKeyPairRequest()
			req.RegionId, req.KeyPairName, req.InstanceIds = region, keyPairName, jsonArray(ids)
			a, err = send(ctx, c, idempotent, action, region, req, func(cl *ecs.Client) (answer, string, error) {
				resp, err := cl.AttachKeyPair(req)
				if err != nil {
					return answer{}, "", err
				}
				return answer{resp.RequestId, resp.Results.Result}, resp.RequestId, nil
			})
		} else {
			req := ecs.CreateDetachKeyPairRequest()
			req.RegionId, req.KeyPairName, req.InstanceIds = region, keyPairName, jsonArray(ids)
			a, err = send(ctx, c, idempotent, action, region, req, func(cl *ecs.Client) (answer, string, error) {
				attempts.Add(1)
				resp, err := cl.DetachKeyPair(req)
				if err != nil {
					return answer{}, "", err
				}
				return answer{resp.RequestId, resp.Results.Result}, resp.RequestId, nil
			})
		}
		results := bindResults(ids, a.results, err)
		if attempts.Load() > 1 {
			detachedEarlier(results)
		}
		return results, a.requestID, err
	})
}

// inBatches sends items in batches of size, concurrently (Config.Concurrency
// at once), reporting each finished batch as progress. sendBatch returns its
// batch's results, also when it failed (one per item, in order, or one for
// the whole batch), and its request ID. The results come back in the order of items, with the request
// IDs in batch order; the error is only for what stops the whole call (see
// callWide).
func inBatches[R any](ctx context.Context, c *Client, action, region string, items []string, size int,
	sendBatch func(batch []string) ([]R, string, error)) ([]R, []string, error) {
	if len(items) == 0 {
		return nil, nil, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, canceledError(action, err)
	}
	batches := chunk(items, size)
	results := make([][]R, len(batches))
	requestIDs := make([]string, len(batches))
	errs := make([]error, len(batches))
	progress := newTally(ctx, action, region, len(batches))
	c.forEach(len(batches), func(i int) {
		defer progress.step()
		results[i], requestIDs[i], errs[i] = sendBatch(batches[i])
		if e, ok := errs[i].(*Error); ok {
			requestIDs[i] = e.RequestID
		}
	})
	if err := callWide(errs); err != nil {
		return nil, nil, err
	}
	var out []R
	var ids []string
	for i := range batches {
		out = append(out, results[i]...)
		if requestIDs[i] != "" {
			ids = append(ids, requestIDs[i])
		}
	}
	return out, ids, nil
}

// detachedEarlier reads a retried DetachKeyPair's answer. The request is
// sent again only after an attempt failed without an answer, and that attempt
// may have detached the key pair: the retry then finds it no longer bound and
// answers KeyPairNotAttached for those instances. The caller asked for the
// key pair to be gone and it is, so they count as detached. (An attach needs
// no such reading: attaching the key pair an instance carries succeeds.)
func detachedEarlier(results []InstanceResult) {
	for i, r := range results {
		if !r.Success && r.Code == codeKeyPairNotAttached {
			results[i] = InstanceResult{InstanceID: r.InstanceID, Success: true, Code: "200",
				Message: "detached; the answer to the first request was lost and the retry found the key pair already detached"}
		}
	}
}

// codeKeyPairNotAttached is DetachKeyPair's per-instance code for an instance
// that does not carry the key pair.
const codeKeyPairNotAttached = "InvalidParameter.KeyPairNotAttached"

// bindResults maps one batch's answer to per-instance results in the order
// of ids.
func bindResults(ids []string, api []ecs.Result, err error) []InstanceResult {
	items := batchItems(ids, api, func(r ecs.Result) string { return r.InstanceId }, err)
	out := make([]InstanceResult, len(items))
	for i, it := range items {
		if !it.answered {
			out[i] = InstanceResult{InstanceID: it.id, Code: it.code, Message: it.message, MaybeApplied: it.maybeApplied}
			continue
		}
		ok, _ := strconv.ParseBool(it.answer.Success)
		out[i] = InstanceResult{InstanceID: it.id, Success: ok, Code: it.answer.Code, Message: it.answer.Message}
	}
	return out
}

// batchItem is one instance of a batch, with its entry in the batch's
// answer when it has one, else why not.
type batchItem[A any] struct {
	id       string
	answer   A
	answered bool
	// Without an entry: the failure, and whether the request may have
	// changed the instance all the same.
	code, message string
	maybeApplied  bool
}

// batchItems pairs each instance of ids, in order, with its entry in a
// batch's answer (idOf names an entry's instance). An instance has none
// when the batch failed as a whole (err): it carries the batch's failure.
// Nor when the batch succeeded but its answer leaves the instance out: the
// API applied the request, and what it did to that instance is unknown, so
// it may have been changed.
func batchItems[A any](ids []string, answers []A, idOf func(A) string, err error) []batchItem[A] {
	out := make([]batchItem[A], len(ids))
	if err != nil {
		code, msg := errorCode(err), err.Error()
		if e, ok := err.(*Error); ok {
			msg = e.Message
		}
		for i, id := range ids {
			out[i] = batchItem[A]{id: id, code: code, message: msg, maybeApplied: MaybeApplied(err)}
		}
		return out
	}
	byID := make(map[string]A, len(answers))
	for _, a := range answers {
		byID[idOf(a)] = a
	}
	for i, id := range ids {
		if a, ok := byID[id]; ok {
			out[i] = batchItem[A]{id: id, answer: a, answered: true}
		} else {
			out[i] = batchItem[A]{id: id, code: CodeInvalidResponse,
				message: "the API returned no result for this instance", maybeApplied: true}
		}
	}
	return out
}
