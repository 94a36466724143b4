package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

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

// generate reflects t with invopop/jsonschema and writes the schema value
// it builds in the portable form (see Portable): every object schema with
// "properties", "required" and "additionalProperties": false, even when
// empty; no "$"-keywords; keywords in keywordOrder, properties in struct
// field order (invopop's Properties is an ordered map). What the form
// cannot hold (a combinator, a schema without a type, a map) is an error,
// not a silent change. The output is not parsed again here, nor are its
// patterns compiled, since every start of the server pays for this:
// Portable, the independent check, runs in the tests on every tool schema
// and checks each pattern.
func generate(t reflect.Type) ([]byte, error) {
	r := &jsonschema.Reflector{DoNotReference: true, ExpandedStruct: true, Anonymous: true}
	s := r.ReflectFromType(t)
	if s == nil || s.Type != "object" {
		return nil, fmt.Errorf("schema for %v: the root must be an object schema (a struct)", t)
	}
	w := &schemaWriter{}
	if err := w.schema(s, "$"); err != nil {
		return nil, fmt.Errorf("schema for %v: %w", t, err)
	}
	return w.buf.Bytes(), nil
}

// keywordOrder is the order in which the writer puts a schema's keywords;
// any other keyword follows, in byte order. A fixed order keeps the output
// stable whatever the generator's internals, and puts what a reader wants
// first.
var keywordOrder = []string{
	"type", "description", "enum", "format", "pattern",
	"minLength", "maxLength", "minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum", "multipleOf",
	"minItems", "maxItems", "uniqueItems", "items",
	"properties", "required", "additionalProperties",
}

// otherKeyword is a field of jsonschema.Schema that the writer does not
// place itself: written, if set, after keywordOrder, as invopop would
// marshal it (Portable refuses the unportable ones, such as anyOf).
type otherKeyword struct {
	name  string
	index int
}

// otherKeywords lists them in byte order. "$"-keywords ($schema, $id, $ref,
// $defs, ...) are left out: an inlined schema has no use for them.
var otherKeywords = sync.OnceValue(func() []otherKeyword {
	var out []otherKeyword
	st := reflect.TypeFor[jsonschema.Schema]()
	for i := range st.NumField() {
		f := st.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "" || name == "-" || strings.HasPrefix(name, "$") || slices.Contains(keywordOrder, name) {
			continue
		}
		out = append(out, otherKeyword{name, i})
	}
	slices.SortFunc(out, func(a, b otherKeyword) int { return strings.Compare(a.name, b.name) })
	return out
})

// schemaWriter writes schema values compactly.
type schemaWriter struct {
	buf bytes.Buffer
}

