package tools

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Text from outside (key pair and instance names, tags, resource group IDs,
// cloud error messages) may be hostile: a name can hold a newline that
// starts a forged line, a bidi control that reverses what follows, or a
// look-alike letter. Wherever such text reaches a person or the model in
// words (summaries, approval messages, error messages), it goes through
// these functions.

// escapeText returns s with every character that could break a line, hide
// itself or reorder what a reader sees shown as \u{XXXX}: control
// characters (C0 and C1), format characters (Cf: bidi controls, zero-width
// characters), line and paragraph separators, and invalid UTF-8 (shown as
// \u{FFFD}).
func escapeText(s string) string {
	if !needsEscape(s) {
		return s
	}
	var b strings.Builder
	for i, w := 0, 0; i < len(s); i += w {
		r, n := utf8.DecodeRuneInString(s[i:])
		w = n
		if r == utf8.RuneError && n <= 1 {
			b.WriteString(`\u{FFFD}`)
			continue
		}
		if hidden(r) {
			fmt.Fprintf(&b, `\u{%04X}`, r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func needsEscape(s string) bool {
	if !utf8.ValidString(s) {
		return true
	}
	for _, r := range s {
		if hidden(r) {
			return true
		}
	}
	return false
}

// hidden reports a character a reader cannot see for what it is.
func hidden(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.In(r, unicode.Zl, unicode.Zp)
}

// asciiEscaped returns s with every character outside printable ASCII
// shown as \u{XXXX}.
func asciiEscaped(s string) string {
	var b strings.Builder
	for _, r := range escapeText(s) {
		if r >= 0x20 && r < 0x7f {
			b.WriteRune(r)
		} else {
			fmt.Fprintf(&b, `\u{%04X}`, r)
		}
	}
	return b.String()
}

// quoted renders a name from outside for a message: in double quotes, with
// hidden characters escaped, quotes and backslashes escaped so that the
// name cannot close its quotes, and, when it has any character outside
// ASCII, its ASCII-escaped form beside it, so that a look-alike ("opskеy"
// with a Cyrillic е) cannot pass for another name:
//
//	"opskеy" (non-ASCII: opsk\u{0435}y)
func quoted(s string) string {
	inner := escapeText(strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s))
	out := `"` + inner + `"`
	for _, r := range s {
		if r >= utf8.RuneSelf {
			return out + " (non-ASCII: " + asciiEscaped(s) + ")"
		}
	}
	return out
}

// jsonText makes JSON meant to be read as text safe in the same way: the
// characters hidden reports become \uXXXX escapes, which decode to the same
// string. encoding/json already escapes C0 controls, U+2028 and U+2029, but
// not C1 controls or format characters.
func jsonText(b []byte) string {
	s := string(b)
	if !needsEscape(s) {
		return s
	}
	var out strings.Builder
	for _, r := range s {
		if hidden(r) {
			if r > 0xFFFF {
				r1, r2 := utf16.EncodeRune(r)
				fmt.Fprintf(&out, `\u%04x\u%04x`, r1, r2)
				continue
			}
			fmt.Fprintf(&out, `\u%04x`, r)
			continue
		}
		out.WriteRune(r)
	}
	return out.String()
}
