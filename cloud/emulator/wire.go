package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

const (
	apiVersion = "2014-05-26"
	// timestampWindow is how far a request's time stamp (v1's Timestamp,
	// v3's x-acs-date) may be from the server's clock, either way.
	timestampWindow = 15 * time.Minute
	// timestampLayout is that time stamp: ISO 8601 in UTC, to the second.
	timestampLayout = "2006-01-02T15:04:05Z"
	// maxBodyBytes bounds a form body. The largest legitimate parameter is a
	// PublicKeyBody of a few kilobytes.
	maxBodyBytes = 1 << 20
)

// params are a request's parameters: the query string and the form body
// merged, the body winning where both name a parameter (as the SDK's signer
// merges them). Each parameter has one value.
type params map[string]string

func (p params) lookup(name string) (string, bool) {
	v, ok := p[name]
	return v, ok
}

func (p params) get(name string) string { return p[name] }

// names returns the parameter names in sorted order, so that the first error
// found is the same on every run.
func (p params) names() []string {
	names := make([]string, 0, len(p))
	for k := range p {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// required returns a parameter that must be present and non-empty.
func (p params) required(name string) (string, *apiError) {
	v := p[name]
	if v == "" {
		return "", errMissingParameter(name)
	}
	return v, nil
}

// integer reads an optional positive integer parameter in [1, max].
func (p params) integer(name string, def, max int) (int, *apiError) {
	v, ok := p[name]
	if !ok || v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, errInvalidParameter(name, fmt.Sprintf("%q is not an integer", v))
	}
	if n < 1 || n > max {
		return 0, errInvalidParameter(name, fmt.Sprintf("%d is out of range; it must be from 1 to %d", n, max))
	}
	return n, nil
}

// boolean reads an optional true/false parameter.
func (p params) boolean(name string) (bool, *apiError) {
	switch v := p[name]; strings.ToLower(v) {
	case "":
		return false, nil
	case "true":
		return true, nil
	case "false":
		return false, nil
	default:
		return false, errInvalidParameter(name, fmt.Sprintf("%q is not true or false", v))
	}
}

// readParams reads a request's body (at most maxBodyBytes, for the v3
// payload hash) and merges the query with the form body; withJSON (v3
// only), a JSON object body is flattened into parameters as the SDKs
// flatten their queries. A parameter given twice in the same place keeps its
// first value.
func readParams(r *http.Request, withJSON bool) ([]byte, params, error) {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBodyBytes))
	r.Body.Close()
	if err != nil {
		return nil, nil, err
	}
	// ParseForm reads the form from the body again, as it did before the
	// body was read here for hashing.
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err := r.ParseForm(); err != nil {
		return nil, nil, err
	}
	p := params{}
	for k, vs := range r.URL.Query() {
		p[k] = vs[0]
	}
	for k, vs := range r.PostForm {
		p[k] = vs[0]
	}
	if withJSON && isJSONBody(r) {
		if err := flattenJSONBody(body, p); err != nil {
			return nil, nil, err
		}
	}
	return body, p, nil
}

// ServeHTTP handles one API request: gateway checks (parameters, version,
// credentials, time stamp, signature, nonce), injected faults, then the action.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	requestID := newRequestID()
	action, status, code := "", http.StatusOK, ""
	defer func() {
		e.log.Info("ecs request", "action", action, "status", status, "code", code,
			"duration", time.Since(start), "requestId", requestID)
	}()

	fail := func(err *apiError) {
		status, code = err.Status, err.Code
		writeError(w, r, requestID, err)
	}
	if r.URL.Path != "/" || (r.Method != http.MethodGet && r.Method != http.MethodPost) {
		fail(errActionNotFound(r.Method + " " + r.URL.Path))
		return
	}
	// A request signed with v3 carries an Authorization header; v1 carries
	// its signature among the parameters.
	v3 := len(r.Header.Values("Authorization")) > 0
	body, p, err := readParams(r, v3)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			fail(errInvalidParameter("body", fmt.Sprintf("the request body exceeds %d bytes", maxBodyBytes)))
		} else {
			fail(errInvalidParameter("body", "the parameters cannot be parsed: "+err.Error()))
		}
		return
	}
	var apiErr *apiError
	if v3 {
		action = r.Header.Get("x-acs-action")
		apiErr = e.authenticateV3(r, body, p)
	} else {
		action = p.get("Action")
		apiErr = e.authenticateV1(r.Method, p)
	}
	if apiErr != nil {
		fail(apiErr)
		return
	}
	handler, ok := e.actions[action]
	if !ok {
		fail(errActionNotFound(action))
		return
	}

	delay, fault := e.faults.draw(action)
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			status, code = 499, "ClientClosedRequest"
			return
		}
	}
	switch fault {
	case faultThrottle:
		fail(errThrottling())
		return
	case faultServiceUnavailable:
		fail(errServiceUnavailable())
		return
	case faultInternal:
		fail(errInternal())
		return
	case faultDrop:
		status, code = 0, "DroppedConnection"
		panic(http.ErrAbortHandler) // net/http closes the connection, silently
	}

	resp, apiErr := handler(&call{e: e, p: p, requestID: requestID})
	if fault == faultDropAfter {
		status, code = 0, "DroppedConnectionAfterAction"
		panic(http.ErrAbortHandler)
	}
	if apiErr != nil {
		fail(apiErr)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// errorBody is the API's error document. Every field is a JSON string: the
// Go SDK panics on a Code of any other JSON type.
type errorBody struct {
	RequestID string `json:"RequestId"`
	HostID    string `json:"HostId"`
	Code      string `json:"Code"`
	Message   string `json:"Message"`
	Recommend string `json:"Recommend"`
}

func writeError(w http.ResponseWriter, r *http.Request, requestID string, err *apiError) {
	writeJSON(w, err.Status, errorBody{
		RequestID: requestID,
		HostID:    r.Host,
		Code:      err.Code,
		Message:   err.Message,
		Recommend: "https://api.aliyun.com/troubleshoot?q=" + err.Code + "&product=Ecs&requestId=" + requestID,
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// Responses are plain structs of strings and numbers; this cannot
		// happen unless a response type is broken.
		panic(fmt.Sprintf("emulator: encoding response: %v", err))
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}
