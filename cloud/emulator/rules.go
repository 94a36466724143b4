package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// These rules are written from the API documentation, independently of the
// tools' own validation in schema/, so that each checks the other.

const (
	minNameLen = 2
	maxNameLen = 128
	maxTags    = 20
	maxTagLen  = 128

	maxDeleteNames     = 100 // DeleteKeyPairs KeyPairNames
	maxAttachInstances = 50  // AttachKeyPair / DetachKeyPair InstanceIds
	maxDescribeIDs     = 100 // DescribeInstances InstanceIds

	maxKeyPairPageSize  = 50
	maxInstancePageSize = 100
	defaultPageSize     = 10
)

// checkKeyPairName applies the documented name rule: 2 to 128 characters,
// starting with a letter (Unicode letters included), then letters, digits,
// ':', '_', '-', and '.' where allowDot (ImportKeyPair only); never starting
// with http:// or https://.
func checkKeyPairName(name string, allowDot bool) *apiError {
	allowed := "letters, digits, ':', '_', '-'"
	if allowDot {
		allowed += ", '.'"
	}
	rule := fmt.Sprintf("KeyPairName %q must be %d to %d characters, start with a letter, and contain only %s",
		name, minNameLen, maxNameLen, allowed)
	if !utf8.ValidString(name) {
		return errKeyPairNameMalformed("KeyPairName is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(name); n < minNameLen || n > maxNameLen {
		return errKeyPairNameMalformed(rule)
	}
	if strings.HasPrefix(name, "http://") || strings.HasPrefix(name, "https://") {
		return errKeyPairNameMalformed(fmt.Sprintf("KeyPairName %q must not start with http:// or https://", name))
	}
	for i, r := range name {
		ok := unicode.IsLetter(r) ||
			(i > 0 && (unicode.IsDigit(r) || r == ':' || r == '_' || r == '-' || (allowDot && r == '.')))
		if !ok {
			return errKeyPairNameMalformed(rule)
		}
	}
	return nil
}

// parseTags reads Tag.N.Key / Tag.N.Value for N = 1..20. A Tag.N.Value
// without its key is an error; a key without a value has the value "" (the
// Go SDK leaves empty values out of the request). forFilter relaxes the
// content rules: a describe filter may name any key, but still needs one.
func parseTags(p params, forFilter bool) ([]Tag, *apiError) {
	for _, name := range p.names() {
		n, ok := tagIndex(name)
		switch {
		case !ok:
		case n < 1:
			return nil, errInvalidParameter(name, fmt.Sprintf("the tag index must be a number from 1 to %d", maxTags))
		case n > maxTags:
			return nil, errTagQuota(maxTags)
		}
	}
	var tags []Tag
	seen := map[string]bool{}
	for n := 1; n <= maxTags; n++ {
		key, hasKey := p.lookup(fmt.Sprintf("Tag.%d.Key", n))
		value, hasValue := p.lookup(fmt.Sprintf("Tag.%d.Value", n))
		if !hasKey && !hasValue {
			continue
		}
		if key == "" {
			return nil, errTagKeyMalformed(n, "must not be empty")
		}
		if !forFilter {
			if err := checkTag(n, key, value); err != nil {
				return nil, err
			}
		}
		if seen[key] {
			return nil, errDuplicateTagKey(key)
		}
		seen[key] = true
		tags = append(tags, Tag{Key: key, Value: value})
	}
	return tags, nil
}

// tagIndex recognises "Tag.N.Key" and "Tag.N.Value" and returns N, or -1
// when N is not a number.
func tagIndex(name string) (int, bool) {
	rest, found := strings.CutPrefix(name, "Tag.")
	if !found {
		return 0, false
	}
	num, field, found := strings.Cut(rest, ".")
	if !found || (field != "Key" && field != "Value") {
		return 0, false
	}
	n, err := strconv.Atoi(num)
	if err != nil {
		return -1, true
	}
	return n, true
}

func checkTag(n int, key, value string) *apiError {
	switch {
	case utf8.RuneCountInString(key) > maxTagLen:
		return errTagKeyMalformed(n, fmt.Sprintf("must be at most %d characters", maxTagLen))
	case strings.HasPrefix(key, "aliyun") || strings.HasPrefix(key, "acs:"):
		return errTagKeyMalformed(n, "must not start with \"aliyun\" or \"acs:\"")
	case strings.Contains(key, "http://") || strings.Contains(key, "https://"):
		return errTagKeyMalformed(n, "must not contain http:// or https://")
	case utf8.RuneCountInString(value) > maxTagLen:
		return errTagValueMalformed(n, fmt.Sprintf("must be at most %d characters", maxTagLen))
	case strings.HasPrefix(value, "acs:"):
		return errTagValueMalformed(n, "must not start with \"acs:\"")
	case strings.Contains(value, "http://") || strings.Contains(value, "https://"):
		return errTagValueMalformed(n, "must not contain http:// or https://")
	}
	return nil
}

// parseJSONList reads a list parameter sent, as the API requires, as a JSON
// array of strings, e.g. ["a","b"]. It returns why the text is refused, or
// the items with duplicates removed (first occurrence kept).
func parseJSONList(text string) ([]string, string) {
	dec := json.NewDecoder(bytes.NewReader([]byte(text)))
	var raw []json.RawMessage
	if err := dec.Decode(&raw); err != nil || raw == nil {
		return nil, "must be a JSON array of strings, e.g. [\"a\",\"b\"]"
	}
	if dec.More() {
		return nil, "must be a single JSON array"
	}
	if _, err := dec.Token(); err == nil {
		return nil, "must be a single JSON array"
	}
	if len(raw) == 0 {
		return nil, "must not be an empty array"
	}
	items := make([]string, 0, len(raw))
	seen := map[string]bool{}
	for i, r := range raw {
		var s string
		if err := json.Unmarshal(r, &s); err != nil {
			return nil, fmt.Sprintf("item %d is not a string", i+1)
		}
		if strings.TrimSpace(s) == "" {
			return nil, fmt.Sprintf("item %d is empty", i+1)
		}
		if !seen[s] {
			seen[s] = true
			items = append(items, s)
		}
	}
	return items, ""
}

// matchWildcard reports whether name matches pattern, where '*' stands for
// any run of characters (possibly none) and every other character stands for
// itself, case-sensitively.
func matchWildcard(pattern, name string) bool {
	// Iterative glob matching with one backtrack point: linear in practice
	// and never exponential, whatever the pattern.
	p, n := 0, 0
	star, mark := -1, 0
	for n < len(name) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, n
			p++
		case p < len(pattern) && pattern[p] == name[n]:
			p++
			n++
		case star >= 0:
			p = star + 1
			mark++
			n = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
