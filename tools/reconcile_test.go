package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud/emulator"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
)

// plant writes what a process that stopped during a create leaves: the
// reservation of the key pair's file.
func plant(t *testing.T, dir, name, region string, pid int) (string, reservation) {
	t.Helper()
	r := reservation{KeyPairName: name, RegionID: region, PID: pid, Time: "2026-12-01T10:00:00Z", Token: "tok" + name}
	line, _ := json.Marshal(r)
	path := filepath.Join(dir, keyFileName(name, region))
	if err := os.WriteFile(path, append([]byte(reservationMarker), append(line, '\n')...), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, r
}

// deadPID is the ID of a process that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("no true command:", err)
	}
	return cmd.Process.Pid
}

func TestReconcile(t *testing.T) {
	t.Parallel()
	seed, err := emulator.LoadSeed(filepath.Join("..", "testdata", "seed.json"))
	if err != nil {
		t.Fatal(err)
	}
	emu, err := emulator.New(emulator.Options{Seed: seed, FastKeys: true})
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	srv, err := emu.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c, err := cloud.New(cloud.Config{Endpoint: srv.URL, Credentials: &cloud.StaticCredentials{
		AccessKeyID: srv.Credentials.AccessKeyID, AccessKeySecret: srv.Credentials.AccessKeySecret}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateKeyPair(context.Background(), schema.CreateKeyPairInput{RegionID: "cn-hangzhou", KeyPairName: "orphan"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateKeyPair(context.Background(), schema.CreateKeyPairInput{RegionID: "cn-hangzhou", KeyPairName: "saved"}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	dead := deadPID(t)
	ghost, _ := plant(t, dir, "ghost", "cn-hangzhou", dead)
	orphan, _ := plant(t, dir, "orphan", "cn-hangzhou", dead)
	busy, _ := plant(t, dir, "busy", "cn-hangzhou", os.Getppid())
	saved, savedRes := plant(t, dir, "saved", "cn-hangzhou", dead)
	const pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n"
	os.WriteFile(partialPath(dir, savedRes), []byte(pem), 0o600)
	key := filepath.Join(dir, "real.cn-hangzhou.pem")
	os.WriteFile(key, []byte(pem), 0o600)

	auditPath := filepath.Join(t.TempDir(), "audit.log")
	audit, err := OpenAuditLog(auditPath)
	if err != nil {
		t.Fatal(err)
	}
	defer audit.Close()
	var logs bytes.Buffer
	Reconcile(context.Background(), Deps{Cloud: c, PrivateKeyDir: dir, Audit: audit,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})

	for path, want := range map[string]bool{ghost: false, orphan: false, busy: true, saved: true, key: true} {
		if _, err := os.Stat(path); (err == nil) != want {
			t.Errorf("%s: exists %v, want %v", filepath.Base(path), err == nil, want)
		}
	}
	if b, _ := os.ReadFile(saved); string(b) != pem {
		t.Errorf("the key written before the stop was not put in place: %q", b)
	}
	if b, _ := os.ReadFile(key); string(b) != pem {
		t.Error("a private key file was touched")
	}
	if _, err := os.Stat(partialPath(dir, savedRes)); !os.IsNotExist(err) {
		t.Error("the temporary file is still there")
	}
	text := logs.String()
	for _, want := range []string{"level=WARN msg=\"the key pair exists without its private key", "keyPairName=orphan",
		"level=INFO msg=\"removed a reserved private key file", "keyPairName=ghost", "recovered the private key", "keyPairName=saved"} {
		if !strings.Contains(text, want) {
			t.Errorf("the log does not say %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "keyPairName=busy") {
		t.Errorf("a create still under way was touched:\n%s", text)
	}
	lines := readLines(t, auditPath)
	if len(lines) != 1 || lines[0].Event != EventFound || lines[0].Items[0] != "orphan" || !lines[0].Executed ||
		!strings.Contains(lines[0].Reason, "delete_key_pairs") {
		t.Errorf("audit %+v, want one found line for orphan", lines)
	}
}
