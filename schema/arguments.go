package schema

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// Argument is one argument of a tool as its input schema declares it, in
// words, for help that a person reads. The schema is the one tools/list
// shows, so help cannot say something else than what clients are told.
type Argument struct {
	Name string
	// Type in words: "string", "integer", "boolean", "object", "array of
	// strings", "array of objects", ...
	Type        string
	Required    bool
	Description string
	// Rules are the constraints in words, e.g. "1 to 64 characters",
	// "one of: Running, Stopped", "1 to 500 items".
	Rules []string
	// Fields are the fields of an object, or of the objects of an array.
	Fields []Argument
}

// Arguments reads the arguments of an input schema in the portable form
// (see Portable), in their declared order.
func Arguments(raw json.RawMessage) ([]Argument, error) {
	root, err := decodeJSON(raw)
	if err != nil {
		return nil, err
	}
	obj, ok := root.(*jsonObject)
	if !ok {
		return nil, errors.New("the input schema is not a JSON object")
	}
	return fields(obj), nil
}

// fields reads the properties of an object schema.
func fields(o *jsonObject) []Argument {
	props, _ := o.vals["properties"].(*jsonObject)
	if props == nil {
		return nil
	}
	req, _ := o.vals["required"].([]any)
	var out []Argument
	for _, name := range props.keys {
		p, ok := props.vals[name].(*jsonObject)
		if !ok {
			continue
		}
		a := Argument{Name: name, Required: slices.Contains(req, any(name))}
		a.Description, _ = p.vals["description"].(string)
		typ, _ := p.vals["type"].(string)
		a.Type = typ
		a.Rules = rules(p, typ, "")
		switch typ {
		case "object":
			a.Fields = fields(p)
		case "array":
			if items, ok := p.vals["items"].(*jsonObject); ok {
				it, _ := items.vals["type"].(string)
				a.Type = "array of " + plural(it)
				a.Rules = append(a.Rules, rules(items, it, "each ")...)
				if it == "object" {
					a.Fields = fields(items)
				}
			}
		}
		out = append(out, a)
	}
	return out
}

func plural(typ string) string {
	switch typ {
	case "":
		return "values"
	case "boolean":
		return "booleans (true or false)"
	}
	return typ + "s"
}

// rules says the constraints of a schema in words; prefix starts each
// (e.g. "each " for an array's items).
func rules(o *jsonObject, typ, prefix string) []string {
	num := func(k string) string {
		if n, ok := o.vals[k].(json.Number); ok {
			return n.String()
		}
		return ""
	}
	var out []string
	add := func(format string, args ...any) { out = append(out, prefix+fmt.Sprintf(format, args...)) }
	between := func(lo, hi, unit string) {
		if (hi == "1" || hi == "" && lo == "1") && strings.HasSuffix(unit, "s") {
			unit = strings.TrimSuffix(unit, "s")
		}
		switch {
		case lo != "" && hi != "" && lo == hi:
			add("exactly %s%s", hi, unit)
		case lo != "" && hi != "":
			add("%s to %s%s", lo, hi, unit)
		case hi != "":
			add("at most %s%s", hi, unit)
		case lo != "":
			add("at least %s%s", lo, unit)
		}
	}
	switch typ {
	case "string":
		between(num("minLength"), num("maxLength"), " characters")
	case "integer", "number":
		between(num("minimum"), num("maximum"), "")
	case "array":
		between(num("minItems"), num("maxItems"), " items")
	}
	if enum, ok := o.vals["enum"].([]any); ok {
		words := make([]string, 0, len(enum))
		for _, v := range enum {
			words = append(words, fmt.Sprint(v))
		}
		add("one of: %s", strings.Join(words, ", "))
	}
	if p, ok := o.vals["pattern"].(string); ok {
		add("matching the pattern %s", graphic(p))
	}
	return out
}

// graphic shows the characters of s that a terminal would not show (such
// as U+FFFF at the end of a pattern's range) as \u{XXXX}.
func graphic(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsGraphic(r) {
			b.WriteRune(r)
		} else {
			fmt.Fprintf(&b, "\\u{%04X}", r)
		}
	}
	return b.String()
}
