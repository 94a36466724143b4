package schema

import (
	"fmt"
	"regexp"
	"strings"
)

// The ECS limits and rules the tools rely on, each written once. The struct
// tags in types.go repeat some of them as literals (a tag cannot name a
// constant); TestSchemasFollowLimits fails when a tag or a generated schema
// disagrees with the value here, and TestValidateFollowsLimits when a Go
// check does. The cloud package takes its page and batch sizes and its
// pre-send checks from here too.
//
// The emulator (cloud/emulator) keeps its own copy of the rules on purpose:
// it stands in for the cloud, so that each side checks the other.

// Region IDs.
const (
	// RegionIDPattern is the shape of a region ID: words of lower-case
	// letters and digits joined by '-', the first starting with a letter
	// (cn-hangzhou, ap-southeast-1, cn-qingdao-et2-bo1). Without an endpoint
	// override the region becomes part of the API's host name
	// (ecs.<region>.aliyuncs.com), so nothing else may pass: no '.', '/',
	// '#', '@' or upper case that could point a signed request elsewhere.
	RegionIDPattern = `^[a-z][a-z0-9]*(-[a-z0-9]+)+$`
	// RegionIDMaxLength bounds a region ID, in bytes (all ASCII).
	RegionIDMaxLength = 64
	// CodeInvalidRegionID is the error code of a malformed region ID, the
	// one ECS documents for it ("The specified parameter RegionId is not
	// valid."), wherever the fault is caught: argument validation, the
	// cloud client before sending, and --regions.
	CodeInvalidRegionID = "InvalidRegionId.Malformed"
)

// RegionIDRule says RegionIDPattern and RegionIDMaxLength in words, for
// messages.
var RegionIDRule = fmt.Sprintf("lower-case letters and digits in words joined by '-', starting with a letter, "+
	"at most %d characters, e.g. cn-hangzhou", RegionIDMaxLength)

var regionIDRe = regexp.MustCompile(RegionIDPattern)

// ValidRegionID reports whether id has the shape of a region ID. Whether
// the region exists is the cloud's answer (InvalidRegionId.NotFound).
func ValidRegionID(id string) bool {
	return len(id) <= RegionIDMaxLength && regionIDRe.MatchString(id)
}

// CheckRegionID checks a required regionId argument: MissingParameter when
// it is empty, CodeInvalidRegionID when it is malformed.
func CheckRegionID(id string) *Error {
	if id == "" {
		return errorf(codeMissingParameter, "regionId is required: give a region ID such as cn-hangzhou (describe_regions lists them)")
	}
	if !ValidRegionID(id) {
		return errorf(CodeInvalidRegionID, "regionId %s is not a region ID: region IDs are %s (describe_regions lists them)", quote(id), RegionIDRule)
	}
	return nil
}

// Key pair names: 2 to 128 characters, starting with a letter (Unicode
// letters included), then letters, digits, ':', '_', '-', and '.' for
// ImportKeyPair only; never starting with http:// or https://.
const (
	KeyPairNameMinLength = 2   // characters
	KeyPairNameMaxLength = 128 // characters
	// CreateKeyPairNamePattern and ImportKeyPairNamePattern are the name
	// rules as far as a portable pattern can say them: ECMAScript and
	// Python read \p{L} differently or not at all, so "a letter" is ASCII
	// or any character from U+00C0 on. The Go check is exact.
	CreateKeyPairNamePattern = "^[A-Za-z\u00c0-\uffff][A-Za-z0-9\u00c0-\uffff:_-]*$"
	ImportKeyPairNamePattern = "^[A-Za-z\u00c0-\uffff][A-Za-z0-9\u00c0-\uffff:_.-]*$"
	// KeyPairFingerPrintMaxLength bounds the fingerprint filter, well above
	// the 59 characters of the longest form (20 hex pairs).
	KeyPairFingerPrintMaxLength = 128
)

// keyPairNameBadPrefixes may not start a key pair name.
var keyPairNameBadPrefixes = []string{"http://", "https://"}

// Instance IDs are "i-" and up to maxInstanceIDChars lower-case letters and
// digits.
const maxInstanceIDChars = 64 // after "i-"

// Page sizes and batch sizes of one API request. The tools accept longer
// lists and the cloud client splits them into batches of these sizes.
const (
	DescribeKeyPairsPageSize  = 50  // DescribeKeyPairs PageSize maximum
	DescribeInstancesPageSize = 100 // DescribeInstances PageSize maximum
	DescribeInstancesIDsBatch = 100 // DescribeInstances InstanceIds maximum
	DeleteKeyPairsBatch       = 100 // DeleteKeyPairs KeyPairNames maximum
	BindKeyPairBatch          = 50  // AttachKeyPair and DetachKeyPair InstanceIds maximum
	RebootInstancesBatch      = 100 // RebootInstances InstanceId.N maximum
)

// AllRegions, as the one entry of regionIds, means every region
// describe_regions lists (within the server's --regions).
const AllRegions = "*"

// MaxRegionIDs bounds regionIds: far above the number of ECS regions.
const MaxRegionIDs = 100

// NextTokenMaxLength bounds a nextToken argument, far above the tokens the
// describe tools hand out.
const NextTokenMaxLength = 1024

// MaxListItems is the tools' own limit on a list argument (keyPairNames,
// and instanceIds of attach_key_pair, detach_key_pair, reboot_instances and
// rotate_key_pair): one call of a tool, several API batches.
const MaxListItems = 500

// Tags: 1 to 20 per key pair (or per filter), keys of 1 to 128 characters,
// values of up to 128.
const (
	MinTags           = 1
	MaxTags           = 20
	TagKeyMaxLength   = 128 // characters
	TagValueMaxLength = 128 // characters
)

var (
	// tagKeyReservedPrefixes and tagValueReservedPrefixes are the system's.
	tagKeyReservedPrefixes   = []string{"aliyun", "acs:"}
	tagValueReservedPrefixes = []string{"acs:"}
	// tagForbidden may appear nowhere in a tag key or value.
	tagForbidden = []string{"http://", "https://"}
)

// Quotas and sizes.
const (
	// KeyPairQuota is the number of key pairs a region holds.
	KeyPairQuota = 500
	// PublicKeyBodyMaxBytes bounds an imported public key line, far above
	// the ~750 bytes of an RSA 4096 key.
	PublicKeyBodyMaxBytes = 16384
	// ResourceGroupIDMaxLength bounds a resource group ID, in bytes.
	ResourceGroupIDMaxLength = 64
)

// LooksLikePrivateKey reports whether s holds a private key in any of the
// forms people paste by mistake: PEM or OpenSSH ("... PRIVATE KEY ..."),
// or PuTTY's .ppk. Such a body must never be sent anywhere, and never be
// quoted back.
func LooksLikePrivateKey(s string) bool { return privateKeyMarked(strings.ToUpper(s)) }

// privateKeyMarked is LooksLikePrivateKey for text already in upper case.
func privateKeyMarked(upper string) bool {
	return strings.Contains(upper, "PRIVATE KEY") || strings.Contains(upper, "PUTTY-USER-KEY-FILE") ||
		strings.Contains(upper, "PRIVATE-LINES:")
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func containsAny(s string, parts []string) bool {
	for _, p := range parts {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

// orList renders words as 'a', 'b' or 'c'.
func orList(words []string) string {
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = "'" + w + "'"
	}
	if len(quoted) < 2 {
		return strings.Join(quoted, "")
	}
	return strings.Join(quoted[:len(quoted)-1], ", ") + " or " + quoted[len(quoted)-1]
}
