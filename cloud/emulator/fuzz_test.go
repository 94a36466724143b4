package emulator

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// checkResponse asserts what every answer must be: JSON, and for errors a
// 4xx/5xx status with the five string fields.
func checkResponse(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("status %d, body is not JSON: %q", rec.Code, rec.Body.String())
	}
	if rec.Code == http.StatusOK {
		return
	}
	if rec.Code < 400 {
		t.Fatalf("status %d", rec.Code)
	}
	for _, f := range []string{"RequestId", "HostId", "Code", "Message", "Recommend"} {
		if s, ok := body[f].(string); !ok || (f == "Code" && s == "") {
			t.Fatalf("error field %s = %#v", f, body[f])
		}
	}
}

// FuzzGateway sends arbitrary, mostly unsigned requests: nothing may panic
// and every answer is a well-formed API response.
func FuzzGateway(f *testing.F) {
	f.Add("GET", "Action=DescribeRegions&Version=2014-05-26", "")
	f.Add("POST", "Action=CreateKeyPair", "KeyPairName=a%20b&Tag.1.Key=x")
	f.Add("POST", "", "Signature=%ZZ&&=&Timestamp=2016-02-23T12:46:24Z")
	f.Add("GET", "AccessKeyId=x&Action=DeleteKeyPairs&Signature=x&SignatureMethod=HMAC-SHA1&SignatureNonce=1&SignatureVersion=1.0&Timestamp=2030-01-01T00:00:00Z&Version=2014-05-26", "")
	emu, err := New(Options{Seed: loadTestSeed(f), FastKeys: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, method, query, body string) {
		if method != "GET" && method != "POST" {
			method = "POST"
		}
		req := httptest.NewRequest(method, "http://127.0.0.1/", strings.NewReader(body))
		req.URL.RawQuery = query
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		emu.ServeHTTP(rec, req)
		checkResponse(t, rec)
	})
}

// FuzzActions signs arbitrary action parameters properly, so that every
// input reaches the actions, then checks the state's invariants.
func FuzzActions(f *testing.F) {
	for _, seed := range []string{
		"Action=CreateKeyPair&RegionId=cn-hangzhou&KeyPairName=fuzz1&Tag.1.Key=env&Tag.1.Value=dev",
		"Action=ImportKeyPair&RegionId=cn-hangzhou&KeyPairName=fuzz.2&PublicKeyBody=ssh-rsa+AAAA",
		"Action=DescribeKeyPairs&RegionId=cn-hangzhou&KeyPairName=*u*&PageSize=50&PageNumber=1&IncludePublicKey=true",
		"Action=DeleteKeyPairs&RegionId=cn-hangzhou&KeyPairNames=%5B%22fuzz1%22%5D",
		"Action=AttachKeyPair&RegionId=cn-hangzhou&KeyPairName=fuzz1&InstanceIds=%5B%22i-1%22%5D",
		"Action=DetachKeyPair&RegionId=cn-hangzhou&KeyPairName=fuzz1&InstanceIds=%5B%5D",
		"Action=DescribeInstances&RegionId=cn-hangzhou&Status=Running&InstanceIds=%5B%22i-1%22%5D",
		"Action=DescribeRegions&AcceptLanguage=en-US",
		"Action=DescribeKeyPairs&RegionId=cn-hangzhou&Tag.21.Key=x&Tag.x.Key=y",
		"Action=AttachKeyPair&RegionId=cn-hangzhou&KeyPairName=fuzz1&InstanceIds=%5B%22$ID%22%5D",
		"Action=DetachKeyPair&RegionId=cn-shanghai&KeyPairName=fuzz1&InstanceIds=%5B%22$ID%22%2C%22$ID%22%5D",
		"Action=RebootInstances&RegionId=cn-hangzhou&InstanceId.1=$ID&InstanceId.2=i-nothere000000&BatchOptimization=SuccessFirst",
		"Action=RebootInstances&RegionId=cn-hangzhou&InstanceId.1=$ID&ForceReboot=true&DryRun=false",
		"Action=RebootInstance&InstanceId=$ID&ForceStop=true",
		"Action=DescribeInstances&RegionId=cn-hangzhou&MaxResults=3&NextToken=00",
	} {
		f.Add(seed)
	}
	seed := loadTestSeed(f)
	emu, err := New(Options{Seed: seed, FastKeys: true, KeyPairQuota: 20})
	if err != nil {
		f.Fatal(err)
	}
	creds := emu.Credentials()
	// Real instance IDs make attach and detach reachable.
	var ids []string
	for _, in := range seed.Instances {
		ids = append(ids, in.InstanceID)
	}
	nonce := 0
	f.Fuzz(func(t *testing.T, query string) {
		v, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		p := map[string]string{}
		for k, vals := range v {
			p[k] = vals[0]
		}
		for k, v := range p {
			if strings.Contains(v, "$ID") {
				p[k] = strings.ReplaceAll(v, "$ID", ids[len(query)%len(ids)])
			}
		}
		nonce++
		for k, val := range map[string]string{
			"Version": "2014-05-26", "Format": "JSON", "AccessKeyId": creds.AccessKeyID,
			"SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0", "SignatureType": "",
			"SignatureNonce": "fuzz-" + strconv.Itoa(nonce),
			"Timestamp":      time.Now().UTC().Format(timestampLayout),
		} {
			p[k] = val
		}
		p["Signature"] = Sign(StringToSign("GET", p), creds.AccessKeySecret)
		q := url.Values{}
		for k, val := range p {
			q.Set(k, val)
		}
		req := httptest.NewRequest("GET", "http://127.0.0.1/?"+q.Encode(), nil)
		rec := httptest.NewRecorder()
		emu.ServeHTTP(rec, req)
		checkResponse(t, rec)
		checkInvariants(t, emu)
	})
}

// checkInvariants holds after every request, whatever it was.
func checkInvariants(t *testing.T, emu *Emulator) {
	t.Helper()
	s, err := emu.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	perRegion := map[string]int{}
	for _, kp := range s.KeyPairs {
		id := kp.RegionID + "/" + kp.KeyPairName
		if names[id] {
			t.Fatalf("duplicate key pair %s", id)
		}
		names[id] = true
		perRegion[kp.RegionID]++
		if checkKeyPairName(kp.KeyPairName, true) != nil || kp.FingerPrint == "" || kp.PublicKey == "" {
			t.Fatalf("stored key pair breaks the rules: %+v", kp)
		}
	}
	for region, n := range perRegion {
		if n > emu.quota {
			t.Fatalf("region %s holds %d key pairs, over the quota %d", region, n, emu.quota)
		}
	}
	for _, in := range s.Instances {
		if in.KeyPairName != "" && !names[in.RegionID+"/"+in.KeyPairName] {
			t.Fatalf("instance %s is bound to missing key pair %q", in.InstanceID, in.KeyPairName)
		}
		if in.KeyPairName != "" && in.OSType == "windows" {
			t.Fatalf("windows instance %s carries a key pair", in.InstanceID)
		}
		if in.Reboot != nil && in.Status != "Stopping" && in.Status != "Starting" {
			t.Fatalf("rebooting instance %s is %s", in.InstanceID, in.Status)
		}
	}
}
