package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/invopop/jsonschema"
)

// For returns the flat, portable JSON schema of T (see Portable), compact
// and byte-for-byte the same on every call and every run. It is meant for
// the tool definitions built at startup; it panics when T cannot be
// expressed portably, which is a programming error that the package tests
// catch for every tool type.
//
// Each call returns a fresh copy, so callers may keep or change it.
func For[T any]() json.RawMessage {
	raw, err := Generate[T]()
	if err != nil {
		panic(err)
	}
	return raw
}

// Generate is For with the error returned instead of panicking.
func Generate[T any]() (json.RawMessage, error) {
	t := reflect.TypeFor[T]()
	if v, ok := generated.Load(t); ok {
		return bytes.Clone(v.([]byte)), nil
	}
	// Reflecting every tool's types costs milliseconds at each start of
	// the server; the schemas are generated ahead (pregenerated.go), and a
	// test fails when that file no longer matches what generate makes.
	if raw, ok := pregenerated[t.String()]; ok {
		generated.Store(t, []byte(raw))
		return []byte(raw), nil
	}
	raw, err := generate(t)
	if err != nil {
		return nil, err
	}
	generated.Store(t, raw)
	return bytes.Clone(raw), nil
}

// generated caches schemas by Go type: generation is deterministic, so
// the first result is the only result.
var generated sync.Map // reflect.Type -> []byte

func generate(t reflect.Type) ([]byte, error) {
	r := &jsonschema.Reflector{DoNotReference: true, ExpandedStruct: true, Anonymous: true}
	s := r.ReflectFromType(t)
	s.Version = "" // no "$schema"
	first, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("schema for %v: %w", t, err)
	}
	root, err := parseJSON(first)
	if err != nil {
		return nil, fmt.Errorf("schema for %v: %w", t, err)
	}
	if root.kind != objectNode {
		return nil, fmt.Errorf("schema for %v: not a JSON object", t)
	}
	flatten(root)
	var buf bytes.Buffer
	writeSchema(&buf, root)
	out := buf.Bytes()
	if err := Portable(out); err != nil {
		return nil, fmt.Errorf("schema for %v: %w", t, err)
	}
	return out, nil
}

// flatten turns invopop's output into the portable form: no "$" keywords,
// and every object schema with "properties", "required" and
// "additionalProperties": false, even when empty. The root is an object
// schema whatever invopop says, so that Portable reports a non-struct T
// rather than flatten hiding it.
func flatten(n *node) {
	for _, k := range slices.Clone(n.keys) {
		if strings.HasPrefix(k, "$") || k == "definitions" {
			n.del(k)
		}
	}
	if t := n.get("type"); t != nil && t.kind == scalarNode && t.val == "object" {
		if n.get("properties") == nil {
			n.set("properties", &node{kind: objectNode})
		}
		if n.get("required") == nil {
			n.set("required", &node{kind: arrayNode})
		}
		if n.get("additionalProperties") == nil {
			n.set("additionalProperties", &node{kind: scalarNode, val: false})
		}
	}
	if p := n.get("properties"); p != nil && p.kind == objectNode {
		for _, v := range p.vals {
			if v.kind == objectNode {
				flatten(v)
			}
		}
	}
	if it := n.get("items"); it != nil && it.kind == objectNode {
		flatten(it)
	}
}

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
	root, err := parseJSON(raw)
	if err != nil {
		return &PortabilityError{Path: "$", Rule: err.Error()}
	}
	if root.kind != objectNode {
		return &PortabilityError{Path: "$", Rule: "the schema must be a JSON object, got " + root.kindName()}
	}
	return checkSchema(root, "$")
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

