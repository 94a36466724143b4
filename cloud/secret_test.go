package cloud

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud/emulator"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
)

func TestPrivateKeyRedaction(t *testing.T) {
	const pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEsecretsecret\n-----END RSA PRIVATE KEY-----\n"
	k := CreatedKeyPair{KeyPairID: "ssh-abc", KeyPairName: "n", KeyPairFingerPrint: "aa:bb", RequestID: "R", PrivateKeyPEM: PrivateKey(pem)}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "created", k, "key", k.PrivateKeyPEM)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("x", "created", k, "key", k.PrivateKeyPEM)
	js, err := json.Marshal(k)
	if err != nil {
		t.Fatal(err)
	}
	renders := []string{
		fmt.Sprint(k), fmt.Sprintf("%v %+v %#v %s %q %x %X", k, k, k, k, k, k, k),
		fmt.Sprintf("%v %+v %#v %s %q %x %X", k.PrivateKeyPEM, k.PrivateKeyPEM, k.PrivateKeyPEM, k.PrivateKeyPEM, k.PrivateKeyPEM, k.PrivateKeyPEM, k.PrivateKeyPEM),
		fmt.Sprintf("%v %+v", &k, []CreatedKeyPair{k}), fmt.Sprintf("%+v", struct{ K CreatedKeyPair }{k}),
		k.String(), k.GoString(), string(js), logs.String(),
	}
	for _, r := range renders {
		if strings.Contains(r, "MIIE") || strings.Contains(r, "PRIVATE KEY") || strings.Contains(r, "4d494945") {
			t.Errorf("private key rendered: %s", r)
		}
	}
	if !strings.Contains(fmt.Sprintf("%+v", k), "ssh-abc") {
		t.Errorf("String drops the public fields: %v", k)
	}
	// The bytes are still there for the caller to write.
	var buf bytes.Buffer
	buf.Write(k.PrivateKeyPEM)
	if buf.String() != pem {
		t.Errorf("key bytes altered")
	}
	k.PrivateKeyPEM.Wipe()
	if strings.Contains(string(k.PrivateKeyPEM), "MIIE") {
		t.Errorf("Wipe left the key")
	}
}

func TestStaticCredentialsRedaction(t *testing.T) {
	sc := &StaticCredentials{AccessKeyID: "LTAI5tABCDEFGH", AccessKeySecret: "the-secret-value", SecurityToken: "the-sts-token"}
	cfg := Config{Credentials: sc}
	for _, r := range []string{fmt.Sprintf("%v %+v %#v %s", sc, *sc, *sc, *sc), fmt.Sprintf("%+v %#v", cfg, cfg)} {
		if strings.Contains(r, "the-secret") || strings.Contains(r, "the-sts") || strings.Contains(r, "ABCDEFGH") {
			t.Errorf("credentials rendered: %s", r)
		}
	}
}

func TestScrub(t *testing.T) {
	s := &scrubber{}
	s.add("literal-secret-value", "tok+en/with=chars")
	for _, tc := range []struct{ in, leak string }{
		{`Post "http://h/?AccessKeyId=LTAIabc&Signature=abc%3D&SecurityToken=CAIS123": EOF`, "CAIS123"},
		{`Post "http://h/?AccessKeyId=LTAIabc&Signature=abc%3D&SecurityToken=CAIS123": EOF`, "LTAIabc"},
		{`Post "http://h/?AccessKeyId=LTAIabc&Signature=abc%3D&SecurityToken=CAIS123": EOF`, "abc%3D"},
		{`{"access_key_secret": "s3cr3t", "sts_token":"t0k"}`, "s3cr3t"},
		{`{"access_key_secret": "s3cr3t", "sts_token":"t0k"}`, "t0k"},
		{"the secret is literal-secret-value.", "literal-secret-value"},
		{"encoded tok%2Ben%2Fwith%3Dchars here", "tok%2Ben"},
		{"Specified signature is not matched. server string to sign is:POST&%2F&AccessKeyId%3Dx%26SecurityToken%3Dsecrettoken", "secrettoken"},
	} {
		if got := s.clean(tc.in); strings.Contains(got, tc.leak) {
			t.Errorf("clean(%q) = %q, still holds %q", tc.in, got, tc.leak)
		}
	}
}

