package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud/emulator"
)

// holdAfter applies every CreateKeyPair at once and then holds its answer
// until the client goes away: a server killed meanwhile leaves a key pair
// whose private key nobody received.
type holdAfter struct {
	emu     *emulator.Emulator
	arrived chan struct{}
}

func (h holdAfter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	if r.Form.Get("Action") != "CreateKeyPair" {
		h.emu.ServeHTTP(w, r)
		return
	}
	h.emu.ServeHTTP(httptest.NewRecorder(), r)
	h.arrived <- struct{}{}
	<-r.Context().Done()
}

// A server killed while creates are in flight leaves reserved key files
// behind; the next start reconciles them: the reservation of a key pair
// that was never created is removed, so that it no longer blocks the name;
// a key pair that was created without its private key is reported on
// stderr and in the audit log, with what to do.
func TestStartReconcilesAKilledCreate(t *testing.T) {
	t.Parallel()
	var hold holdAfter
	_, srv, env := fakeCloud(t, emulator.FaultPlan{}, func(emu *emulator.Emulator) http.Handler {
		hold = holdAfter{emu: emu, arrived: make(chan struct{}, 1)}
		return hold
	})
	dir := t.TempDir()
	keys, audit := filepath.Join(dir, "keys"), filepath.Join(dir, "audit.log")
	args := []string{"--endpoint", srv.URL, "--private-key-dir", keys, "--audit-log", audit}

	p := startServer(t, env, args...)
	p.send(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"create_key_pair","arguments":{"regionId":"cn-hangzhou","keyPairName":"landed"}}}`)
	select {
	case <-hold.arrived:
	case <-time.After(10 * time.Second):
		t.Fatalf("no CreateKeyPair reached the cloud; stderr:\n%s", p.stderr.String())
	}
	// A file of a key pair that was never created, as a kill before the
	// create went out leaves it.
	reserved, err := os.ReadFile(filepath.Join(keys, "landed.cn-hangzhou.pem"))
	if err != nil || !strings.HasPrefix(string(reserved), "# ecs-keypair-mcp reserved this file") {
		t.Fatalf("no reservation while the create is in flight: %q, %v", reserved, err)
	}
	ghost := strings.ReplaceAll(string(reserved), `"landed"`, `"ghost"`)
	if err := os.WriteFile(filepath.Join(keys, "ghost.cn-hangzhou.pem"), []byte(ghost), 0o600); err != nil {
		t.Fatal(err)
	}
	p.cmd.Process.Kill()
	<-p.exited

	next := startServer(t, env, args...)
	stderr := next.stderr.waitFor(t, "the key pair exists without its private key")
	if !strings.Contains(stderr, "keyPairName=landed") || !strings.Contains(stderr, "delete_key_pairs") {
		t.Errorf("stderr at start-up:\n%s", stderr)
	}
	for name, want := range map[string]bool{"landed.cn-hangzhou.pem": false, "ghost.cn-hangzhou.pem": false} {
		if _, err := os.Stat(filepath.Join(keys, name)); (err == nil) != want {
			t.Errorf("%s: exists %v, want %v", name, err == nil, want)
		}
	}
	log, _ := os.ReadFile(audit)
	lines := strings.Split(strings.TrimSpace(string(log)), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"event":"intent","tool":"create_key_pair"`) ||
		!strings.Contains(lines[1], `"event":"found","tool":"create_key_pair","region":"cn-hangzhou","items":["landed"],"executed":true`) {
		t.Errorf("audit log:\n%s", log)
	}
}
