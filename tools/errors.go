package tools

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
)

// coded is an error with an error code: the cloud's errors (*cloud.Error)
// and the local checks' (*schema.Error) alike. Its Error() starts with the
// code and ": ".
type coded interface {
	error
	ErrorCode() string
}

// Codes the tools produce themselves, where neither the cloud nor the local
// checks have one.
const (
	codeForbiddenRegion   = "Forbidden.Region"
	codeForbiddenReadOnly = "Forbidden.ReadOnly"
	codeAuditUnavailable  = "AuditLogUnavailable"
	codeInternal          = "InternalError"
)

// nextSteps says what the model can do after an error, in the words of
// this layer: only the tools know the other tools' names.
var nextSteps = map[string]string{
	"InvalidRegionId.NotFound":         "describe_regions lists the region IDs.",
	"InvalidRegionId.Malformed":        "describe_regions lists the region IDs.",
	"InvalidKeyPairName.NotFound":      "describe_key_pairs lists the key pairs of a region.",
	"InvalidInstanceId.NotFound":       "describe_instances lists the instances of a region.",
	cloud.CodeCreatedWithoutPrivateKey: "Unless someone else created it just now, delete it with delete_key_pairs and create it anew.",
	cloud.CodeOutcomeUnknown: "Check with describe_key_pairs whether the key pair exists; a created key pair whose " +
		"private key was not saved must be deleted with delete_key_pairs and created anew.",
	"KeyPair.AlreadyExist": "Choose another name, or see it with describe_key_pairs.",
	"QuotaExceed.KeyPair":  "A region holds at most " + strconv.Itoa(schema.KeyPairQuota) + " key pairs: delete unused ones (describe_key_pairs with inUse: false finds them).",
}

// errorCode returns the code an error carries, for per-item outcomes and
// the audit log.
func errorCode(err error) string {
	var c coded
	switch {
	case errors.As(err, &c):
		return c.ErrorCode()
	case errors.Is(err, context.DeadlineExceeded):
		return cloud.CodeRequestTimeout
	case errors.Is(err, context.Canceled):
		return cloud.CodeRequestCanceled
	}
	return codeInternal
}

// errorText renders an error as "Code: message", with the next step when
// there is one. The cloud's codes pass through unchanged, with the request
// ID; the message is escaped, since the cloud's messages echo what they
// were sent.
func errorText(err error) string {
	var c coded
	var text string
	switch {
	case errors.As(err, &c):
		text = escapeText(c.Error())
	case errors.Is(err, context.DeadlineExceeded):
		text = cloud.CodeRequestTimeout + ": the call did not finish in time"
	case errors.Is(err, context.Canceled):
		text = cloud.CodeRequestCanceled + ": the call was cancelled before it finished"
	default:
		text = codeInternal + ": " + escapeText(err.Error())
	}
	if next := nextSteps[errorCode(err)]; next != "" {
		text += " " + next
	}
	return text
}

// errorResult is an error as the model sees it: a tool result with isError
// set, never a protocol error, so that the model reads it and can correct
// itself.
func errorResult(err error) *mcp.CallToolResult {
	return mcp.NewToolResultError(errorText(err))
}

// failure is an error of this layer, with a code.
func failure(code, format string, args ...any) error {
	return &schema.Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// mayHaveApplied ends the message of an item whose request failed in a way
// that does not prove it was refused.
const mayHaveApplied = "; the request may or may not have been applied: read the state again to see"
