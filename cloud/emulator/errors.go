package emulator

import (
	"fmt"
	"net/http"
	"strings"
)

// apiError is an error the emulated API returns: an HTTP status and the
// Code and Message of the JSON error body.
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func newError(status int, code, format string, args ...any) *apiError {
	return &apiError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// The errors below carry the documented status, code and message (see
// docs/emulator.md for each one's source). Where the documented message is
// generic, the parameter at fault is named after it so that a person reading
// a test failure or a tool result knows what to fix.

func errMissingParameter(name string) *apiError {
	return newError(http.StatusBadRequest, "MissingParameter",
		"The input parameter %q that is mandatory for processing this request is not supplied.", name)
}

func errInvalidParameter(name, why string) *apiError {
	return newError(http.StatusBadRequest, "InvalidParameter",
		"The specified parameter %q is not valid: %s.", name, why)
}

func errRegionNotFound(region string) *apiError {
	return newError(http.StatusNotFound, "InvalidRegionId.NotFound",
		"The RegionId provided does not exist in our records. (RegionId %q)", region)
}

func errKeyPairNameMalformed(why string) *apiError {
	return newError(http.StatusBadRequest, "InvalidKeyPairName.Malformed",
		"Specified Key Pair name is not valid. (%s)", why)
}

func errKeyPairExists(name string) *apiError {
	return newError(http.StatusBadRequest, "KeyPair.AlreadyExist",
		"The key pair already exist. (KeyPairName %q)", name)
}

func errKeyPairQuota(limit int) *apiError {
	return newError(http.StatusForbidden, "QuotaExceed.KeyPair",
		"The key pair quota exceeds. (at most %d key pairs per region)", limit)
}

func errKeyPairNotFound(name string) *apiError {
	return newError(http.StatusBadRequest, "InvalidKeyPairName.NotFound",
		"The specified KeyPairName does not exist in our records. (KeyPairName %q)", name)
}

func errResourceGroupNotFound(id string) *apiError {
	return newError(http.StatusNotFound, "InvalidResourceGroup.NotFound",
		"The ResourceGroup provided does not exist in our records. (ResourceGroupId %q)", id)
}

func errPublicKeyMalformed(why string) *apiError {
	return newError(http.StatusBadRequest, "InvalidPublicKeyBody.Malformed",
		"The PublicKeyBody format is not supported. (%s)", why)
}

func errDuplicateTagKey(key string) *apiError {
	return newError(http.StatusBadRequest, "Duplicate.TagKey",
		"The Tag.N.Key contain duplicate key. (%q)", key)
}

func errTagKeyMalformed(n int, why string) *apiError {
	return newError(http.StatusBadRequest, "InvalidTagKey.Malformed",
		"The specified Tag.n.Key is not valid. (Tag.%d.Key %s)", n, why)
}

func errTagValueMalformed(n int, why string) *apiError {
	return newError(http.StatusBadRequest, "InvalidTagValue.Malformed",
		"The specified Tag.n.Value is not valid. (Tag.%d.Value %s)", n, why)
}

func errTagQuota(limit int) *apiError {
	return newError(http.StatusForbidden, "QuotaExceed.Tags",
		"The number of tags exceeds the limit of %d.", limit)
}

func errKeyPairNamesNotSupported(why string) *apiError {
	return newError(http.StatusBadRequest, "InvalidKeyPairNames.ValueNotSupported",
		"The specified parameter \"KeyPairNames\" is not valid. (%s)", why)
}

func errInstanceIdsNotSupported(why string) *apiError {
	return newError(http.StatusBadRequest, "InvalidInstanceIds.ValueNotSupported",
		"The specified parameter InstanceIds is not valid. (%s)", why)
}

func errDeleteLimit(limit int) *apiError {
	return newError(http.StatusForbidden, "InstanceKeyPairLimitExceeded",
		"Exceeding the allowed amount of instance which will be deleted. (at most %d key pair names)", limit)
}

func errInstanceLimit(limit int) *apiError {
	return newError(http.StatusForbidden, "InstanceKeyPairLimitExceeded",
		"The specified instances are beyond the permitted range. (at most %d instance IDs)", limit)
}

func errKeyPairAttached(names []string) *apiError {
	return newError(http.StatusBadRequest, "InvalidParameter.KeypairAlreadyAttachedInstance",
		"The specified parameter \"KeyPairNames\" attached to instances can not be deleted. (bound: %q)", names)
}

const windowsMessage = "The instance creating is windows, cannot use ssh key pair to login."

func errWindowsInstance() *apiError {
	return newError(http.StatusForbidden, "DependencyViolation.WindowsInstance", windowsMessage)
}

func errStatusNotFound(status string) *apiError {
	return newError(http.StatusNotFound, "InvalidStatus.NotFound",
		"The specified Status is not found. (%q; use Pending, Running, Starting, Stopping or Stopped)", status)
}

// errInstanceNotFound, errIncorrectInstanceStatus and errDryRun carry the
// codes, statuses and messages of the RebootInstance page.

func errInstanceNotFound(ids []string, region string) *apiError {
	where := ""
	if region != "" {
		where = " in region " + region
	}
	return newError(http.StatusNotFound, "InvalidInstanceId.NotFound",
		"The specified InstanceId does not exist. (%s%s)", strings.Join(quoteEach(ids), ", "), where)
}

func errIncorrectInstanceStatus(id, status string) *apiError {
	return newError(http.StatusForbidden, "IncorrectInstanceStatus",
		"The current status of the resource does not support this operation. (instance %s is %s; it must be Running)", id, status)
}

func errDryRun() *apiError {
	return newError(http.StatusBadRequest, "DryRunOperation", "Request validation has been passed with DryRun flag set.")
}

// Gateway errors: checked before any action runs.

func errAccessKeyNotFound() *apiError {
	return newError(http.StatusNotFound, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
}

func errSignatureMismatch(stringToSign string) *apiError {
	// The SDK compares the text after "server string to sign is:" with its
	// own, and tells a wrong secret apart from a wrong request by it.
	return newError(http.StatusBadRequest, "SignatureDoesNotMatch",
		"Specified signature is not matched with our calculation. server string to sign is:%s", stringToSign)
}

// errSignatureMismatchV3 answers a v3 request whose signature differs. The
// service quotes its string to sign and canonical request, so that a client
// can find where its own differ.
func errSignatureMismatchV3(stringToSign, canonicalRequest string) *apiError {
	return newError(http.StatusBadRequest, "SignatureDoesNotMatch",
		"Specified signature does not match our calculation. server StringToSign is [%s] server CanonicalRequest is [%s]",
		stringToSign, canonicalRequest)
}

func errContentSHA256Mismatch(got string) *apiError {
	return newError(http.StatusBadRequest, "SignatureDoesNotMatch",
		"Specified signature does not match our calculation. (x-acs-content-sha256 %s is not the lower-case hex SHA-256 of the request body)", quoteClip(got))
}

func errIncompleteSignature(why string) *apiError {
	return newError(http.StatusBadRequest, "IncompleteSignature",
		"The request signature does not conform to Aliyun standards. (%s)", why)
}

// errIllegalTimestamp and errTimestampExpired name the parameter (v1's
// Timestamp) or header (v3's x-acs-date) that carries the time stamp.

func errIllegalTimestamp(name, value string) *apiError {
	return newError(http.StatusBadRequest, "IllegalTimestamp",
		"The input parameter %q that is mandatory for processing this request is not supplied correctly. (%s; use UTC yyyy-MM-ddTHH:mm:ssZ)", name, quoteClip(value))
}

func errTimestampExpired(name, value string) *apiError {
	return newError(http.StatusBadRequest, "InvalidTimeStamp.Expired",
		"Specified time stamp or date value is expired. (%s %s is more than 15 minutes from the server time)", name, quoteClip(value))
}

func errNonceUsed() *apiError {
	return newError(http.StatusBadRequest, "SignatureNonceUsed", "Specified signature nonce was used already.")
}

func errActionNotFound(action string) *apiError {
	return newError(http.StatusNotFound, "InvalidAction.NotFound",
		"Specified api is not found, please check your url and method. (Action %q)", action)
}

func errInvalidVersion(v string) *apiError {
	return newError(http.StatusBadRequest, "InvalidVersion",
		"Specified parameter Version is not valid. (%q; ECS key pair actions use 2014-05-26)", v)
}

func errMissingSecurityToken() *apiError {
	return newError(http.StatusBadRequest, "MissingSecurityToken", "SecurityToken is mandatory for this action.")
}

func errInvalidSecurityToken() *apiError {
	return newError(http.StatusBadRequest, "InvalidSecurityToken.Mismatch", "Specified SecurityToken is not valid.")
}

// Injected faults.

func errThrottling() *apiError {
	return newError(http.StatusBadRequest, "Throttling",
		"Request was denied due to request throttling.")
}

func errServiceUnavailable() *apiError {
	return newError(http.StatusServiceUnavailable, "ServiceUnavailable",
		"The request has failed due to a temporary failure of the server.")
}

func errInternal() *apiError {
	return newError(http.StatusInternalServerError, "InternalError",
		"The request processing has failed due to some unknown error, exception or failure.")
}
