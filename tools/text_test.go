package tools

import (
	"encoding/json"
	"testing"
)

func TestQuoted(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"opskey", `"opskey"`},
		{"opsk\u0435y", `"opskеy" (non-ASCII: opsk\u{0435}y)`},
		{"密钥", `"密钥" (non-ASCII: \u{5BC6}\u{94A5})`},
		{"a\nb", `"a\u{000A}b"`},
		{"a\r\n- forged", `"a\u{000D}\u{000A}- forged"`},
		{"rtl\u202eexe.txt", `"rtl\u{202E}exe.txt" (non-ASCII: rtl\u{202E}exe.txt)`},
		{"zero\u200bwidth", `"zero\u{200B}width" (non-ASCII: zero\u{200B}width)`},
		{"c1\u0085next", `"c1\u{0085}next" (non-ASCII: c1\u{0085}next)`},
		{"line\u2028sep", `"line\u{2028}sep" (non-ASCII: line\u{2028}sep)`},
		{`close" and \ back`, `"close\" and \\ back"`},
		{`literal \u{000A}`, `"literal \\u{000A}"`},
		{"bad\xffutf8", `"bad\u{FFFD}utf8" (non-ASCII: bad\u{FFFD}utf8)`},
	} {
		if got := quoted(tc.in); got != tc.want {
			t.Errorf("quoted(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// JSON read as text gets the same escapes, and decodes to the same value.
func TestJSONText(t *testing.T) {
	t.Parallel()
	in := map[string]string{"name": "a\u202eb\u200c\u0085c😀"}
	b, _ := json.Marshal(in)
	got := jsonText(b)
	if want := `{"name":"a\u202eb\u200c\u0085c😀"}`; got != want {
		t.Errorf("jsonText = %s, want %s", got, want)
	}
	var back map[string]string
	if err := json.Unmarshal([]byte(got), &back); err != nil || back["name"] != in["name"] {
		t.Errorf("does not decode to the same value: %v %q", err, back["name"])
	}
	if got := jsonText([]byte(`{"plain":"ok"}`)); got != `{"plain":"ok"}` {
		t.Errorf("plain JSON changed: %s", got)
	}
}
