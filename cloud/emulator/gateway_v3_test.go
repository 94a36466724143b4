package emulator

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestV3DocumentedVector checks the v3 canonicalisation and signer against
// the fixed example of the "V3 request structure and signature" page, then
// sends that very request to an emulator holding the example's credentials
// at the example's time: it passes the gateway and only then fails, as
// RunInstances is not an emulated action.
func TestV3DocumentedVector(t *testing.T) {
	t.Parallel()
	const (
		query     = "ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai"
		date      = "2023-10-26T10:22:32Z"
		emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
		wantHash  = "7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259"
		wantSig   = "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
		signed    = "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version"
	)
	newRequest := func() *http.Request {
		r := httptest.NewRequest("POST", "http://ecs.cn-shanghai.aliyuncs.com/?"+query, nil)
		r.Header.Set("x-acs-action", "RunInstances")
		r.Header.Set("x-acs-version", "2014-05-26")
		r.Header.Set("x-acs-date", date)
		r.Header.Set("x-acs-signature-nonce", "3156853299f313e23d1673dc12e1703d")
		r.Header.Set("x-acs-content-sha256", emptyHash)
		return r
	}
	canonical := canonicalRequestV3(newRequest(), strings.Split(signed, ";"), sha256Hex(nil))
	wantCanonical := "POST\n/\n" + query + "\n" +
		"host:ecs.cn-shanghai.aliyuncs.com\nx-acs-action:RunInstances\nx-acs-content-sha256:" + emptyHash +
		"\nx-acs-date:" + date + "\nx-acs-signature-nonce:3156853299f313e23d1673dc12e1703d\nx-acs-version:2014-05-26\n\n" +
		signed + "\n" + emptyHash
	if canonical != wantCanonical {
		t.Fatalf("canonical request\n got %q\nwant %q", canonical, wantCanonical)
	}
	sts := stringToSignV3(canonical)
	if sts != "ACS3-HMAC-SHA256\n"+wantHash {
		t.Fatalf("string to sign %q", sts)
	}
	if got := signV3(sts, "YourAccessKeySecret"); got != wantSig {
		t.Fatalf("signature %s, want %s", got, wantSig)
	}

	at, _ := time.Parse(time.RFC3339, date)
	emu, err := New(Options{
		Seed:        loadTestSeed(t),
		Credentials: Credentials{AccessKeyID: "YourAccessKeyId", AccessKeySecret: "YourAccessKeySecret"},
		Now:         func() time.Time { return at },
	})
	if err != nil {
		t.Fatal(err)
	}
	r := newRequest()
	r.Header.Set("Authorization", "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders="+signed+",Signature="+wantSig)
	rec := httptest.NewRecorder()
	emu.ServeHTTP(rec, r)
	if body := rec.Body.String(); rec.Code != 404 || !strings.Contains(body, `"Code":"InvalidAction.NotFound"`) {
		t.Fatalf("the documented request: %d %s", rec.Code, body)
	}
}

// v3Signer signs requests the way the v3 documentation describes, written
// here independently of the emulator's verifier.
type v3Signer struct {
	id, secret, token string
	now               func() time.Time
	nonce             atomic.Int64
}

// v3Request is a request to sign: the action, the query, and an optional
// body with its content type.
type v3Request struct {
	method, action string
	query          url.Values
	body           string
	contentType    string
	// edit runs after the headers are set and before signing; tamper after.
	edit, tamper func(r *http.Request)
	// signedHeaders, when set, replaces the list the signer computes.
	signedHeaders []string
}

func rfc3986(s string) string {
	s = url.QueryEscape(s)
	s = strings.ReplaceAll(s, "+", "%20")
	s = strings.ReplaceAll(s, "*", "%2A")
	return strings.ReplaceAll(s, "%7E", "~")
}

func (h *v3Signer) canonical(r *http.Request, signed []string, payload string) string {
	var pairs []string
	q := r.URL.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		vs := append([]string(nil), q[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			pairs = append(pairs, rfc3986(k)+"="+rfc3986(v))
		}
	}
	var headers strings.Builder
	for _, name := range signed {
		v := r.Header.Get(name)
		if name == "host" {
			v = r.Host
		}
		headers.WriteString(name + ":" + strings.TrimSpace(v) + "\n")
	}
	return strings.Join([]string{r.Method, "/", strings.Join(pairs, "&"), headers.String(), strings.Join(signed, ";"), payload}, "\n")
}

