package emulator

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"testing"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
)

// testdata is the repository's testdata directory.
var testdata = filepath.Join("..", "..", "testdata")

func loadTestSeed(t testing.TB) *Seed {
	t.Helper()
	seed, err := LoadSeed(filepath.Join(testdata, "seed.json"))
	if err != nil {
		t.Fatal(err)
	}
	return seed
}

// testEnv is an emulator on a loopback port and an SDK client pointed at it.
type testEnv struct {
	t   testing.TB
	emu *Emulator
	srv *Server
	ecs *ecs.Client
}

func newTestEnv(t testing.TB, opts Options) *testEnv {
	t.Helper()
	if opts.Seed == nil {
		opts.Seed = loadTestSeed(t)
	}
	opts.FastKeys = true
	emu, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := emu.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Close()
		emu.Close()
	})
	return &testEnv{t: t, emu: emu, srv: srv, ecs: newSDKClient(t, srv)}
}

// ecs.NewClientWith* builds the package-level ecs.EndpointMap on first use,
// unguarded: built here, before any test runs, parallel tests only read it.
func init() { ecs.GetEndpointMap() }

// newSDKClient returns a real SDK client that talks to srv over plain HTTP.
// Each goroutine needs its own: SDK clients are not safe for concurrent use.
func newSDKClient(t testing.TB, srv *Server) *ecs.Client {
	t.Helper()
	c, err := ecs.NewClientWithAccessKey("cn-hangzhou", srv.Credentials.AccessKeyID, srv.Credentials.AccessKeySecret)
	if err != nil {
		t.Fatal(err)
	}
	c.Domain = srv.Host
	// A proxy set in the environment must not capture loopback traffic.
	c.SetNoProxy("^" + regexp.QuoteMeta(srv.Host) + "$")
	return c
}

func (e *testEnv) snapshot() *State {
	e.t.Helper()
	s, err := e.emu.Snapshot()
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// assertUnchanged fails when the state differs from before.
func (e *testEnv) assertUnchanged(before *State) {
	e.t.Helper()
	if after := e.snapshot(); !reflect.DeepEqual(before, after) {
		e.t.Errorf("state changed on error:\nbefore %+v\nafter  %+v", before, after)
	}
}

// serverError unwraps the SDK's error for an API error response.
func serverError(t testing.TB, err error) (code string, status int, message string) {
	t.Helper()
	var se *sdkerrors.ServerError
	if !errors.As(err, &se) {
		t.Fatalf("want an API error, got %T %v", err, err)
	}
	return se.ErrorCode(), se.HttpStatus(), se.Message()
}

func wantAPIError(t testing.TB, err error, code string, status int) {
	t.Helper()
	if err == nil {
		t.Fatalf("want %s (HTTP %d), got success", code, status)
	}
	gotCode, gotStatus, msg := serverError(t, err)
	if gotCode != code || gotStatus != status {
		t.Fatalf("want %s (HTTP %d), got %s (HTTP %d): %s", code, status, gotCode, gotStatus, msg)
	}
}

var _ = http.StatusOK

func readTestdata(elem ...string) ([]byte, error) {
	return os.ReadFile(filepath.Join(append([]string{testdata}, elem...)...))
}

func serverErrorValue(t testing.TB, err error) *sdkerrors.ServerError {
	t.Helper()
	var se *sdkerrors.ServerError
	if !errors.As(err, &se) {
		t.Fatalf("want an API error, got %T %v", err, err)
	}
	return se
}
