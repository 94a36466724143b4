package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// PortabilityError says which rule of the portable subset a schema breaks,
// and where: Path is a JSON path into the schema document, "$" for its root,
// e.g. "$.properties.tags.items".
type PortabilityError struct {
	Path string
	Rule string
}

func (e *PortabilityError) Error() string {
	return "schema not portable at " + e.Path + ": " + e.Rule
}

// Portable checks that raw is a tool schema every MCP client accepts, and
// returns a *PortabilityError for the first rule broken, in document order:
//
//   - raw is one JSON object, with no key given twice in any object;
//   - the root has "type": "object";
//   - every schema (the root, each property, each "items") has a "type"
//     that is a single string, one of string, number, integer, boolean,
//     array, object;
//   - every object schema has "properties" (an object, possibly empty),
//     "required" (an array of property names, possibly empty, no name
//     twice) and "additionalProperties": false;
//   - every array schema has "items", a single schema;
//   - no keyword starting with "$" ($ref, $defs, $schema, $id, ...), no
//     "definitions", and no combinator or conditional (oneOf, anyOf, allOf,
//     not, if, then, else), no patternProperties or prefixItems, anywhere;
//   - every "pattern" compiles with Go's regexp and uses only syntax that
//     Go, Python and ECMAScript read alike: no \p, \P, \u, \x{...}, \A, \z,
//     \Q, (?...) groups or flags, or [[:class:]].
func Portable(raw json.RawMessage) error {
	root, err := decodeJSON(raw)
	if err != nil {
		return &PortabilityError{Path: "$", Rule: err.Error()}
	}
	obj, ok := root.(*jsonObject)
	if !ok {
		return &PortabilityError{Path: "$", Rule: "the schema must be a JSON object, got " + kindName(root)}
	}
	return checkSchema(obj, "$")
}

// forbidden are keywords that some client rejects or mishandles.
var forbidden = map[string]string{
	"definitions":       "inline every schema",
	"oneOf":             "combinators are not portable",
	"anyOf":             "combinators are not portable",
	"allOf":             "combinators are not portable",
	"not":               "combinators are not portable",
	"if":                "conditionals are not portable",
	"then":              "conditionals are not portable",
	"else":              "conditionals are not portable",
	"patternProperties": "give each property by name",
	"prefixItems":       "give one schema in items",
}

var jsonTypes = []string{"string", "number", "integer", "boolean", "array", "object"}

func checkSchema(n *jsonObject, path string) error {
	fail := func(format string, args ...any) error {
		return &PortabilityError{Path: path, Rule: fmt.Sprintf(format, args...)}
	}
	for _, k := range n.keys {
		if strings.HasPrefix(k, "$") {
			return fail("%q is not allowed: no $-keywords ($ref, $defs, $schema, $id); inline every schema", k)
		}
		if why, bad := forbidden[k]; bad {
			return fail("%q is not allowed: %s", k, why)
		}
	}
	t, hasType := n.vals["type"]
	typ, isString := t.(string)
	if path == "$" && typ != "object" {
		return fail(`the root must have "type": "object"`)
	}
	if !hasType {
		return fail(`every schema needs a "type"`)
	}
	if !isString {
		return fail(`"type" must be a single string, got %s`, kindName(t))
	}
	if !slices.Contains(jsonTypes, typ) {
		return fail(`"type" %q is not one of %s`, typ, strings.Join(jsonTypes, ", "))
	}
	if p, ok := n.vals["pattern"]; ok {
		s, ok := p.(string)
		if !ok {
			return fail(`"pattern" must be a string`)
		}
		if err := portablePattern(s); err != nil {
			return &PortabilityError{Path: path + ".pattern", Rule: err.Error()}
		}
	}
	switch typ {
	case "object":
		p, ok := n.vals["properties"]
		if !ok {
			return fail(`an object schema needs "properties" (use {} for none)`)
		}
		props, ok := p.(*jsonObject)
		if !ok {
			return fail(`"properties" must be an object, got %s`, kindName(p))
		}
		r, ok := n.vals["required"]
		if !ok {
			return fail(`an object schema needs "required" (use [] for none)`)
		}
		req, ok := r.([]any)
		if !ok {
			return fail(`"required" must be an array, got %s`, kindName(r))
		}
		seen := map[string]bool{}
		for i, e := range req {
			name, ok := e.(string)
			if !ok {
				return fail(`"required"[%d] must be a string, got %s`, i, kindName(e))
			}
			if _, ok := props.vals[name]; !ok {
				return fail(`"required" names %q, which is not in "properties"`, name)
			}
			if seen[name] {
				return fail(`"required" names %q twice`, name)
			}
			seen[name] = true
		}
		ap, ok := n.vals["additionalProperties"]
		if !ok {
			return fail(`an object schema needs "additionalProperties": false`)
		}
		if ap != false {
			return fail(`"additionalProperties" must be false, got %s`, text(ap))
		}
		for _, name := range props.keys {
			sub := path + ".properties" + pathKey(name)
			v, ok := props.vals[name].(*jsonObject)
			if !ok {
				return &PortabilityError{Path: sub, Rule: "a property schema must be an object, got " + kindName(props.vals[name])}
			}
			if err := checkSchema(v, sub); err != nil {
				return err
			}
		}
	case "array":
		it, ok := n.vals["items"]
		if !ok {
			return fail(`an array schema needs "items"`)
		}
		items, ok := it.(*jsonObject)
		if !ok {
			return fail(`"items" must be one schema object, got %s`, kindName(it))
		}
		if err := checkSchema(items, path+".items"); err != nil {
			return err
		}
	}
	if typ != "object" {
		for _, k := range []string{"properties", "required", "additionalProperties"} {
			if _, ok := n.vals[k]; ok {
				return fail("%q belongs to object schemas, not %s", k, typ)
			}
		}
	}
	if _, ok := n.vals["items"]; ok && typ != "array" {
		return fail(`"items" belongs to array schemas, not %s`, typ)
	}
	return nil
}