func (h *v3Signer) request(t *testing.T, srv *Server, req v3Request) *http.Request {
	t.Helper()
	method := req.method
	if method == "" {
		method = "POST"
	}
	r, err := http.NewRequest(method, srv.URL+"/?"+req.query.Encode(), strings.NewReader(req.body))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(req.body))
	r.Header.Set("x-acs-action", req.action)
	r.Header.Set("x-acs-version", "2014-05-26")
	r.Header.Set("x-acs-date", h.now().UTC().Format("2006-01-02T15:04:05Z"))
	r.Header.Set("x-acs-signature-nonce", fmt.Sprintf("v3-nonce-%d-%d", time.Now().UnixNano(), h.nonce.Add(1)))
	r.Header.Set("x-acs-content-sha256", hex.EncodeToString(sum[:]))
	if req.contentType != "" {
		r.Header.Set("Content-Type", req.contentType)
	}
	if h.token != "" {
		r.Header.Set("x-acs-security-token", h.token)
	}
	if req.edit != nil {
		req.edit(r)
	}
	signed := req.signedHeaders
	if signed == nil {
		signed = []string{"host"}
		for name := range r.Header {
			if l := strings.ToLower(name); strings.HasPrefix(l, "x-acs-") || l == "content-type" {
				signed = append(signed, l)
			}
		}
		sort.Strings(signed)
	}
	sts := "ACS3-HMAC-SHA256\n" + fmt.Sprintf("%x", sha256.Sum256([]byte(h.canonical(r, signed, r.Header.Get("x-acs-content-sha256")))))
	mac := hmac.New(sha256.New, []byte(h.secret))
	mac.Write([]byte(sts))
	r.Header.Set("Authorization", fmt.Sprintf("ACS3-HMAC-SHA256 Credential=%s,SignedHeaders=%s,Signature=%x", h.id, strings.Join(signed, ";"), mac.Sum(nil)))
	if req.tamper != nil {
		req.tamper(r)
	}
	return r
}

// do sends a request and decodes its answer, checking that an error body
// has the five string fields the SDKs read.
func doRaw(t *testing.T, r *http.Request) rawResponse {
	t.Helper()
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("response is not JSON: %q", data)
	}
	if resp.StatusCode >= 400 {
		for _, f := range []string{"RequestId", "HostId", "Code", "Message", "Recommend"} {
			if _, ok := out[f].(string); !ok {
				t.Errorf("error body field %s is %T, want string: %v", f, out[f], out)
			}
		}
	}
	return rawResponse{resp.StatusCode, out}
}

func (r rawResponse) message() string { s, _ := r.body["Message"].(string); return s }

