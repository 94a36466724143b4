package emulator

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
)

// TestDocumentedSignatureVector checks the signer against the example in the
// API documentation.
func TestDocumentedSignatureVector(t *testing.T) {
	t.Parallel()
	params := map[string]string{
		"AccessKeyId":      "testid",
		"Action":           "DescribeRegions",
		"Format":           "XML",
		"SignatureMethod":  "HMAC-SHA1",
		"SignatureNonce":   "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
		"SignatureVersion": "1.0",
		"Timestamp":        "2016-02-23T12:46:24Z",
		"Version":          "2014-05-26",
	}
	const wantSTS = "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26"
	sts := StringToSign("GET", params)
	if sts != wantSTS {
		t.Fatalf("string to sign\n got %s\nwant %s", sts, wantSTS)
	}
	if got := Sign(sts, "testsecret"); got != "OLeaidS1JvxuMvnyHOwuJ+uX5qY=" {
		t.Errorf("signature %s, want OLeaidS1JvxuMvnyHOwuJ+uX5qY=", got)
	}
}

// handSigner signs requests the way the documentation describes, written
// here independently of the emulator's own signer.
type handSigner struct {
	id, secret string
	now        time.Time
	nonce      int
}

func (h *handSigner) params(action string, extra map[string]string) url.Values {
	h.nonce++
	v := url.Values{
		"Action":           {action},
		"Version":          {"2014-05-26"},
		"Format":           {"JSON"},
		"AccessKeyId":      {h.id},
		"SignatureMethod":  {"HMAC-SHA1"},
		"SignatureVersion": {"1.0"},
		"SignatureType":    {""},
		"SignatureNonce":   {"hand-" + time.Now().Format("150405.000000000") + "-" + strings.Repeat("n", h.nonce%7) + string(rune('a'+h.nonce%26))},
		"Timestamp":        {h.now.UTC().Format("2006-01-02T15:04:05Z")},
	}
	for k, val := range extra {
		v.Set(k, val)
	}
	return v
}

// stringToSign: sorted "k=v" pairs, each RFC 3986 encoded, joined by '&',
// then encoded again behind "METHOD&%2F&".
func (h *handSigner) stringToSign(method string, v url.Values) string {
	enc := func(s string) string {
		s = url.QueryEscape(s)
		s = strings.ReplaceAll(s, "+", "%20")
		s = strings.ReplaceAll(s, "*", "%2A")
		return strings.ReplaceAll(s, "%7E", "~")
	}
	var keys []string
	for k := range v {
		if k != "Signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var pairs []string
	for _, k := range keys {
		pairs = append(pairs, enc(k)+"="+enc(v.Get(k)))
	}
	return method + "&%2F&" + enc(strings.Join(pairs, "&"))
}

func (h *handSigner) sign(method string, v url.Values) {
	v.Set("Signature", Sign(h.stringToSign(method, v), h.secret))
}

type rawResponse struct {
	status int
	body   map[string]any
}

func (r rawResponse) code() string { s, _ := r.body["Code"].(string); return s }

// send issues a raw request: GET with every parameter in the query, or POST
// with query in the URL and form in the body.
func send(t *testing.T, srv *Server, method string, query, form url.Values) rawResponse {
	t.Helper()
	u := srv.URL + "/?" + query.Encode()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("response is not JSON: %v", err)
	}
	if resp.StatusCode >= 400 {
		// Every field of an error body is a string: the Go SDK panics on
		// anything else in Code.
		for _, f := range []string{"RequestId", "HostId", "Code", "Message", "Recommend"} {
			if _, ok := out[f].(string); !ok {
				t.Errorf("error body field %s is %T, want string: %v", f, out[f], out)
			}
		}
	}
	return rawResponse{resp.StatusCode, out}
}

