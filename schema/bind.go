package schema

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// Bind decodes a tool call's arguments into T strictly, so that a mistake
// the model can fix is reported rather than silently dropped:
//
//   - the arguments are one JSON object (absent or null reads as {});
//   - every key is the exact name of an argument: encoding/json would match
//     "RegionId" to regionId, and ignore "regionID" or "dryRun"; here an
//     unknown key is an error that names it, the near miss it resembles,
//     and the arguments the tool takes;
//   - every value has the argument's JSON type: a string is not a number,
//     an integer has no fraction, an array is an array;
//   - null stands for an absent argument, as omitting it would.
//
// Errors are *Error with code InvalidParameter and name the argument by its
// path, e.g. tags[1].key. They never quote more than a short prefix of a
// value.
func Bind[T any](raw json.RawMessage) (T, error) {
	var out T
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		raw = []byte("{}")
	}
	if raw[0] != '{' {
		return out, errorf(codeInvalidParameter, "the arguments must be a JSON object, e.g. {\"regionId\": \"cn-hangzhou\"}; got %s", jsonKind(raw))
	}
	if err := bindValue(raw, reflect.ValueOf(&out).Elem(), ""); err != nil {
		return out, err
	}
	return out, nil
}

// bindValue decodes raw into v; path names v for messages ("" is the root).
func bindValue(raw json.RawMessage, v reflect.Value, path string) *Error {
	if bytes.Equal(raw, []byte("null")) {
		v.SetZero()
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer:
		// An optional argument whose absence means something (inUse):
		// present, it points to its value.
		p := reflect.New(v.Type().Elem())
		if err := bindValue(raw, p.Elem(), path); err != nil {
			return err
		}
		v.Set(p)
		return nil
	case reflect.Struct:
		return bindObject(raw, v, path)
	case reflect.Slice:
		if raw[0] != '[' {
			return typeError(path, "an array", raw)
		}
		var elems []json.RawMessage
		if err := json.Unmarshal(raw, &elems); err != nil {
			return typeError(path, "an array", raw)
		}
		s := reflect.MakeSlice(v.Type(), len(elems), len(elems))
		for i, e := range elems {
			if err := bindValue(e, s.Index(i), path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	case reflect.String:
		var s string
		if raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
			return typeError(path, "a string", raw)
		}
		v.SetString(s)
		return nil
	case reflect.Bool:
		var b bool
		if json.Unmarshal(raw, &b) != nil {
			return typeError(path, "true or false", raw)
		}
		v.SetBool(b)
		return nil
	case reflect.Int, reflect.Int64, reflect.Int32:
		// JSON has one number type: 10 and 10.0 are the same integer, and
		// some clients send the second.
		var f float64
		if raw[0] == '"' || json.Unmarshal(raw, &f) != nil {
			return typeError(path, "an integer", raw)
		}
		if f != math.Trunc(f) {
			return errorf(codeInvalidParameter, "%s must be a whole number, got %s", path, clip(string(raw)))
		}
		if f < math.MinInt32 || f > math.MaxInt32 {
			return errorf(codeInvalidParameter, "%s %s is out of range: give a whole number from 1 to %d", path, clip(string(raw)), math.MaxInt32)
		}
		v.SetInt(int64(f))
		return nil
	}
	// Only the kinds above appear in the input types; a test checks it.
	return errorf(codeInvalidParameter, "%s has a type this server cannot read", path)
}

// bindObject decodes a JSON object into a struct by exact json names.
func bindObject(raw json.RawMessage, v reflect.Value, path string) *Error {
	what := "the arguments"
	if path != "" {
		what = path
	}
	if raw[0] != '{' {
		return typeError(path, "an object", raw)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return errorf(codeInvalidParameter, "%s are not a valid JSON object", what)
	}
	names := jsonNames(v.Type())
	// Keys in sorted order, so that the first fault reported does not
	// depend on map iteration.
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, key := range keys {
		i, ok := names[key]
		if !ok {
			return unknownField(what, path, key, names)
		}
		sub := key
		if path != "" {
			sub = path + "." + key
		}
		if err := bindValue(fields[key], v.Field(i), sub); err != nil {
			return err
		}
	}
	return nil
}

// jsonNames maps the json names of t's exported fields to their indexes.
func jsonNames(t reflect.Type) map[string]int {
	names := make(map[string]int, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		names[name] = i
	}
	return names
}

func unknownField(what, path, key string, names map[string]int) *Error {
	k := quote(key)
	if path != "" {
		k = path + "." + quote(key)
	}
	if len(names) == 0 {
		return errorf(codeInvalidParameter, "%s must be empty: this tool takes no arguments, but %s was given", what, k)
	}
	accepted := make([]string, 0, len(names))
	for n := range names {
		accepted = append(accepted, n)
	}
	slices.SortFunc(accepted, func(a, b string) int { return names[a] - names[b] })
	for _, n := range accepted {
		if strings.EqualFold(n, key) {
			return errorf(codeInvalidParameter, "unknown argument %s: did you mean %s? Argument names are case-sensitive", k, n)
		}
	}
	return errorf(codeInvalidParameter, "unknown argument %s: %s accept only %s", k, what, strings.Join(accepted, ", "))
}

func typeError(path, want string, raw json.RawMessage) *Error {
	return errorf(codeInvalidParameter, "%s must be %s, got %s", path, want, jsonKind(raw))
}

// jsonKind describes a JSON value for a message: its kind, and for short
// scalars the value itself.
func jsonKind(raw json.RawMessage) string {
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return "the string " + quote(s)
		}
		return "a string"
	case 't', 'f':
		return "the boolean " + string(raw)
	case 'n':
		return "null"
	}
	return "the number " + clip(string(raw))
}

// clip shortens a raw token for a message.
func clip(s string) string {
	if len(s) > 20 {
		return s[:20] + "..."
	}
	return s
}