func checkSchema(n *node, path string) error {
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
	t := n.get("type")
	if path == "$" && (t == nil || t.kind != scalarNode || t.val != "object") {
		return fail(`the root must have "type": "object"`)
	}
	if t == nil {
		return fail(`every schema needs a "type"`)
	}
	typ, ok := t.val.(string)
	if t.kind != scalarNode || !ok {
		return fail(`"type" must be a single string, got %s`, t.kindName())
	}
	if !slices.Contains(jsonTypes, typ) {
		return fail(`"type" %q is not one of %s`, typ, strings.Join(jsonTypes, ", "))
	}
	if p := n.get("pattern"); p != nil {
		s, ok := p.val.(string)
		if p.kind != scalarNode || !ok {
			return fail(`"pattern" must be a string`)
		}
		if err := portablePattern(s); err != nil {
			return &PortabilityError{Path: path + ".pattern", Rule: err.Error()}
		}
	}
	switch typ {
	case "object":
		props := n.get("properties")
		if props == nil {
			return fail(`an object schema needs "properties" (use {} for none)`)
		}
		if props.kind != objectNode {
			return fail(`"properties" must be an object, got %s`, props.kindName())
		}
		req := n.get("required")
		if req == nil {
			return fail(`an object schema needs "required" (use [] for none)`)
		}
		if req.kind != arrayNode {
			return fail(`"required" must be an array, got %s`, req.kindName())
		}
		seen := map[string]bool{}
		for i, e := range req.elems {
			name, ok := e.val.(string)
			if e.kind != scalarNode || !ok {
				return fail(`"required"[%d] must be a string, got %s`, i, e.kindName())
			}
			if props.get(name) == nil {
				return fail(`"required" names %q, which is not in "properties"`, name)
			}
			if seen[name] {
				return fail(`"required" names %q twice`, name)
			}
			seen[name] = true
		}
		ap := n.get("additionalProperties")
		if ap == nil {
			return fail(`an object schema needs "additionalProperties": false`)
		}
		if ap.kind != scalarNode || ap.val != false {
			return fail(`"additionalProperties" must be false, got %s`, ap.text())
		}
		for i, name := range props.keys {
			v := props.vals[i]
			sub := path + ".properties" + pathKey(name)
			if v.kind != objectNode {
				return &PortabilityError{Path: sub, Rule: "a property schema must be an object, got " + v.kindName()}
			}
			if err := checkSchema(v, sub); err != nil {
				return err
			}
		}
	case "array":
		it := n.get("items")
		if it == nil {
			return fail(`an array schema needs "items"`)
		}
		if it.kind != objectNode {
			return fail(`"items" must be one schema object, got %s`, it.kindName())
		}
		if err := checkSchema(it, path+".items"); err != nil {
			return err
		}
	}
	if typ != "object" {
		for _, k := range []string{"properties", "required", "additionalProperties"} {
			if n.get(k) != nil {
				return fail("%q belongs to object schemas, not %s", k, typ)
			}
		}
	}
	if typ != "array" && n.get("items") != nil {
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

// A node is a JSON value that keeps the order of object keys, which
// encoding/json's maps do not.
type node struct {
	kind  nodeKind
	keys  []string // objectNode
	vals  []*node  // objectNode, parallel to keys
	elems []*node  // arrayNode
	val   any      // scalarNode: string, json.Number, bool or nil
}

type nodeKind int

const (
	scalarNode nodeKind = iota
	objectNode
	arrayNode
)

func (n *node) get(key string) *node {
	if i := slices.Index(n.keys, key); i >= 0 {
		return n.vals[i]
	}
	return nil
}

func (n *node) set(key string, v *node) {
	if i := slices.Index(n.keys, key); i >= 0 {
		n.vals[i] = v
		return
	}
	n.keys = append(n.keys, key)
	n.vals = append(n.vals, v)
}

func (n *node) del(key string) {
	if i := slices.Index(n.keys, key); i >= 0 {
		n.keys = slices.Delete(n.keys, i, i+1)
		n.vals = slices.Delete(n.vals, i, i+1)
	}
}

func (n *node) kindName() string {
	switch n.kind {
	case objectNode:
		return "an object"
	case arrayNode:
		return "an array"
	}
	switch n.val.(type) {
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	}
	return "null"
}

// text is a short rendering of n for error messages.
func (n *node) text() string {
	if n.kind != scalarNode {
		return n.kindName()
	}
	var buf bytes.Buffer
	writePlain(&buf, n)
	return buf.String()
}

// parseJSON reads exactly one JSON value, refusing duplicate keys.
func parseJSON(raw []byte) (*node, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			return nil, errors.New("empty document")
		}
		return nil, fmt.Errorf("not valid JSON: %v", err)
	}
	n, err := parseValue(dec, tok)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("not valid JSON: more than one value")
	}
	return n, nil
}

