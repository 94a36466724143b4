package tools_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"golang.org/x/crypto/ssh"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud/emulator"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/tools"
)

var testdata = filepath.Join("..", "testdata")

// harness is the real server, in process, with the emulator behind it and
// an MCP client in front.
type harness struct {
	t      *testing.T
	emu    *emulator.Emulator
	srv    *emulator.Server
	client *client.Client
	keyDir string
	logs   *bytes.Buffer
	// seen collects everything the model was shown, for the secret sweep.
	seen *strings.Builder
	// approver is the server's, when it has one.
	approver *tools.Approver
	// other, when set, is another server on the same cloud: another
	// process making changes meanwhile.
	other *harness
	cloud *cloud.Client
}

// sibling returns another server and client on h's cloud, without an
// approver or an audit log.
func (h *harness) sibling(t *testing.T) *harness {
	t.Helper()
	o := &harness{t: t, emu: h.emu, srv: h.srv, keyDir: filepath.Join(t.TempDir(), "keys"), logs: &bytes.Buffer{}, seen: h.seen, cloud: h.cloud}
	s := server.NewMCPServer("other", "0", server.WithToolCapabilities(false))
	tools.Register(s, tools.Deps{Cloud: h.cloud, PrivateKeyDir: o.keyDir}, false)
	var err error
	if o.client, err = client.NewInProcessClient(s); err != nil {
		t.Fatal(err)
	}
	initialize(t, o.client)
	t.Cleanup(func() { o.client.Close() })
	return o
}

func newHarness(t *testing.T, readOnly bool) *harness {
	return newHarnessWith(t, harnessOptions{readOnly: readOnly})
}

// harnessOptions vary the server and the client of a harness.
type harnessOptions struct {
	readOnly bool
	// seed changes the test world before the emulator starts.
	seed func(*emulator.Seed)
	// wire, when set, stands between the cloud client and the emulator.
	wire func(emu http.Handler) http.Handler
	// reboot is how long an instance takes to reboot (testRebootTime).
	reboot time.Duration
	// deps adjusts the tools' dependencies (approval, regions, audit).
	deps func(*tools.Deps)
	// clientOptions configure the MCP client (elicitation handler,
	// protocol version).
	clientOptions []client.ClientOption
}

// initialize starts the client and runs the MCP handshake.
func initialize(t *testing.T, c *client.Client) {
	t.Helper()
	ctx := context.Background()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Initialize(ctx, mcp.InitializeRequest{}); err != nil {
		t.Fatal(err)
	}
}

// testRetry is the retry policy of the tests' cloud clients: the default's
// shape, with waits of milliseconds.
var testRetry = cloud.RetryPolicy{BaseDelay: 5 * time.Millisecond, MaxDelay: 50 * time.Millisecond, Settle: 50 * time.Millisecond}

// testRebootTime is how long an instance of the test world takes to reboot.
const testRebootTime = 300 * time.Millisecond

// testSeed is the test world, testdata/seed.json.
func testSeed(t *testing.T) *emulator.Seed {
	t.Helper()
	seed, err := emulator.LoadSeed(filepath.Join(testdata, "seed.json"))
	if err != nil {
		t.Fatal(err)
	}
	return seed
}

// newEmulator returns an emulator with opts, of the test world unless
// opts has a Seed, and with fast key generation.
func newEmulator(t *testing.T, opts emulator.Options) *emulator.Emulator {
	t.Helper()
	if opts.Seed == nil {
		opts.Seed = testSeed(t)
	}
	if opts.RebootTime == 0 {
		opts.RebootTime = testRebootTime
	}
	opts.FastKeys = true
	emu, err := emulator.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return emu
}