// Failing and succeeding calls, with debug logging on: neither the
// AccessKey secret, nor the security token, nor a private key appears in an
// error, a log line or a rendering of a result.
func TestNoSecretsInErrorsOrLogs(t *testing.T) {
	const token = "CAIS-sts-token-abcdefghijklmnopqrstuvwxyz"
	seed, linux, _ := instanceSeed(60, 1)
	env := newEnv(t, emulator.Options{Seed: seed, Credentials: emulator.Credentials{SecurityToken: token}})
	c := env.client()
	secret := env.creds.AccessKeySecret
	var seen []string
	record := func(vals ...any) {
		for _, v := range vals {
			seen = append(seen, fmt.Sprintf("%v|%+v|%#v|%s", v, v, v, v))
			if b, err := json.Marshal(v); err == nil {
				seen = append(seen, string(b))
			}
		}
	}
	const region = "cn-hangzhou"

	created, err := c.CreateKeyPair(bg, schema.CreateKeyPairInput{RegionID: region, KeyPairName: "secretive"})
	if err != nil {
		t.Fatal(err)
	}
	pem := string(created.PrivateKeyPEM)
	pemBody := strings.Split(pem, "\n")[1]
	record(created, &created)
	_, err = c.CreateKeyPair(bg, schema.CreateKeyPairInput{RegionID: region, KeyPairName: "secretive"})
	record(err)
	r, ids, err := c.AttachKeyPair(bg, region, "secretive", linux)
	record(r, ids, err)
	for _, f := range []emulator.Faults{{ThrottleRate: 1}, {ServerErrorRate: 1}, {DropRate: 1}, {DropAfterRate: 1}} {
		env.emu.SetFaults(emulator.FaultPlan{Default: f})
		_, err := c.CreateKeyPair(bg, schema.CreateKeyPairInput{RegionID: region, KeyPairName: "again"})
		record(err)
		res, err := c.DeleteKeyPairs(bg, region, []string{"secretive"})
		record(res, err)
	}
	env.emu.SetFaults(emulator.FaultPlan{})

	// Wrong secret (signature error), wrong token, latency and cancel.
	wrong := env.client(func(cfg *Config) { cfg.Credentials.AccessKeySecret = "wrong-secret-0123456789abcdef" })
	_, err = wrong.DescribeKeyPairs(bg, schema.DescribeKeyPairsInput{RegionID: region})
	record(err)
	wrongTok := env.client(func(cfg *Config) { cfg.Credentials.SecurityToken = "CAIS-wrong-token-0123456789" })
	_, err = wrongTok.DescribeRegions(bg)
	record(err)
	env.emu.SetFaults(emulator.FaultPlan{Default: emulator.Faults{Latency: time.Second}})
	short := env.client(func(cfg *Config) { cfg.Timeout = 100 * time.Millisecond })
	_, err = short.DescribeRegions(bg)
	record(err)
	if e := wantError(t, err, CodeRequestTimeout, 0); !e.Retryable {
		t.Errorf("timeout not retryable: %+v", e)
	}
	env.emu.SetFaults(emulator.FaultPlan{})

	logs := env.logs.String()
	if !strings.Contains(logs, "CreateKeyPair") {
		t.Fatalf("no debug logs captured:\n%s", logs)
	}
	seen = append(seen, logs)
	for _, text := range seen {
		for _, bad := range []string{secret, token, "wrong-secret-0123456789abcdef", "CAIS-wrong-token", pemBody, "PRIVATE KEY", "Signature=", "SecurityToken="} {
			if strings.Contains(text, bad) {
				t.Errorf("%q appears in: %s", bad, text)
			}
		}
	}
}
