package tools

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"unicode/utf8"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
)

// The result budget. A tool result must fit in a model's context: Claude
// Code, for one, refuses results over 25,000 tokens by default
// (MAX_MCP_OUTPUT_TOKENS). A listing's text and its structured content each
// stay within resultBudget by the estimate below, which never counts fewer
// tokens than the Claude tokenizer for the JSON these tools write (the e2e
// suite checks it against the real tokenizer); what does not fit is left
// for the next call, with truncated and a nextToken.

// resultBudget is the most tokens a result's text, or its structured
// content, may take by estimate: 25,000 less room for the words around the
// listing.
const resultBudget = 24_000

// estimateTokens estimates, from above, how many tokens the Claude
// tokenizer makes of s. It reads s once, by runs of one kind of character:
// letters (about 4 to a token), digits (3), letters and digits mixed, as in
// IDs, fingerprints and base64 (1.5), JSON's own punctuation (3; `":"` is
// one token), other punctuation (1 each), and any other character (2, or 4
// for one outside the Basic Multilingual Plane, such as an emoji).
func estimateTokens(s string) int {
	n := 0
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case isLetter(c) || isDigit(c):
			j := i
			for j < len(s) && (isLetter(s[j]) || isDigit(s[j])) {
				j++
			}
			n += alnumTokens(s[i:j])
			i = j
		case c < utf8.RuneSelf:
			structural, other := 0, 0
			for i < len(s) && s[i] < utf8.RuneSelf && !isLetter(s[i]) && !isDigit(s[i]) {
				switch s[i] {
				case '"', ':', ',', '{', '}', '[', ']':
					structural++
				default:
					other++
				}
				i++
			}
			n += (structural+2)/3 + other
		default:
			_, w := utf8.DecodeRuneInString(s[i:])
			n += 2
			if w == 4 {
				n += 2
			}
			i += w
		}
	}
	return n
}

// alnumTokens estimates a run of ASCII letters and digits.
func alnumTokens(run string) int {
	letters, digits := 0, 0
	for i := 0; i < len(run); i++ {
		if isDigit(run[i]) {
			digits++
		} else {
			letters++
		}
	}
	switch {
	case digits == 0:
		return (letters + 3) / 4
	case letters == 0:
		return (digits + 2) / 3
	}
	// Mixed: each stretch of one kind on its own, at 1.5 characters a
	// token for letters (base64 and hex split badly) and 3 for digits.
	n := 0
	for i := 0; i < len(run); {
		j := i
		for j < len(run) && isDigit(run[j]) == isDigit(run[i]) {
			j++
		}
		if isDigit(run[i]) {
			n += (j - i + 2) / 3
		} else {
			n += (2*(j-i) + 2) / 3
		}
		i = j
	}
	return n
}

func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }

// jsonTokens estimates the tokens of v as a result's text carries it.
func jsonTokens(v any) int {
	b, err := json.Marshal(v)
	if err != nil {
		return resultBudget // cannot happen for the outputs; never fits
	}
	return estimateTokens(jsonText(b))
}

// fit returns how many of items, in order, fit one result whose other
// content (the output with no items, and the words before it) takes
// overhead tokens. At least one item is always given, so that a listing
// goes on however large an item is.
func fit[T any](items []T, overhead int) int {
	used := overhead
	for i, it := range items {
		used += jsonTokens(it) + 1 // the comma
		if used > resultBudget && i > 0 {
			return i
		}
	}
	return len(items)
}

// Cursors.
//
// A truncated listing's nextToken says where the next call starts: after
// the item with the given key, in the listing's order (region by region,
// and by name or ID within one). It is bound to the arguments of the call
// that made it, so that it cannot be used to continue another listing.

type cursor struct {
	Query  string `json:"q"`
	Region string `json:"r,omitempty"`
	After  string `json:"a"`
}

const codeInvalidNextToken = "InvalidParameter.NextToken"

// queryKey identifies a listing by its arguments, nextToken aside.
func queryKey(tool string, args any) string {
	b, _ := json.Marshal(args) // the inputs always encode
	sum := sha256.Sum256(append([]byte(tool+"\x00"), b...))
	return hex.EncodeToString(sum[:8])
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// readCursor decodes a nextToken given for the listing query; nil when
// there is none, for a listing from its start.
func readCursor(token, query string) (*cursor, error) {
	if token == "" {
		return nil, nil
	}
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || json.Unmarshal(b, &c) != nil || c.After == "" {
		return nil, &schema.Error{Code: codeInvalidNextToken, Message: "nextToken is not one this server handed out: " +
			"pass the nextToken of a truncated result unchanged, or omit it to start from the beginning"}
	}
	if c.Query != query {
		return nil, &schema.Error{Code: codeInvalidNextToken, Message: "nextToken belongs to a listing with other arguments: " +
			"continue with the same arguments as the call that returned it, or omit nextToken to start this listing from the beginning"}
	}
	return &c, nil
}
