package emulator

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzPublicKeyBody checks the emulator's ImportKeyPair key parsing: no
// panic, and an accepted key's canonical text parses again to the same
// key and fingerprint.
func FuzzPublicKeyBody(f *testing.F) {
	dir := filepath.Join("..", "..", "testdata", "keys")
	entries, err := os.ReadDir(dir)
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		if b, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil {
			f.Add(string(b))
		}
	}
	f.Add("ecdsa-sha2-nistp256 AAAA comment\r\n")
	f.Add("from=\"x\" ssh-rsa AAAA")
	f.Fuzz(func(t *testing.T, body string) {
		pub, canonical, err := parsePublicKeyBody(body)
		if err != nil {
			if len(body) > 80 && strings.Contains(err.Error(), body) {
				t.Fatalf("the error quotes the whole body")
			}
			return
		}
		again, canonical2, err := parsePublicKeyBody(canonical)
		if err != nil || canonical2 != canonical || fingerprintMD5(again) != fingerprintMD5(pub) {
			t.Fatalf("%q: canonical %q does not parse to the same key: %v", body, canonical, err)
		}
	})
}
