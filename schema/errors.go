package schema

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// Error is a local check's verdict, in the cloud's vocabulary: Code is the
// error code ECS uses for the same fault where there is one (e.g.
// InvalidKeyPairName.Malformed), and InvalidParameter or MissingParameter
// otherwise; Message names the argument, quotes the value (clipped) and says
// how to fix it. A tool result shows it as Error().
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// ErrorCode returns Code.
func (e *Error) ErrorCode() string { return e.Code }

// Codes used by the local checks. Those with a dot are the cloud's own.
const (
	codeInvalidParameter = "InvalidParameter"
	codeMissingParameter = "MissingParameter"
	codeKeyPairName      = "InvalidKeyPairName.Malformed"
	codeInstanceIDs      = "InvalidInstanceIds.ValueNotSupported"
	codeStatus           = "InvalidStatus.NotFound"
	codePublicKeyBody    = "InvalidPublicKeyBody.Malformed"
	codeTagKey           = "InvalidTagKey.Malformed"
	codeTagValue         = "InvalidTagValue.Malformed"
	codeDuplicateTagKey  = "Duplicate.TagKey"
	codeTagQuota         = "QuotaExceed.Tags"
)

// A quoted value keeps at most maxQuoted runes; a longer one keeps
// clipTo runes and gets "...".
const (
	maxQuoted = 60
	clipTo    = 57
)

func errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// quote renders a value for a message: Go-quoted (so control characters
// and invalid UTF-8 are escaped and the message stays one valid line) and
// clipped to about 60 characters, with "..." after the closing quote when
// clipped, so that what is inside the quotes is always a true prefix.
func quote(s string) string {
	if utf8.RuneCountInString(s) <= maxQuoted {
		return strconv.Quote(s)
	}
	n := 0
	for i := range s {
		if n == clipTo {
			return strconv.Quote(s[:i]) + "..."
		}
		n++
	}
	return strconv.Quote(s)
}