func TestHandSignedRequests(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, Options{})
	h := &handSigner{id: e.srv.Credentials.AccessKeyID, secret: e.srv.Credentials.AccessKeySecret, now: time.Now()}

	t.Run("GET accepted", func(t *testing.T) {
		v := h.params("DescribeRegions", nil)
		h.sign("GET", v)
		if r := send(t, e.srv, "GET", v, nil); r.status != 200 {
			t.Fatalf("status %d: %v", r.status, r.body)
		}
	})
	t.Run("POST with the form body and query merged", func(t *testing.T) {
		v := h.params("CreateKeyPair", map[string]string{"RegionId": "cn-hangzhou", "KeyPairName": "by-hand"})
		h.sign("POST", v)
		query, form := url.Values{}, url.Values{}
		for k, vals := range v {
			if k == "KeyPairName" || k == "Signature" {
				form[k] = vals
			} else {
				query[k] = vals
			}
		}
		r := send(t, e.srv, "POST", query, form)
		if r.status != 200 || r.body["KeyPairName"] != "by-hand" {
			t.Fatalf("status %d: %v", r.status, r.body)
		}
	})
	t.Run("space sent as '+', '*' and '~' in a value", func(t *testing.T) {
		v := h.params("DescribeKeyPairs", map[string]string{"RegionId": "cn-hangzhou", "KeyPairName": "by hand*~"})
		h.sign("GET", v)
		if !strings.Contains(v.Encode(), "by+hand") {
			t.Fatal("the query does not carry the space as '+'")
		}
		if r := send(t, e.srv, "GET", v, nil); r.status != 200 {
			t.Fatalf("status %d: %v", r.status, r.body)
		}
	})
	t.Run("one parameter changed after signing", func(t *testing.T) {
		v := h.params("DescribeKeyPairs", map[string]string{"RegionId": "cn-hangzhou"})
		h.sign("GET", v)
		v.Set("RegionId", "cn-shanghai")
		r := send(t, e.srv, "GET", v, nil)
		if r.status != 400 || r.code() != "SignatureDoesNotMatch" {
			t.Fatalf("status %d: %v", r.status, r.body)
		}
		want := "server string to sign is:" + h.stringToSign("GET", v)
		if msg, _ := r.body["Message"].(string); !strings.HasSuffix(msg, want) {
			t.Errorf("message %q does not end with %q", msg, want)
		}
	})
	t.Run("signed for GET, sent as POST", func(t *testing.T) {
		v := h.params("DescribeRegions", nil)
		h.sign("GET", v)
		if r := send(t, e.srv, "POST", v, nil); r.code() != "SignatureDoesNotMatch" {
			t.Fatalf("status %d: %v", r.status, r.body)
		}
	})

	for _, tc := range []struct {
		name   string
		edit   func(v url.Values) // before signing
		after  func(v url.Values) // after signing
		status int
		code   string
	}{
		{"unknown AccessKeyId", func(v url.Values) { v.Set("AccessKeyId", "LTAInobody") }, nil, 404, "InvalidAccessKeyId.NotFound"},
		{"wrong secret", nil, func(v url.Values) { v.Set("Signature", Sign(h.stringToSign("GET", v), "wrong")) }, 400, "SignatureDoesNotMatch"},
		{"timestamp 16 minutes old", func(v url.Values) {
			v.Set("Timestamp", time.Now().Add(-16*time.Minute).UTC().Format("2006-01-02T15:04:05Z"))
		}, nil, 400, "InvalidTimeStamp.Expired"},
		{"timestamp 16 minutes ahead", func(v url.Values) {
			v.Set("Timestamp", time.Now().Add(16*time.Minute).UTC().Format("2006-01-02T15:04:05Z"))
		}, nil, 400, "InvalidTimeStamp.Expired"},
		{"timestamp malformed", func(v url.Values) { v.Set("Timestamp", "yesterday") }, nil, 400, "IllegalTimestamp"},
		{"unknown action", func(v url.Values) { v.Set("Action", "RebootEverything") }, nil, 404, "InvalidAction.NotFound"},
		{"wrong version", func(v url.Values) { v.Set("Version", "2016-03-14") }, nil, 400, "InvalidVersion"},
		{"XML format", func(v url.Values) { v.Set("Format", "XML") }, nil, 400, "InvalidParameter"},
		{"HMAC-SHA256", func(v url.Values) { v.Set("SignatureMethod", "HMAC-SHA256") }, nil, 400, "InvalidParameter"},
		{"no Signature", nil, func(v url.Values) { v.Del("Signature") }, 400, "MissingParameter"},
		{"no Timestamp", func(v url.Values) { v.Del("Timestamp") }, nil, 400, "MissingParameter"},
		{"no Action", func(v url.Values) { v.Del("Action") }, nil, 400, "MissingParameter"},
		{"no SignatureNonce", func(v url.Values) { v.Del("SignatureNonce") }, nil, 400, "MissingParameter"},
		{"no RegionId", func(v url.Values) { v.Set("Action", "DescribeKeyPairs") }, nil, 400, "MissingParameter"},
		{"unknown region", func(v url.Values) { v.Set("Action", "DescribeKeyPairs"); v.Set("RegionId", "moon-1") }, nil, 404, "InvalidRegionId.NotFound"},
		{"tag index 0", func(v url.Values) {
			v.Set("Action", "DescribeKeyPairs")
			v.Set("RegionId", "cn-hangzhou")
			v.Set("Tag.0.Key", "k")
		}, nil, 400, "InvalidParameter"},
		{"tag value without key", func(v url.Values) {
			v.Set("Action", "CreateKeyPair")
			v.Set("RegionId", "cn-hangzhou")
			v.Set("KeyPairName", "abc")
			v.Set("Tag.1.Value", "v")
		}, nil, 400, "InvalidTagKey.Malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.snapshot()
			v := h.params("DescribeRegions", nil)
			if tc.edit != nil {
				tc.edit(v)
			}
			h.sign("GET", v)
			if tc.after != nil {
				tc.after(v)
			}
			r := send(t, e.srv, "GET", v, nil)
			if r.status != tc.status || r.code() != tc.code {
				t.Fatalf("got %d %s, want %d %s: %v", r.status, r.code(), tc.status, tc.code, r.body)
			}
			e.assertUnchanged(before)
		})
	}

	t.Run("nonce reused", func(t *testing.T) {
		v := h.params("DescribeRegions", nil)
		h.sign("GET", v)
		if r := send(t, e.srv, "GET", v, nil); r.status != 200 {
			t.Fatalf("first: %d %v", r.status, r.body)
		}
		if r := send(t, e.srv, "GET", v, nil); r.status != 400 || r.code() != "SignatureNonceUsed" {
			t.Fatalf("replay: %d %v", r.status, r.body)
		}
	})
	t.Run("wrong path", func(t *testing.T) {
		v := h.params("DescribeRegions", nil)
		h.sign("GET", v)
		resp, err := http.Get(e.srv.URL + "/admin?" + v.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("status %d", resp.StatusCode)
		}
	})
	t.Run("oversized body", func(t *testing.T) {
		v := h.params("DescribeRegions", nil)
		h.sign("POST", v)
		form := url.Values{"Padding": {strings.Repeat("x", maxBodyBytes+1)}}
		if r := send(t, e.srv, "POST", v, form); r.status != 400 || r.code() != "InvalidParameter" {
			t.Fatalf("got %d %v", r.status, r.body)
		}
	})
}