// schema writes s as a schema object; path names it in errors, as in
// PortabilityError.
func (w *schemaWriter) schema(s *jsonschema.Schema, path string) error {
	fail := func(format string, args ...any) error {
		return &PortabilityError{Path: path, Rule: fmt.Sprintf(format, args...)}
	}
	switch {
	case s == nil:
		return fail("a schema is missing")
	case s == jsonschema.TrueSchema || s == jsonschema.FalseSchema:
		return fail("a boolean schema (true or false) is not portable: give the value a concrete type")
	case s.Type == "":
		return fail(`every schema needs a "type" (an interface or any field?): give the value a concrete type`)
	}
	object := s.Type == "object"
	first := true
	key := func(k string) {
		if !first {
			w.buf.WriteByte(',')
		}
		first = false
		w.string(k)
		w.buf.WriteByte(':')
	}
	num := func(k string, n json.Number) {
		if n != "" {
			key(k)
			w.buf.WriteString(n.String())
		}
	}
	count := func(k string, n *uint64) {
		if n != nil {
			key(k)
			w.buf.WriteString(strconv.FormatUint(*n, 10))
		}
	}
	str := func(k, v string) {
		if v != "" {
			key(k)
			w.string(v)
		}
	}
	w.buf.WriteByte('{')
	str("type", s.Type)
	str("description", s.Description)
	if len(s.Enum) > 0 {
		key("enum")
		if err := w.value(s.Enum); err != nil {
			return fail("enum: %v", err)
		}
	}
	str("format", s.Format)
	str("pattern", s.Pattern)
	count("minLength", s.MinLength)
	count("maxLength", s.MaxLength)
	num("minimum", s.Minimum)
	num("exclusiveMinimum", s.ExclusiveMinimum)
	num("maximum", s.Maximum)
	num("exclusiveMaximum", s.ExclusiveMaximum)
	num("multipleOf", s.MultipleOf)
	count("minItems", s.MinItems)
	count("maxItems", s.MaxItems)
	if s.UniqueItems {
		key("uniqueItems")
		w.buf.WriteString("true")
	}
	switch {
	case s.Type == "array" && s.Items == nil:
		return fail(`an array schema needs "items"`)
	case s.Type != "array" && s.Items != nil:
		return fail(`"items" belongs to array schemas, not %s`, s.Type)
	case s.Items != nil:
		key("items")
		if err := w.schema(s.Items, path+".items"); err != nil {
			return err
		}
	}
	if !object {
		if s.Properties != nil || len(s.Required) > 0 || s.AdditionalProperties != nil {
			return fail("properties, required and additionalProperties belong to object schemas, not %s", s.Type)
		}
	} else {
		if s.AdditionalProperties != nil && s.AdditionalProperties != jsonschema.FalseSchema {
			return fail(`"additionalProperties" must be false (a map has no portable schema: use a struct or a list)`)
		}
		key("properties")
		w.buf.WriteByte('{')
		n := 0
		if s.Properties != nil {
			for name, p := range s.Properties.FromOldest() {
				if n > 0 {
					w.buf.WriteByte(',')
				}
				n++
				w.string(name)
				w.buf.WriteByte(':')
				if err := w.schema(p, path+".properties"+pathKey(name)); err != nil {
					return err
				}
			}
		}
		w.buf.WriteByte('}')
		key("required")
		w.buf.WriteByte('[')
		for i, name := range s.Required {
			if i > 0 {
				w.buf.WriteByte(',')
			}
			w.string(name)
		}
		w.buf.WriteString(`],"additionalProperties":false`)
	}
	v := reflect.ValueOf(s).Elem()
	for _, k := range otherKeywords() {
		if f := v.Field(k.index); !f.IsZero() {
			if why, bad := forbidden[k.name]; bad {
				return fail("%q is not allowed: %s", k.name, why)
			}
			key(k.name)
			if err := w.value(f.Interface()); err != nil {
				return fail("%s: %v", k.name, err)
			}
		}
	}
	if len(s.Extras) > 0 {
		return fail("jsonschema_extras are not supported: give constraints as jsonschema tags")
	}
	w.buf.WriteByte('}')
	return nil
}

// value writes any other JSON value (an enum, a default), without HTML
// escaping.
func (w *schemaWriter) value(v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	w.buf.Write(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
	return nil
}

// string writes s as a JSON string the way encoding/json does with HTML
// escaping off, so that descriptions such as '<type> <base64>' stay
// readable: quotes, backslashes and control characters escaped, U+2028
// and U+2029 as \u escapes, invalid UTF-8 as U+FFFD.
func (w *schemaWriter) string(s string) {
	const hex = "0123456789abcdef"
	b := &w.buf
	b.WriteByte('"')
	start := 0 // s[start:i] is written as it is
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		var r rune
		size := 1
		if c >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
			if (r != utf8.RuneError || size != 1) && r != '\u2028' && r != '\u2029' {
				i += size
				continue
			}
		}
		b.WriteString(s[start:i])
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\b':
			b.WriteString(`\b`)
		case c == '\f':
			b.WriteString(`\f`)
		case c < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xf])
		case r == utf8.RuneError:
			b.WriteString(`\ufffd`)
		default: // U+2028, U+2029
			b.WriteString(`\u202`)
			b.WriteByte(hex[r&0xf])
		}
		i += size
		start = i
	}
	b.WriteString(s[start:])
	b.WriteByte('"')
}
