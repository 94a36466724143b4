package cloud

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
	"golang.org/x/crypto/ssh"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
)

// Codes of the outcomes of a create or import whose answer was lost.
const (
	// CodeCreatedWithoutPrivateKey: CreateKeyPair was applied, but the
	// answer, the only copy of the private key, never arrived.
	CodeCreatedWithoutPrivateKey = "KeyPairCreatedWithoutPrivateKey"
	// CodeOutcomeUnknown: a create or import failed without a refusal, and
	// looking whether it was applied failed too.
	CodeOutcomeUnknown = "OutcomeUnknown"
)

// sendWrite runs attempt, a CreateKeyPair or ImportKeyPair of the key pair
// name, which must never be applied twice and has no idempotency token.
// After a failure that leaves open whether it was applied, it looks the
// name up instead of resending blindly: found decides what a key pair under
// that name means (cause is the failure); when there is none, the request
// was not applied and is sent again while the retry policy and ctx allow.
func sendWrite[R any](ctx context.Context, c *Client, action, region, name string,
	attempt func() (R, error), found func(kp ecs.KeyPair, requestID string, cause *Error) (R, error)) (R, error) {
	var zero R
	start := time.Now()
	checkedAbsent := false
	for n := 1; ; n++ {
		resp, err := attempt()
		if err == nil {
			return resp, nil
		}
		var e *Error
		if !errors.As(err, &e) {
			return zero, err
		}
		// Absent when looked up after a lost answer, present now: that
		// request landed after the look.
		lateLanding := checkedAbsent && e.Code == "KeyPair.AlreadyExist"
		if !e.maybeApplied && !lateLanding {
			return zero, err
		}
		kp, requestID, lookErr := c.lookUpKeyPair(ctx, region, name)
		if lookErr != nil {
			return zero, &Error{Code: CodeOutcomeUnknown, Action: action, cause: e.cause, maybeApplied: true, Message: fmt.Sprintf(
				"%s of key pair %q in %s may or may not have been applied: it failed without a refusal from the API (%s), "+
					"and looking whether key pair %q exists failed too (%s)",
				action, name, region, e.Code, name, errorCode(lookErr))}
		}
		if kp != nil {
			return found(*kp, requestID, e)
		}
		checkedAbsent = true
		d, ok := c.retryWait(ctx, n, start)
		if ctx.Err() != nil || !ok || !wait(ctx, d) {
			return zero, notApplied(ctx, e, name)
		}
		c.log.Debug("ecs request retry", "action", action, "region", region, "attempt", n+1, "code", e.Code,
			"reason", "not applied, checked")
	}
}

// notApplied is e, known now not to have been applied; the end of ctx, when
// it ended and e is not already that.
func notApplied(ctx context.Context, e *Error, name string) *Error {
	out := *e
	if err := ctx.Err(); err != nil && e.cause == nil {
		out = *canceledError(e.Action, err)
	}
	out.maybeApplied = false
	out.Message = fmt.Sprintf("%s. Checked afterwards: key pair %q does not exist, so nothing was changed; it is safe to try again.",
		strings.TrimRight(out.Message, ". "), name)
	return &out
}

// lookUpKeyPair finds the key pair named name in region, or returns nil. It
// runs after a write failed without a refusal, maybe because ctx ended, and
// what became of the write must be known all the same: so it has a context
// of its own, bounded by RetryPolicy.VerifyTimeout and by lookUpGrace past
// ctx's deadline. It waits RetryPolicy.Settle first (at most a third of
// its time), so that a request still on its way lands before the look.
func (c *Client) lookUpKeyPair(ctx context.Context, region, name string) (*ecs.KeyPair, string, error) {
	const action = "DescribeKeyPairs"
	deadline := time.Now().Add(c.retry.VerifyTimeout)
	if dl, ok := ctx.Deadline(); ok && dl.Add(lookUpGrace).Before(deadline) {
		deadline = dl.Add(lookUpGrace)
	}
	ctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), deadline)
	defer cancel()
	wait(ctx, min(c.retry.Settle, time.Until(deadline)/3))
	req := ecs.CreateDescribeKeyPairsRequest()
	req.RegionId = region
	req.KeyPairName = name // names never hold the wildcard '*': an exact match
	req.PageSize = requests.NewInteger(schema.DescribeKeyPairsPageSize)
	resp, err := send(ctx, c, idempotent, action, region, req, func(cl *ecs.Client) (*ecs.DescribeKeyPairsResponse, string, error) {
		r, err := cl.DescribeKeyPairs(req)
		if err != nil {
			return nil, "", err
		}
		return r, r.RequestId, nil
	})
	if err != nil {
		return nil, "", err
	}
	for _, kp := range resp.KeyPairs.KeyPair {
		if kp.KeyPairName == name {
			return &kp, resp.RequestId, nil
		}
	}
	return nil, resp.RequestId, nil
}

// createdBefore reports whether an API creation time ("2006-01-02T15:04Z",
// minutes only) is clearly before t, allowing for clock skew: a key pair
// that old was not made by a request sent at t.
func createdBefore(creationTime string, t time.Time) bool {
	for _, layout := range []string{"2006-01-02T15:04Z", time.RFC3339} {
		if ct, err := time.Parse(layout, creationTime); err == nil {
			return ct.Before(t.Add(-2 * time.Minute))
		}
	}
	return false
}

// Fingerprint is the API's fingerprint of an OpenSSH public key line: MD5
// over the key blob, as `ssh-keygen -l -E md5` prints it.
func Fingerprint(publicKeyBody string) (string, error) {
	pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(publicKeyBody))
	if err != nil {
		return "", errors.New("it is not an OpenSSH public key line")
	}
	return ssh.FingerprintLegacyMD5(pub), nil
}

func errorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeClientError
}