func TestV3SignedRequests(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, Options{})
	h := &v3Signer{id: e.srv.Credentials.AccessKeyID, secret: e.srv.Credentials.AccessKeySecret, now: time.Now}
	region := url.Values{"RegionId": {"cn-hangzhou"}}

	t.Run("query parameters", func(t *testing.T) {
		r := doRaw(t, h.request(t, e.srv, v3Request{action: "DescribeKeyPairs", query: url.Values{"RegionId": {"cn-hangzhou"}, "KeyPairName": {"a b*~"}}}))
		if r.status != 200 {
			t.Fatalf("%d %v", r.status, r.body)
		}
	})
	t.Run("GET", func(t *testing.T) {
		if r := doRaw(t, h.request(t, e.srv, v3Request{method: "GET", action: "DescribeRegions"})); r.status != 200 {
			t.Fatalf("%d %v", r.status, r.body)
		}
	})
	t.Run("form body", func(t *testing.T) {
		form := url.Values{"KeyPairName": {"v3-form"}, "Tag.1.Key": {"env"}, "Tag.1.Value": {"dev test"}}
		r := doRaw(t, h.request(t, e.srv, v3Request{action: "CreateKeyPair", query: region,
			body: form.Encode(), contentType: "application/x-www-form-urlencoded"}))
		if r.status != 200 || r.body["KeyPairName"] != "v3-form" {
			t.Fatalf("%d %v", r.status, r.body)
		}
		kp := e.snapshot().KeyPairs[0]
		if kp.KeyPairName != "v3-form" || len(kp.Tags) != 1 || kp.Tags[0] != (Tag{"env", "dev test"}) {
			t.Errorf("stored %+v", kp)
		}
	})
	t.Run("JSON body", func(t *testing.T) {
		body := `{"RegionId":"cn-hangzhou","KeyPairName":"v3-json","Tag":[{"Key":"team","Value":"web"},{"Key":"n","Value":""}]}`
		r := doRaw(t, h.request(t, e.srv, v3Request{action: "CreateKeyPair", body: body, contentType: "application/json; charset=utf-8"}))
		if r.status != 200 {
			t.Fatalf("%d %v", r.status, r.body)
		}
		var found bool
		for _, kp := range e.snapshot().KeyPairs {
			if kp.KeyPairName == "v3-json" {
				found = len(kp.Tags) == 2 && kp.Tags[0] == (Tag{"team", "web"}) && kp.Tags[1] == (Tag{"n", ""})
			}
		}
		if !found {
			t.Errorf("the JSON body's key pair and tags were not stored: %+v", e.snapshot().KeyPairs)
		}
	})

	for _, tc := range []struct {
		name   string
		req    v3Request
		status int
		code   string
		// inMessage is a part of the message, when the message matters.
		inMessage string
	}{
		{"query changed after signing", v3Request{action: "DescribeKeyPairs", query: region, tamper: func(r *http.Request) {
			r.URL.RawQuery = "RegionId=cn-shanghai"
		}}, 400, "SignatureDoesNotMatch", "server CanonicalRequest is [POST\n/\nRegionId=cn-shanghai\n"},
		{"form body changed after signing", v3Request{action: "CreateKeyPair", query: region, body: "KeyPairName=one",
			contentType: "application/x-www-form-urlencoded", tamper: func(r *http.Request) {
				r.Body, r.ContentLength = io.NopCloser(strings.NewReader("KeyPairName=two")), 15
			}}, 400, "SignatureDoesNotMatch", "x-acs-content-sha256"},
		{"body and its hash changed after signing", v3Request{action: "CreateKeyPair", query: region, body: "KeyPairName=one",
			contentType: "application/x-www-form-urlencoded", tamper: func(r *http.Request) {
				r.Body, r.ContentLength = io.NopCloser(strings.NewReader("KeyPairName=two")), 15
				r.Header.Set("x-acs-content-sha256", fmt.Sprintf("%x", sha256.Sum256([]byte("KeyPairName=two"))))
			}}, 400, "SignatureDoesNotMatch", "server StringToSign is [ACS3-HMAC-SHA256\n"},
		{"JSON body changed after signing", v3Request{action: "CreateKeyPair", body: `{"RegionId":"cn-hangzhou","KeyPairName":"one"}`,
			contentType: "application/json", tamper: func(r *http.Request) {
				b := `{"RegionId":"cn-hangzhou","KeyPairName":"owt"}`
				r.Body, r.ContentLength = io.NopCloser(strings.NewReader(b)), int64(len(b))
			}}, 400, "SignatureDoesNotMatch", ""},
		{"action header changed after signing", v3Request{action: "DescribeRegions", tamper: func(r *http.Request) {
			r.Header.Set("x-acs-action", "DescribeKeyPairs")
		}}, 400, "SignatureDoesNotMatch", ""},
		{"content type changed after signing", v3Request{action: "CreateKeyPair", query: region, body: "KeyPairName=ct",
			contentType: "application/x-www-form-urlencoded", tamper: func(r *http.Request) {
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
			}}, 400, "SignatureDoesNotMatch", ""},
		{"wrong secret", v3Request{action: "DescribeRegions", tamper: func(r *http.Request) {
			auth := r.Header.Get("Authorization")
			r.Header.Set("Authorization", auth[:len(auth)-64]+strings.Repeat("0", 64))
		}}, 400, "SignatureDoesNotMatch", ""},
		{"x-acs-content-sha256 not the body's", v3Request{action: "DescribeRegions", edit: func(r *http.Request) {
			r.Header.Set("x-acs-content-sha256", strings.Repeat("ab", 32))
		}}, 400, "SignatureDoesNotMatch", "x-acs-content-sha256"},
		{"x-acs-content-sha256 in upper case", v3Request{action: "DescribeRegions", edit: func(r *http.Request) {
			r.Header.Set("x-acs-content-sha256", strings.ToUpper(r.Header.Get("x-acs-content-sha256")))
		}}, 400, "SignatureDoesNotMatch", "x-acs-content-sha256"},
		{"date 16 minutes old", v3Request{action: "DescribeRegions", edit: func(r *http.Request) {
			r.Header.Set("x-acs-date", time.Now().Add(-16*time.Minute).UTC().Format("2006-01-02T15:04:05Z"))
		}}, 400, "InvalidTimeStamp.Expired", "x-acs-date"},
		{"date 16 minutes ahead", v3Request{action: "DescribeRegions", edit: func(r *http.Request) {
			r.Header.Set("x-acs-date", time.Now().Add(16*time.Minute).UTC().Format("2006-01-02T15:04:05Z"))
		}}, 400, "InvalidTimeStamp.Expired", ""},
		{"date not ISO 8601 UTC", v3Request{action: "DescribeRegions", edit: func(r *http.Request) {
			r.Header.Set("x-acs-date", time.Now().Format(time.RFC1123))
		}}, 400, "IllegalTimestamp", "x-acs-date"},
		{"unknown AccessKey", v3Request{action: "DescribeRegions", tamper: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "Credential="+h.id, "Credential=LTAInobody", 1))
		}}, 404, "InvalidAccessKeyId.NotFound", ""},
		{"no Credential", v3Request{action: "DescribeRegions", tamper: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "Credential="+h.id+",", "", 1))
		}}, 400, "IncompleteSignature", "Credential"},
		{"no SignedHeaders", v3Request{action: "DescribeRegions", tamper: func(r *http.Request) {
			auth := r.Header.Get("Authorization")
			i, j := strings.Index(auth, "SignedHeaders="), strings.Index(auth, ",Signature=")
			r.Header.Set("Authorization", auth[:i]+auth[j+1:])
		}}, 400, "IncompleteSignature", "SignedHeaders"},
		{"no Signature", v3Request{action: "DescribeRegions", tamper: func(r *http.Request) {
			auth := r.Header.Get("Authorization")
			r.Header.Set("Authorization", auth[:strings.Index(auth, ",Signature=")])
		}}, 400, "IncompleteSignature", "Signature"},
		{"empty Authorization", v3Request{action: "DescribeRegions", tamper: func(r *http.Request) {
			r.Header.Set("Authorization", "")
		}}, 400, "IncompleteSignature", ""},
		{"another algorithm", v3Request{action: "DescribeRegions", tamper: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "ACS3-HMAC-SHA256", "ACS3-HMAC-SM3", 1))
		}}, 400, "IncompleteSignature", "ACS3-HMAC-SM3"},
		{"host not signed", v3Request{action: "DescribeRegions", signedHeaders: []string{"x-acs-action", "x-acs-content-sha256", "x-acs-date", "x-acs-signature-nonce", "x-acs-version"}},
			400, "IncompleteSignature", "host"},
		{"an x-acs header not signed", v3Request{action: "DescribeRegions", signedHeaders: []string{"host", "x-acs-action", "x-acs-content-sha256", "x-acs-date", "x-acs-version"}},
			400, "IncompleteSignature", "x-acs-signature-nonce"},
		{"x-acs header added after signing", v3Request{action: "DescribeRegions", tamper: func(r *http.Request) {
			r.Header.Set("x-acs-extra", "1")
		}}, 400, "IncompleteSignature", "x-acs-extra"},
		{"signed header absent", v3Request{action: "DescribeRegions", signedHeaders: []string{"host", "x-acs-action", "x-acs-content-sha256", "x-acs-date", "x-acs-nothing", "x-acs-signature-nonce", "x-acs-version"}},
			400, "IncompleteSignature", "x-acs-nothing"},
		{"no x-acs-date", v3Request{action: "DescribeRegions", edit: func(r *http.Request) { r.Header.Del("x-acs-date") }}, 400, "MissingParameter", "x-acs-date"},
		{"no x-acs-signature-nonce", v3Request{action: "DescribeRegions", edit: func(r *http.Request) { r.Header.Del("x-acs-signature-nonce") }}, 400, "MissingParameter", "x-acs-signature-nonce"},
		{"no x-acs-content-sha256", v3Request{action: "DescribeRegions", edit: func(r *http.Request) { r.Header.Del("x-acs-content-sha256") }}, 400, "MissingParameter", ""},
		{"no x-acs-action", v3Request{action: "", edit: func(r *http.Request) { r.Header.Del("x-acs-action") }}, 400, "MissingParameter", "x-acs-action"},
		{"wrong version", v3Request{action: "DescribeRegions", edit: func(r *http.Request) { r.Header.Set("x-acs-version", "2016-03-14") }}, 400, "InvalidVersion", ""},
		{"unknown action", v3Request{action: "RebootEverything"}, 404, "InvalidAction.NotFound", ""},
		{"a rule of the action", v3Request{action: "CreateKeyPair", query: url.Values{"RegionId": {"cn-hangzhou"}, "KeyPairName": {"1bad"}}}, 400, "InvalidKeyPairName.Malformed", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.snapshot()
			r := doRaw(t, h.request(t, e.srv, tc.req))
			if r.status != tc.status || r.code() != tc.code {
				t.Fatalf("got %d %s, want %d %s: %v", r.status, r.code(), tc.status, tc.code, r.body)
			}
			if !strings.Contains(r.message(), tc.inMessage) {
				t.Errorf("message %q lacks %q", r.message(), tc.inMessage)
			}
			e.assertUnchanged(before)
		})
	}

	t.Run("the canonical request quoted back is the client's", func(t *testing.T) {
		req := h.request(t, e.srv, v3Request{action: "DescribeRegions", tamper: func(r *http.Request) {
			r.Header.Set("x-acs-version", "2014-05-26 ") // trimmed: same canonical request
			auth := r.Header.Get("Authorization")
			r.Header.Set("Authorization", auth[:len(auth)-64]+strings.Repeat("1", 64))
		}})
		signed := []string{"host", "x-acs-action", "x-acs-content-sha256", "x-acs-date", "x-acs-signature-nonce", "x-acs-version"}
		want := h.canonical(req, signed, req.Header.Get("x-acs-content-sha256"))
		r := doRaw(t, req)
		if !strings.Contains(r.message(), "server CanonicalRequest is ["+want+"]") {
			t.Errorf("message %q\ndoes not quote %q", r.message(), want)
		}
	})
	t.Run("nonce reused", func(t *testing.T) {
		req := h.request(t, e.srv, v3Request{action: "DescribeRegions"})
		again := req.Clone(req.Context())
		if r := doRaw(t, req); r.status != 200 {
			t.Fatalf("first: %d %v", r.status, r.body)
		}
		if r := doRaw(t, again); r.status != 400 || r.code() != "SignatureNonceUsed" {
			t.Fatalf("replay: %d %v", r.status, r.body)
		}
	})
	t.Run("nonce of a v1 request reused by v3", func(t *testing.T) {
		v1 := &handSigner{id: h.id, secret: h.secret, now: time.Now()}
		v := v1.params("DescribeRegions", nil)
		v1.sign("GET", v)
		if r := send(t, e.srv, "GET", v, nil); r.status != 200 {
			t.Fatalf("v1: %d %v", r.status, r.body)
		}
		req := h.request(t, e.srv, v3Request{action: "DescribeRegions", edit: func(r *http.Request) {
			r.Header.Set("x-acs-signature-nonce", v.Get("SignatureNonce"))
		}})
		if r := doRaw(t, req); r.code() != "SignatureNonceUsed" {
			t.Fatalf("v3 with the v1 nonce: %d %v", r.status, r.body)
		}
	})
}