// TestSDKRecognisesWrongSecret checks that the SignatureDoesNotMatch message
// has the form the SDK parses: it compares the server's string to sign with
// its own and, when they agree, blames the secret.
func TestSDKRecognisesWrongSecret(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, Options{})
	c, err := ecs.NewClientWithAccessKey("cn-hangzhou", e.srv.Credentials.AccessKeyID, "not-the-secret")
	if err != nil {
		t.Fatal(err)
	}
	c.Domain = e.srv.Host
	_, err = c.DescribeRegions(ecs.CreateDescribeRegionsRequest())
	wantAPIError(t, err, "SignatureDoesNotMatch", 400)
	if rec := serverErrorValue(t, err).Recommend(); !strings.Contains(rec, "InvalidAccessKeySecret") {
		t.Errorf("Recommend %q: the SDK did not recognise a wrong secret", rec)
	}
}

func TestSecurityToken(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, Options{Credentials: Credentials{AccessKeyID: "STS.test", AccessKeySecret: "s3cret", SecurityToken: "token-123"}})
	for _, tc := range []struct {
		token string
		code  string
	}{
		{"token-123", ""},
		{"", "MissingSecurityToken"},
		{"token-999", "InvalidSecurityToken.Mismatch"},
	} {
		var c *ecs.Client
		var err error
		if tc.token == "" {
			c, err = ecs.NewClientWithAccessKey("cn-hangzhou", "STS.test", "s3cret")
		} else {
			c, err = ecs.NewClientWithStsToken("cn-hangzhou", "STS.test", "s3cret", tc.token)
		}
		if err != nil {
			t.Fatal(err)
		}
		c.Domain = e.srv.Host
		_, err = c.DescribeRegions(ecs.CreateDescribeRegionsRequest())
		if tc.code == "" {
			if err != nil {
				t.Errorf("token %q: %v", tc.token, err)
			}
			continue
		}
		wantAPIError(t, err, tc.code, 400)
	}
}