func newHarnessWith(t *testing.T, o harnessOptions) *harness {
	t.Helper()
	opts := emulator.Options{RebootTime: o.reboot}
	if o.seed != nil {
		opts.Seed = testSeed(t)
		o.seed(opts.Seed)
	}
	emu := newEmulator(t, opts)
	srv, err := emu.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	endpoint := srv.URL
	if o.wire != nil {
		web := httptest.NewServer(o.wire(emu))
		t.Cleanup(web.Close)
		endpoint = web.URL
	}
	logs := &bytes.Buffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := cloud.New(cloud.Config{
		Endpoint:    endpoint,
		Credentials: &cloud.StaticCredentials{AccessKeyID: srv.Credentials.AccessKeyID, AccessKeySecret: srv.Credentials.AccessKeySecret},
		Logger:      logger,
		Retry:       testRetry,
		// Reboots take testRebootTime: poll often enough to see them end
		// soon after.
		PollInterval: testRebootTime / 6,
	})
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, emu: emu, srv: srv, keyDir: filepath.Join(t.TempDir(), "keys"), logs: logs, seen: &strings.Builder{}, cloud: c}
	deps := tools.Deps{Cloud: c, PrivateKeyDir: h.keyDir, Logger: logger}
	if o.deps != nil {
		o.deps(&deps)
	}
	s := server.NewMCPServer("test", "0", server.WithToolCapabilities(false), server.WithRecovery())
	tools.Register(s, deps, o.readOnly)
	h.client, err = client.NewInProcessClientWithOptions(s, o.clientOptions...)
	if err != nil {
		t.Fatal(err)
	}
	initialize(t, h.client)
	t.Cleanup(func() {
		h.client.Close()
		srv.Close()
		emu.Close()
		h.sweepSecrets()
	})
	return h
}

// call runs a tool and returns its result's text and whether it is an error.
func (h *harness) call(name string, args any) (text string, structured json.RawMessage, isError bool) {
	h.t.Helper()
	req := mcp.CallToolRequest{}
	req.Params.Name = name
	req.Params.Arguments = args
	res, err := h.client.CallTool(context.Background(), req)
	if err != nil {
		h.t.Fatalf("%s: protocol error %v", name, err)
	}
	for _, c := range res.Content {
		if tc, ok := c.(mcp.TextContent); ok {
			text += tc.Text
		}
	}
	if res.StructuredContent != nil {
		structured, err = json.Marshal(res.StructuredContent)
		if err != nil {
			h.t.Fatal(err)
		}
	}
	h.seen.WriteString(text)
	h.seen.Write(structured)
	return text, structured, res.IsError
}

// ok calls a tool that must succeed and decodes its structured result.
func ok[T any](h *harness, name string, args any) (T, string) {
	h.t.Helper()
	text, structured, isError := h.call(name, args)
	var out T
	if isError {
		h.t.Fatalf("%s %v: error %s", name, args, text)
	}
	dec := json.NewDecoder(bytes.NewReader(structured))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		h.t.Fatalf("%s: structured result %s does not match its output type: %v", name, structured, err)
	}
	return out, text
}

// fails calls a tool that must fail with the given code.
func (h *harness) fails(name string, args any, code string) string {
	h.t.Helper()
	text, _, isError := h.call(name, args)
	if !isError || !strings.HasPrefix(text, code+": ") {
		h.t.Fatalf("%s %v: want error %s, got isError=%v %q", name, args, code, isError, text)
	}
	return text
}

func (h *harness) snapshot() *emulator.State {
	h.t.Helper()
	s, err := h.emu.Snapshot()
	if err != nil {
		h.t.Fatal(err)
	}
	return s
}

func (h *harness) instanceID(name string) string {
	h.t.Helper()
	for _, in := range h.snapshot().Instances {
		if in.InstanceName == name {
			return in.InstanceID
		}
	}
	h.t.Fatalf("no instance %q", name)
	return ""
}

func (h *harness) keyOf(id string) string {
	for _, in := range h.snapshot().Instances {
		if in.InstanceID == id {
			return in.KeyPairName
		}
	}
	return "?"
}

// sweepSecrets fails when anything the model saw, or any log line, holds
// a private key or the AccessKey secret.
func (h *harness) sweepSecrets() {
	for what, text := range map[string]string{"tool results": h.seen.String(), "logs": h.logs.String()} {
		for _, secret := range []string{"PRIVATE KEY", h.srv.Credentials.AccessKeySecret} {
			if strings.Contains(text, secret) {
				h.t.Errorf("%s contain a secret (%q...)", what, secret[:4])
			}
		}
	}
}

func fixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testdata, "keys", name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func md5Fixture(t *testing.T, name string) string {
	for _, f := range strings.Fields(fixture(t, name)) {
		if v, found := strings.CutPrefix(f, "MD5:"); found {
			return v
		}
	}
	t.Fatalf("%s: no MD5", name)
	return ""
}

func TestReadOnlyRegistersOnlyReads(t *testing.T) {
	t.Parallel()
	h := newHarness(t, true)
	res, err := h.client.ListTools(context.Background(), mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
	}
	if want := []string{"describe_instances", "describe_key_pairs", "describe_regions"}; !slices.Equal(sorted(names), want) {
		t.Errorf("read-only tools %v, want %v", names, want)
	}
	// A hidden tool called by name is refused, with the reason.
	for _, tool := range []string{"create_key_pair", "delete_key_pairs"} {
		text := h.fails(tool, map[string]any{"regionId": "cn-hangzhou", "keyPairName": "nope"}, "Forbidden.ReadOnly")
		if !strings.Contains(text, tool+" is hidden: this server runs with --read-only") {
			t.Errorf("%s: %q", tool, text)
		}
	}
	if n := len(h.snapshot().KeyPairs); n != 0 {
		t.Errorf("%d key pairs created on a read-only server", n)
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func TestDescribeTools(t *testing.T) {
	t.Parallel()
	h := newHarness(t, false)
	regions, _ := ok[schema.DescribeRegionsOutput](h, "describe_regions", nil)
	if len(regions.Regions) < 6 {
		t.Errorf("regions: %+v", regions)
	}
	all, _ := ok[schema.DescribeInstancesOutput](h, "describe_instances", map[string]any{"regionId": "cn-hangzhou"})
	if all.TotalCount != len(all.Instances) || all.TotalCount < 5 {
		t.Errorf("instances: total %d listed %d", all.TotalCount, len(all.Instances))
	}
	// Every match, by instance ID (the order nextToken follows); pages
	// in the API's order.
	if !slices.IsSortedFunc(all.Instances, func(a, b schema.Instance) int { return strings.Compare(a.InstanceID, b.InstanceID) }) {
		t.Errorf("every match, not by instance ID: %+v", all.Instances)
	}
	page, _ := ok[schema.DescribeInstancesOutput](h, "describe_instances", map[string]any{"regionId": "cn-hangzhou", "pageNumber": 2, "pageSize": 2})
	if len(page.Instances) != 2 || page.TotalCount != all.TotalCount || !slices.Contains(all.Instances, page.Instances[0]) {
		t.Errorf("page 2 of 2: %+v", page)
	}
	win, _ := ok[schema.DescribeInstancesOutput](h, "describe_instances", map[string]any{"regionId": "cn-hangzhou", "status": "Stopped"})
	for _, in := range win.Instances {
		if in.Status != "Stopped" {
			t.Errorf("status filter returned %+v", in)
		}
	}

	// Key pairs: every page without paging arguments, by name.
	pub := fixture(t, "rsa2048.pub")
	var want []string
	for i := 0; i < 60; i++ {
		name := "bulk-" + string(rune('a'+i/26)) + string(rune('a'+i%26))
		ok[schema.ImportKeyPairOutput](h, "import_key_pair", map[string]any{"regionId": "cn-shanghai", "keyPairName": name, "publicKeyBody": pub})
		want = append(want, name)
	}
	got, _ := ok[schema.DescribeKeyPairsOutput](h, "describe_key_pairs", map[string]any{"regionId": "cn-shanghai"})
	var names []string
	for _, k := range got.KeyPairs {
		names = append(names, k.KeyPairName)
		if k.PublicKey != "" {
			t.Fatal("publicKey returned without includePublicKey")
		}
	}
	if got.TotalCount != 60 || !slices.Equal(names, want) {
		t.Errorf("all pages: total %d, %d names", got.TotalCount, len(names))
	}
	one, _ := ok[schema.DescribeKeyPairsOutput](h, "describe_key_pairs", map[string]any{"regionId": "cn-shanghai", "keyPairName": "bulk-c*", "includePublicKey": true})
	if one.TotalCount != 8 || one.KeyPairs[0].PublicKey == "" || one.KeyPairs[0].KeyPairFingerPrint != md5Fixture(t, "rsa2048.md5") {
		t.Errorf("wildcard: %+v", one)
	}

	for _, tc := range []struct {
		tool string
		args map[string]any
		code string
	}{
		{"describe_instances", map[string]any{"regionId": "mars-1"}, "InvalidRegionId.NotFound"},
		{"describe_instances", map[string]any{"regionId": "cn-hangzhou", "status": "Exploded"}, "InvalidStatus.NotFound"},
		{"describe_instances", map[string]any{}, "MissingParameter"},
		{"describe_key_pairs", map[string]any{"regionId": "cn-hangzhou", "pageSize": 51, "pageNumber": 1}, "InvalidParameter"},
		{"describe_key_pairs", map[string]any{"regionId": "cn-hangzhou", "pageNumber": 2}, "InvalidParameter"},
		{"describe_key_pairs", map[string]any{"regionId": "cn-hangzhou", "colour": "blue"}, "InvalidParameter"},
		{"describe_key_pairs", map[string]any{"regionId": 7}, "InvalidParameter"},
	} {
		h.fails(tc.tool, tc.args, tc.code)
	}
}

func TestCreateKeyPairWritesThePrivateKeyFile(t *testing.T) {
	t.Parallel()
	h := newHarness(t, false)
	out, text := ok[schema.CreateKeyPairOutput](h, "create_key_pair", map[string]any{
		"regionId": "cn-hangzhou", "keyPairName": "demo", "tags": []map[string]any{{"key": "env", "value": "dev"}}})
	path := filepath.Join(h.keyDir, "demo.cn-hangzhou.pem")
	if out.PrivateKeyFile != path || out.KeyPairName != "demo" || !strings.HasPrefix(out.KeyPairID, "ssh-") || out.RequestID == "" {
		t.Errorf("result %+v", out)
	}
	if strings.Contains(text, "PRIVATE") || strings.Contains(text, "MII") {
		t.Fatal("the result text holds key material")
	}
	info, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 || !info.Mode().IsRegular() {
		t.Errorf("mode %v, want a regular file with 0600", info.Mode())
	}
	pemBytes, _ := os.ReadFile(path)
	block, _ := pem.Decode(pemBytes)
	key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := ssh.NewPublicKey(&key.PublicKey)
	if ssh.FingerprintLegacyMD5(pub) != out.KeyPairFingerPrint {
		t.Error("the written key does not match the reported fingerprint")
	}

	// The file exists: refused before any cloud call.
	before := h.snapshot()
	h.fails("create_key_pair", map[string]any{"regionId": "cn-hangzhou", "keyPairName": "demo"}, "PrivateKeyFile.AlreadyExists")
	if !reflect.DeepEqual(before, h.snapshot()) {
		t.Error("a refused create changed the cloud")
	}
	// A planted symbolic link is not followed.
	target := filepath.Join(t.TempDir(), "target")
	os.WriteFile(target, []byte("untouched"), 0o644)
	os.Symlink(target, filepath.Join(h.keyDir, "linked.cn-hangzhou.pem"))
	h.fails("create_key_pair", map[string]any{"regionId": "cn-hangzhou", "keyPairName": "linked"}, "PrivateKeyFile.AlreadyExists")
	if b, _ := os.ReadFile(target); string(b) != "untouched" {
		t.Error("the link's target was written")
	}
	// A cloud refusal leaves no file behind.
	os.Remove(path)
	h.fails("create_key_pair", map[string]any{"regionId": "cn-hangzhou", "keyPairName": "demo"}, "KeyPair.AlreadyExist")
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Error("a failed create left a file behind")
	}
	// Local validation, before anything.
	h.fails("create_key_pair", map[string]any{"regionId": "cn-hangzhou", "keyPairName": "1abc"}, "InvalidKeyPairName.Malformed")
	h.fails("create_key_pair", map[string]any{"regionId": "cn-hangzhou", "keyPairName": "a.b"}, "InvalidKeyPairName.Malformed")
	h.fails("create_key_pair", map[string]any{"regionId": "cn-hangzhou", "keyPairName": "ok-name", "tags": []map[string]any{{"key": "acs:x", "value": "v"}}}, "InvalidTagKey.Malformed")
	h.fails("create_key_pair", map[string]any{"regionId": "cn-hangzhou"}, "MissingParameter")
}

func TestImportKeyPair(t *testing.T) {
	t.Parallel()
	h := newHarness(t, false)
	for _, fx := range []string{"rsa2048", "rsa4096", "dsa1024", "ecdsa256", "ecdsa384", "ecdsa521"} {
		out, _ := ok[schema.ImportKeyPairOutput](h, "import_key_pair", map[string]any{
			"regionId": "cn-beijing", "keyPairName": "laptop." + fx, "publicKeyBody": fixture(t, fx+".pub")})
		if out.KeyPairFingerPrint != md5Fixture(t, fx+".md5") {
			t.Errorf("%s: fingerprint %s, ssh-keygen says %s", fx, out.KeyPairFingerPrint, md5Fixture(t, fx+".md5"))
		}
	}
	before := h.snapshot()
	text := h.fails("import_key_pair", map[string]any{"regionId": "cn-beijing", "keyPairName": "ed", "publicKeyBody": fixture(t, "ed25519.pub")}, "InvalidPublicKeyBody.Malformed")
	if !strings.Contains(text, "ed25519") {
		t.Errorf("ed25519 refusal does not say why: %s", text)
	}
	secret := "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----"
	text = h.fails("import_key_pair", map[string]any{"regionId": "cn-beijing", "keyPairName": "oops", "publicKeyBody": secret}, "InvalidPublicKeyBody.Malformed")
	if strings.Contains(text, "b3BlbnNz") {
		t.Error("the error echoes the private key")
	}
	h.fails("import_key_pair", map[string]any{"regionId": "cn-beijing", "keyPairName": "laptop.rsa2048", "publicKeyBody": fixture(t, "rsa2048.pub")}, "KeyPair.AlreadyExist")
	if !reflect.DeepEqual(before, h.snapshot()) {
		t.Error("failed imports changed the cloud")
	}
}

func TestDeleteKeyPairs(t *testing.T) {
	t.Parallel()
	h := newHarness(t, false)
	pub := fixture(t, "ecdsa256.pub")
	for _, n := range []string{"old-1", "old-2", "in-use"} {
		ok[schema.ImportKeyPairOutput](h, "import_key_pair", map[string]any{"regionId": "cn-hangzhou", "keyPairName": n, "publicKeyBody": pub})
	}
	web := h.instanceID("web-prod-01")
	ok[schema.BindKeyPairOutput](h, "attach_key_pair", map[string]any{"regionId": "cn-hangzhou", "keyPairName": "in-use", "instanceIds": []string{web}, "confirm": true})

	args := map[string]any{"regionId": "cn-hangzhou", "keyPairNames": []string{"old-1", "in-use", "ghost", "old-2"}}
	before := h.snapshot()
	preview, text := ok[schema.DeleteKeyPairsOutput](h, "delete_key_pairs", args)
	if !strings.HasPrefix(text, "Not executed") || preview.Executed {
		t.Errorf("preview text %q executed %v", text, preview.Executed)
	}
	if !reflect.DeepEqual(before, h.snapshot()) {
		t.Fatal("a preview changed the cloud")
	}
	want := []schema.DeleteOutcome{
		{KeyPairName: "old-1", Outcome: "would_delete"},
		{KeyPairName: "in-use", Outcome: "bound", BoundInstances: []string{web}},
		{KeyPairName: "ghost", Outcome: "not_found"},
		{KeyPairName: "old-2", Outcome: "would_delete"},
	}
	if got := outcomes(preview.KeyPairs); !reflect.DeepEqual(got, want) {
		t.Errorf("preview\n got %+v\nwant %+v", got, want)
	}

	args["confirm"] = true
	done, text := ok[schema.DeleteKeyPairsOutput](h, "delete_key_pairs", args)
	if !done.Executed || strings.HasPrefix(text, "Not executed") || len(done.RequestIDs) != 1 {
		t.Errorf("executed %v, request IDs %v, text %q", done.Executed, done.RequestIDs, text)
	}
	want[0].Outcome, want[3].Outcome = "deleted", "deleted"
	if got := outcomes(done.KeyPairs); !reflect.DeepEqual(got, want) {
		t.Errorf("result\n got %+v\nwant %+v", got, want)
	}
	var left []string
	for _, k := range h.snapshot().KeyPairs {
		left = append(left, k.KeyPairName)
	}
	if !slices.Equal(left, []string{"in-use"}) {
		t.Errorf("left in the cloud: %v", left)
	}
	h.fails("delete_key_pairs", map[string]any{"regionId": "cn-hangzhou", "keyPairNames": []string{}}, "InvalidParameter")
	h.fails("delete_key_pairs", map[string]any{"regionId": "cn-hangzhou", "keyPairNames": []string{"web*"}}, "InvalidKeyPairName.Malformed")
}

// outcomes keeps the fields a test pins down.
func outcomes(in []schema.DeleteOutcome) []schema.DeleteOutcome {
	var out []schema.DeleteOutcome
	for _, o := range in {
		out = append(out, schema.DeleteOutcome{KeyPairName: o.KeyPairName, Outcome: o.Outcome, BoundInstances: o.BoundInstances})
	}
	return out
}

func TestDeleteManyKeyPairsInBatches(t *testing.T) {
	t.Parallel()
	h := newHarness(t, false)
	pub := fixture(t, "ecdsa384.pub")
	var names []string
	for i := 0; i < 230; i++ {
		name := "batch-" + strings.Repeat("x", i/26) + string(rune('a'+i%26))
		names = append(names, name)
		ok[schema.ImportKeyPairOutput](h, "import_key_pair", map[string]any{"regionId": "eu-central-1", "keyPairName": name, "publicKeyBody": pub})
	}
	done, _ := ok[schema.DeleteKeyPairsOutput](h, "delete_key_pairs", map[string]any{"regionId": "eu-central-1", "keyPairNames": names, "confirm": true})
	if len(done.RequestIDs) != 3 {
		t.Errorf("%d request IDs, want 3 batches", len(done.RequestIDs))
	}
	for i, o := range done.KeyPairs {
		if o.KeyPairName != names[i] || o.Outcome != "deleted" {
			t.Fatalf("item %d: %+v", i, o)
		}
	}
	if n := len(h.snapshot().KeyPairs); n != 0 {
		t.Errorf("%d key pairs left", n)
	}
}

func TestAttachAndDetach(t *testing.T) {
	t.Parallel()
	h := newHarness(t, false)
	pub := fixture(t, "rsa2048.pub")
	for _, n := range []string{"deploy", "old-key"} {
		ok[schema.ImportKeyPairOutput](h, "import_key_pair", map[string]any{"regionId": "cn-hangzhou", "keyPairName": n, "publicKeyBody": pub})
	}
	running, stopped, other := h.instanceID("web-prod-01"), h.instanceID("db-replica-01"), h.instanceID("web-prod-02")
	win, starting := h.instanceID("ad-controller-01"), h.instanceID("ci-runner-01")
	ok[schema.BindKeyPairOutput](h, "attach_key_pair", map[string]any{"regionId": "cn-hangzhou", "keyPairName": "old-key", "instanceIds": []string{other}, "confirm": true})

	args := map[string]any{"regionId": "cn-hangzhou", "keyPairName": "deploy", "instanceIds": []string{running, stopped, other, win, starting, "i-bp1nosuchinstance0"}}
	before := h.snapshot()
	preview, text := ok[schema.BindKeyPairOutput](h, "attach_key_pair", args)
	if !strings.HasPrefix(text, "Not executed") || preview.Executed || !reflect.DeepEqual(before, h.snapshot()) {
		t.Fatalf("preview changed something or says otherwise: %q", text)
	}
	wantPreview := map[string]string{running: "would_attach", stopped: "would_attach", other: "would_replace", win: "would_fail", starting: "would_fail", "i-bp1nosuchinstance0": "not_found"}
	for _, o := range preview.Instances {
		if wantPreview[o.InstanceID] != o.Outcome {
			t.Errorf("preview %s: %s, want %s", o.InstanceID, o.Outcome, wantPreview[o.InstanceID])
		}
		if o.InstanceID == other && o.CurrentKeyPairName != "old-key" {
			t.Errorf("preview does not name the key pair to be replaced: %+v", o)
		}
	}
	if !slices.Equal(preview.RebootRequired, []string{running, other}) || !slices.Equal(preview.TakesEffectOnStart, []string{stopped}) {
		t.Errorf("preview reboot %v, on start %v", preview.RebootRequired, preview.TakesEffectOnStart)
	}

	args["confirm"] = true
	done, _ := ok[schema.BindKeyPairOutput](h, "attach_key_pair", args)
	wantDone := map[string]string{running: "attached", stopped: "attached", other: "attached", win: "failed", starting: "failed", "i-bp1nosuchinstance0": "not_found"}
	for _, o := range done.Instances {
		if wantDone[o.InstanceID] != o.Outcome {
			t.Errorf("result %s: %s, want %s", o.InstanceID, o.Outcome, wantDone[o.InstanceID])
		}
	}
	for id, want := range map[string]string{running: "deploy", stopped: "deploy", other: "deploy", win: "", starting: ""} {
		if got := h.keyOf(id); got != want {
			t.Errorf("instance %s carries %q, want %q", id, got, want)
		}
	}
	if !done.Executed || !slices.Equal(done.RebootRequired, []string{running, other}) || !slices.Equal(done.TakesEffectOnStart, []string{stopped}) {
		t.Errorf("executed %v reboot %v on start %v", done.Executed, done.RebootRequired, done.TakesEffectOnStart)
	}

	// Detach leaves instances with another key alone.
	ok[schema.BindKeyPairOutput](h, "attach_key_pair", map[string]any{"regionId": "cn-hangzhou", "keyPairName": "old-key", "instanceIds": []string{other}, "confirm": true})
	detach := map[string]any{"regionId": "cn-hangzhou", "keyPairName": "deploy", "instanceIds": []string{running, other}}
	before = h.snapshot()
	dp, text := ok[schema.BindKeyPairOutput](h, "detach_key_pair", detach)
	if !strings.HasPrefix(text, "Not executed") || !reflect.DeepEqual(before, h.snapshot()) {
		t.Fatal("detach preview changed something")
	}
	if dp.Instances[0].Outcome != "would_detach" || dp.Instances[1].Outcome != "unchanged" {
		t.Errorf("detach preview %+v", dp.Instances)
	}
	detach["confirm"] = true
	dd, _ := ok[schema.BindKeyPairOutput](h, "detach_key_pair", detach)
	if dd.Instances[0].Outcome != "detached" || h.keyOf(running) != "" || h.keyOf(other) != "old-key" {
		t.Errorf("detach result %+v", dd.Instances)
	}

	h.fails("attach_key_pair", map[string]any{"regionId": "cn-hangzhou", "keyPairName": "nokey", "instanceIds": []string{running}, "confirm": true}, "InvalidKeyPairName.NotFound")
	h.fails("attach_key_pair", map[string]any{"regionId": "cn-hangzhou", "keyPairName": "deploy", "instanceIds": []string{"not-an-id"}}, "InvalidInstanceIds.ValueNotSupported")
	h.fails("detach_key_pair", map[string]any{"regionId": "cn-hangzhou", "keyPairName": "deploy", "instanceIds": []string{}}, "InvalidParameter")
}
