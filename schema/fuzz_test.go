package schema

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// bindAndValidate binds raw into T and validates it, as the tools do, and
// checks what holds whatever the input: no panic, every failure an *Error
// with a code and a message, and valid arguments bind again to the same
// value once marshalled (as JSON: an empty list and an absent one are the
// same argument).
func bindAndValidate[T any, P interface {
	*T
	Validate() error
}](t *testing.T, raw string) {
	in, err := Bind[T](json.RawMessage(raw))
	if err == nil {
		err = P(&in).Validate()
	}
	if err != nil {
		var e *Error
		if !errors.As(err, &e) || e.Code == "" || e.Message == "" {
			t.Fatalf("%q: error %T %v, want an *Error with a code and a message", raw, err, err)
		}
		return
	}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatalf("%q: valid arguments do not marshal: %v", raw, err)
	}
	again, err := Bind[T](b)
	if err != nil {
		t.Fatalf("%q: valid arguments %s do not bind again: %v", raw, b, err)
	}
	if b2, _ := json.Marshal(again); string(b2) != string(b) {
		t.Fatalf("%q: valid arguments %s bind again as %s", raw, b, b2)
	}
}

// tools lists every tool's input checks, by index.
var toolInputs = []func(*testing.T, string){
	bindAndValidate[DescribeRegionsInput],
	bindAndValidate[DescribeInstancesInput],
	bindAndValidate[DescribeKeyPairsInput],
	bindAndValidate[CreateKeyPairInput],
	bindAndValidate[ImportKeyPairInput],
	bindAndValidate[DeleteKeyPairsInput],
	bindAndValidate[BindKeyPairInput],
}

// FuzzBindValidate feeds arbitrary arguments to every tool's binding and
// validation.
func FuzzBindValidate(f *testing.F) {
	rsa, err := os.ReadFile(filepath.Join("..", "testdata", "keys", "rsa2048.pub"))
	if err != nil {
		f.Fatal(err)
	}
	body, _ := json.Marshal(strings.TrimSpace(string(rsa)))
	for i, raw := range []string{
		`{}`,
		`{"regionId":"cn-hangzhou","instanceIds":["i-bp1abc"],"status":"Running","pageNumber":1,"pageSize":10}`,
		`{"regionId":"cn-hangzhou","keyPairName":"web*","includePublicKey":true,"tags":[{"key":"env","value":"dev"}]}`,
		`{"regionId":"cn-hangzhou","keyPairName":"demo","resourceGroupId":"rg-acfm","tags":[{"key":"a","value":""}]}`,
		`{"regionId":"cn-hangzhou","keyPairName":"laptop.key","publicKeyBody":` + string(body) + `}`,
		`{"regionId":"cn-hangzhou","keyPairNames":["a1","b2"],"confirm":true}`,
		`{"regionId":"cn-hangzhou","keyPairName":"demo","instanceIds":["i-1","i-1"],"confirm":false}`,
	} {
		f.Add(uint8(i), raw)
		f.Add(uint8(i+1), raw) // another tool's arguments
	}
	f.Add(uint8(2), `{"RegionId":1.5e300,"pageSize":10.0,"tags":null}`)
	f.Add(uint8(3), `{"regionId":"cn-hangzhou","keyPairName":"\u00e9t\u00e9","tags":[{"key":"aliyun:x"}]}`)
	f.Fuzz(func(t *testing.T, tool uint8, raw string) {
		toolInputs[int(tool)%len(toolInputs)](t, raw)
	})
}

// FuzzPublicKeyBody checks publicKeyBody validation: no panic, a coded
// error, never an accepted private key, and the key files of every
// supported type accepted.
func FuzzPublicKeyBody(f *testing.F) {
	dir := filepath.Join("..", "testdata", "keys")
	entries, err := os.ReadDir(dir)
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		if b, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil {
			f.Add(string(b))
		}
	}
	f.Add("ssh-rsa")
	f.Add("ssh-rsa AAAAB3NzaC1yc2E=")
	f.Add("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----")
	f.Fuzz(func(t *testing.T, body string) {
		err := checkPublicKeyBody(body)
		if err == nil {
			if strings.Contains(strings.ToUpper(body), "PRIVATE KEY") {
				t.Fatalf("a private key was accepted: %q", body)
			}
			return
		}
		var e *Error
		if !errors.As(err, &e) || e.Code == "" {
			t.Fatalf("%q: error %T %v", body, err, err)
		}
		if len(body) > 64 && strings.Contains(e.Message, body) {
			t.Fatalf("the error quotes the whole body")
		}
	})
}