func parseValue(dec *json.Decoder, tok json.Token) (*node, error) {
	d, ok := tok.(json.Delim)
	if !ok {
		return &node{kind: scalarNode, val: tok}, nil
	}
	switch d {
	case '{':
		n := &node{kind: objectNode}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, fmt.Errorf("not valid JSON: %v", err)
			}
			key, ok := kt.(string)
			if !ok {
				return nil, errors.New("not valid JSON: object key is not a string")
			}
			if n.get(key) != nil {
				return nil, fmt.Errorf("key %q appears twice in one object", key)
			}
			vt, err := dec.Token()
			if err != nil {
				return nil, fmt.Errorf("not valid JSON: %v", err)
			}
			v, err := parseValue(dec, vt)
			if err != nil {
				return nil, err
			}
			n.keys = append(n.keys, key)
			n.vals = append(n.vals, v)
		}
		if _, err := dec.Token(); err != nil { // '}'
			return nil, fmt.Errorf("not valid JSON: %v", err)
		}
		return n, nil
	case '[':
		n := &node{kind: arrayNode}
		for dec.More() {
			et, err := dec.Token()
			if err != nil {
				return nil, fmt.Errorf("not valid JSON: %v", err)
			}
			e, err := parseValue(dec, et)
			if err != nil {
				return nil, err
			}
			n.elems = append(n.elems, e)
		}
		if _, err := dec.Token(); err != nil { // ']'
			return nil, fmt.Errorf("not valid JSON: %v", err)
		}
		return n, nil
	}
	return nil, fmt.Errorf("not valid JSON: unexpected %v", d)
}

// keywordOrder is the order in which writeSchema writes the keywords of a
// schema it knows; any other keyword follows, in byte order. A fixed order
// keeps the output stable whatever the generator's internals, and puts
// what a reader wants first.
var keywordOrder = []string{
	"type", "description", "enum", "format", "pattern",
	"minLength", "maxLength", "minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum", "multipleOf",
	"minItems", "maxItems", "uniqueItems", "items",
	"properties", "required", "additionalProperties",
}

// writeSchema writes a schema object compactly in keywordOrder, with
// properties in their declared (struct field) order.
func writeSchema(buf *bytes.Buffer, n *node) {
	if n.kind != objectNode {
		writePlain(buf, n)
		return
	}
	keys := slices.Clone(n.keys)
	rank := func(k string) int {
		if i := slices.Index(keywordOrder, k); i >= 0 {
			return i
		}
		return len(keywordOrder)
	}
	slices.SortStableFunc(keys, func(a, b string) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(a, b)
	})
	buf.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		writeString(buf, k)
		buf.WriteByte(':')
		v := n.get(k)
		switch k {
		case "properties":
			if v.kind != objectNode {
				writePlain(buf, v)
				continue
			}
			buf.WriteByte('{')
			for j, name := range v.keys {
				if j > 0 {
					buf.WriteByte(',')
				}
				writeString(buf, name)
				buf.WriteByte(':')
				writeSchema(buf, v.vals[j])
			}
			buf.WriteByte('}')
		case "items", "additionalProperties":
			writeSchema(buf, v)
		default:
			writePlain(buf, v)
		}
	}
	buf.WriteByte('}')
}

// writePlain writes any value compactly, keeping key order.
func writePlain(buf *bytes.Buffer, n *node) {
	switch n.kind {
	case objectNode:
		buf.WriteByte('{')
		for i, k := range n.keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeString(buf, k)
			buf.WriteByte(':')
			writePlain(buf, n.vals[i])
		}
		buf.WriteByte('}')
	case arrayNode:
		buf.WriteByte('[')
		for i, e := range n.elems {
			if i > 0 {
				buf.WriteByte(',')
			}
			writePlain(buf, e)
		}
		buf.WriteByte(']')
	default:
		switch v := n.val.(type) {
		case string:
			writeString(buf, v)
		case json.Number:
			buf.WriteString(v.String())
		case bool:
			buf.WriteString(strconv.FormatBool(v))
		default:
			buf.WriteString("null")
		}
	}
}

// writeString writes s as a JSON string without HTML escaping, so that
// descriptions such as '<type> <base64>' stay readable.
func writeString(buf *bytes.Buffer, s string) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	buf.Write(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}