// unportableRegexp lists regular expression syntax that Go, Python's re
// and ECMAScript do not read alike (or at all).
var unportableRegexp = []struct{ syntax, why string }{
	{`\p`, `Unicode classes (\p{...}) are not in Python's re or ECMAScript without the u flag`},
	{`\P`, `Unicode classes (\P{...}) are not in Python's re or ECMAScript without the u flag`},
	{`\u`, `\u escapes are not in Go's regexp; write the character itself`},
	{`\x{`, `\x{...} is not in Python's re or ECMAScript; write the character itself`},
	{`\A`, `\A is not in ECMAScript; use ^`},
	{`\z`, `\z is not in ECMAScript or Python; use $`},
	{`\Z`, `\Z differs between engines; use $`},
	{`\Q`, `\Q...\E is not in Python's re or ECMAScript`},
	{`(?`, `(?...) groups and flags differ between engines`},
	{`[:`, `POSIX classes ([[:alpha:]]) are not in Python's re or ECMAScript`},
}

func portablePattern(p string) error {
	if _, err := regexp.Compile(p); err != nil {
		return fmt.Errorf("pattern %q does not compile with Go's regexp: %v", p, err)
	}
	// Scan with escapes in mind, so that `\\p` (a backslash, then p) is
	// not mistaken for `\p`.
	for i := 0; i < len(p); i++ {
		for _, u := range unportableRegexp {
			if strings.HasPrefix(p[i:], u.syntax) {
				return fmt.Errorf("pattern %q is not portable: %s", p, u.why)
			}
		}
		if p[i] == '\\' {
			i++ // skip the escaped character
		}
	}
	return nil
}

// pathKey renders a property name as a JSON path step.
func pathKey(name string) string {
	ident := name != ""
	for i, r := range name {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			ident = false
			break
		}
	}
	if ident {
		return "." + name
	}
	return "[" + strconv.Quote(name) + "]"
}

// jsonObject is a decoded JSON object that keeps the order of its keys,
// which encoding/json's maps do not: Portable reports the first fault in
// document order. Values are *jsonObject, []any, string, json.Number, bool
// or nil.
type jsonObject struct {
	keys []string
	vals map[string]any
}

// decodeJSON reads exactly one JSON value, refusing duplicate keys (which
// encoding/json would let the last one win).
func decodeJSON(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := decodeValue(dec)
	if err != nil {
		if err == io.EOF {
			return nil, errors.New("empty document")
		}
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("not valid JSON: more than one value")
	}
	return v, nil
}

func decodeValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err == io.EOF {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("not valid JSON: %v", err)
	}
	switch tok {
	case json.Delim('{'):
		o := &jsonObject{vals: map[string]any{}}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, fmt.Errorf("not valid JSON: %v", err)
			}
			key, ok := kt.(string)
			if !ok { // the decoder refuses other keys; this only makes sure
				return nil, errors.New("not valid JSON: object key is not a string")
			}
			if _, dup := o.vals[key]; dup {
				return nil, fmt.Errorf("key %q appears twice in one object", key)
			}
			v, err := decodeValue(dec)
			if err != nil {
				return nil, notEOF(err)
			}
			o.keys = append(o.keys, key)
			o.vals[key] = v
		}
		_, err := dec.Token() // '}'
		return o, notEOF(err)
	case json.Delim('['):
		a := []any{}
		for dec.More() {
			v, err := decodeValue(dec)
			if err != nil {
				return nil, notEOF(err)
			}
			a = append(a, v)
		}
		_, err := dec.Token() // ']'
		return a, notEOF(err)
	}
	return tok, nil
}

// notEOF turns an end of input inside a value into a syntax error.
func notEOF(err error) error {
	if err == io.EOF {
		return errors.New("not valid JSON: unexpected end of input")
	}
	return err
}

func kindName(v any) string {
	switch v.(type) {
	case *jsonObject:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	}
	return "null"
}

// text is a short rendering of v for messages: scalars as JSON, the rest
// by kind.
func text(v any) string {
	switch v.(type) {
	case *jsonObject, []any:
		return kindName(v)
	}
	b, _ := json.Marshal(v)
	return string(b)
}
