package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
)

// isJSONBody reports whether a request says its body is JSON. The
// darabonba runtime sends operation parameters as a JSON body when an
// operation's body type is "json", with Content-Type application/json.
func isJSONBody(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/json"
}

// maxJSONDepth bounds the nesting of a JSON body: the deepest real parameter
// (Tag.N.Key) is two levels down.
const maxJSONDepth = 16

// flattenJSONBody adds the parameters of a JSON object body to p, flattened
// the way the SDKs flatten complex parameters into a query: an object's
// fields as "name.field", a list's items as "name.1", "name.2", ...; strings
// as they are, numbers as written, booleans as true or false; nulls are left
// out. A parameter also in the query takes the body's value, as with a form
// body.
func flattenJSONBody(body []byte, p params) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("the JSON body does not parse: %v", err)
	}
	if dec.More() {
		return errors.New("the JSON body holds more than one value")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return errors.New("the JSON body must be an object of parameters")
	}
	for k, val := range obj {
		if err := flattenJSON(k, val, p, 1); err != nil {
			return err
		}
	}
	return nil
}

func flattenJSON(name string, v any, p params, depth int) error {
	if depth > maxJSONDepth {
		return fmt.Errorf("the JSON body nests deeper than %d levels", maxJSONDepth)
	}
	switch v := v.(type) {
	case nil:
	case map[string]any:
		for k, val := range v {
			if err := flattenJSON(name+"."+k, val, p, depth+1); err != nil {
				return err
			}
		}
	case []any:
		for i, val := range v {
			if err := flattenJSON(name+"."+strconv.Itoa(i+1), val, p, depth+1); err != nil {
				return err
			}
		}
	case string:
		p[name] = v
	case json.Number:
		p[name] = v.String()
	case bool:
		p[name] = strconv.FormatBool(v)
	}
	return nil
}