func TestV3SecurityToken(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, Options{Credentials: Credentials{AccessKeyID: "STS.test", AccessKeySecret: "s3cret", SecurityToken: "token-123"}})
	for _, tc := range []struct {
		token, code string
	}{
		{"token-123", ""},
		{"", "MissingSecurityToken"},
		{"token-999", "InvalidSecurityToken.Mismatch"},
	} {
		h := &v3Signer{id: "STS.test", secret: "s3cret", token: tc.token, now: time.Now}
		r := doRaw(t, h.request(t, e.srv, v3Request{action: "DescribeRegions"}))
		if tc.code == "" && r.status != 200 || tc.code != "" && (r.status != 400 || r.code() != tc.code) {
			t.Errorf("token %q: %d %v, want %q", tc.token, r.status, r.body, tc.code)
		}
	}
	// A mismatch quotes the canonical request without the token.
	h := &v3Signer{id: "STS.test", secret: "wrong", token: "token-123", now: time.Now}
	r := doRaw(t, h.request(t, e.srv, v3Request{action: "DescribeRegions"}))
	if r.code() != "SignatureDoesNotMatch" || strings.Contains(r.message(), "token-123") || !strings.Contains(r.message(), "x-acs-security-token:<redacted>") {
		t.Errorf("%d %v", r.status, r.body)
	}
}
