package emulator

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Environment of the child processes started by the dir store tests.
const (
	dirStoreHelperRole = "EMULATOR_DIRSTORE_HELPER_ROLE"
	dirStoreHelperDir  = "EMULATOR_DIRSTORE_HELPER_DIR"
	dirStoreHelperArg  = "EMULATOR_DIRSTORE_HELPER_ARG"
)

func dirStoreTestState() *State {
	return &State{
		Format: stateFormat,
		Regions: []Region{{
			RegionID:       "cn-hangzhou",
			LocalName:      "China (Hangzhou)",
			RegionEndpoint: "ecs.cn-hangzhou.aliyuncs.com",
			Status:         "available",
		}},
		ResourceGroups: []ResourceGroup{{ID: "rg-default", Name: "default", Default: true}},
	}
}

func skipWithoutFileLocking(t *testing.T) {
	t.Helper()
	if err := fileLockingAvailable(); err != nil {
		t.Skip(err)
	}
}

func mustOpenDirStore(t *testing.T, dir string) *dirStore {
	t.Helper()
	s, err := openDirStore(dir, dirStoreTestState())
	if err != nil {
		t.Fatalf("openDirStore: %v", err)
	}
	return s
}

// dirStoreSnapshot returns a deep copy of the store's state.
func dirStoreSnapshot(t *testing.T, s store) *State {
	t.Helper()
	var c *State
	if err := s.view(func(st *State) error { c = st.clone(); return nil }); err != nil {
		t.Fatalf("view: %v", err)
	}
	return c
}

func dirStoreAppend(name string) func(*State) error {
	return func(st *State) error {
		st.KeyPairs = append(st.KeyPairs, KeyPair{RegionID: "cn-hangzhou", KeyPairName: name})
		return nil
	}
}

func dirStoreTempFiles(t *testing.T, dir string) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, stateTempPrefix+"*"))
	if err != nil {
		t.Fatal(err)
	}
	return names
}

func TestDirStoreRoundTrip(t *testing.T) {
	t.Parallel()
	skipWithoutFileLocking(t)
	dir := filepath.Join(t.TempDir(), "nested", "state")
	path := filepath.Join(dir, stateFileName)
	s := mustOpenDirStore(t, dir)

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("{\n  \"format\": 1,\n")) || !bytes.HasSuffix(data, []byte("}\n")) {
		t.Errorf("state.json is not 2-space indented JSON ending in a newline:\n%s", data)
	}
	if !bytes.Contains(data, []byte(`"keyPairs": []`)) {
		t.Errorf("an empty list should be written as []:\n%s", data)
	}
	if runtime.GOOS != "windows" {
		for _, p := range []string{dir, path, filepath.Join(dir, stateLockName)} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if perm := fi.Mode().Perm(); perm&0o077 != 0 {
				t.Errorf("%s has mode %v, want no group or other access", p, perm)
			}
		}
	}

	created := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	want := KeyPair{
		RegionID:        "cn-hangzhou",
		KeyPairID:       "kp-123",
		KeyPairName:     "alpha",
		FingerPrint:     "ab:cd",
		PublicKey:       "ssh-ed25519 AAAA <test>&",
		ResourceGroupID: "rg-default",
		CreationTime:    created,
		Tags:            []Tag{{Key: "env", Value: "dev"}, {Key: "empty"}},
	}
	if err := s.update(func(st *State) error { st.KeyPairs = append(st.KeyPairs, want); return nil }); err != nil {
		t.Fatalf("update: %v", err)
	}
	if err := s.close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	// Reopening ignores the initial state: the directory has one already.
	s, err = openDirStore(dir, &State{Format: stateFormat})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.close()
	got := dirStoreSnapshot(t, s)
	if len(got.Regions) != 1 || got.Regions[0].RegionID != "cn-hangzhou" {
		t.Errorf("regions after reopen = %+v", got.Regions)
	}
	if len(got.KeyPairs) != 1 {
		t.Fatalf("key pairs after reopen = %+v, want one", got.KeyPairs)
	}
	kp := got.KeyPairs[0]
	if !kp.CreationTime.Equal(created) {
		t.Errorf("creation time %v, want %v", kp.CreationTime, created)
	}
	kp.CreationTime = want.CreationTime
	if fmt.Sprintf("%+v", kp) != fmt.Sprintf("%+v", want) {
		t.Errorf("key pair after reopen\n got %+v\nwant %+v", kp, want)
	}

	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	failing := []struct {
		name    string
		fn      func(*State) error
		wantErr func(error) bool
	}{
		{"fn fails", func(st *State) error {
			st.KeyPairs = append(st.KeyPairs, KeyPair{KeyPairName: "never"})
			st.KeyPairs[0].Tags[0].Value = "changed"
			return boom
		}, func(err error) bool { return errors.Is(err, boom) }},
		{"fn changes the format", func(st *State) error {
			st.Format = stateFormat + 1
			return nil
		}, func(err error) bool { return err != nil && strings.Contains(err.Error(), path) }},
	}
	for _, tc := range failing {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.update(tc.fn); !tc.wantErr(err) {
				t.Errorf("update returned %v", err)
			}
			after, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(before, after) {
				t.Errorf("a failed update changed state.json:\nbefore %s\nafter %s", before, after)
			}
			st := dirStoreSnapshot(t, s)
			if len(st.KeyPairs) != 1 || st.KeyPairs[0].Tags[0].Value != "dev" || st.Format != stateFormat {
				t.Errorf("a failed update changed the state: %+v", st)
			}
			if names := dirStoreTempFiles(t, dir); len(names) != 0 {
				t.Errorf("temporary files left: %v", names)
			}
		})
	}
}

func TestDirStoreOpenInitial(t *testing.T) {
	t.Parallel()
	skipWithoutFileLocking(t)
	tests := []struct {
		name    string
		initial *State
		wantErr string
	}{
		{"format 0 becomes the current format", &State{}, ""},
		{"current format", &State{Format: stateFormat}, ""},
		{"other format", &State{Format: stateFormat + 6}, "format 7"},
		{"nil", nil, "no initial state"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := openDirStore(dir, tc.initial)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("openDirStore error %v, want one containing %q", err, tc.wantErr)
				}
				if _, err := os.Stat(filepath.Join(dir, stateFileName)); err == nil {
					t.Error("state.json written despite the error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer s.close()
			if st := dirStoreSnapshot(t, s); st.Format != stateFormat {
				t.Errorf("format %d", st.Format)
			}
		})
	}
}

func TestDirStoreClosed(t *testing.T) {
	t.Parallel()
	skipWithoutFileLocking(t)
	s := mustOpenDirStore(t, t.TempDir())
	if err := s.close(); err != nil {
		t.Fatal(err)
	}
	calls := map[string]func() error{
		"view":   func() error { return s.view(func(*State) error { return nil }) },
		"update": func() error { return s.update(func(*State) error { return nil }) },
		"close":  s.close,
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, errStoreClosed) {
			t.Errorf("%s after close returned %v", name, err)
		}
	}
}

func TestDirStoreCorruptState(t *testing.T) {
	t.Parallel()
	skipWithoutFileLocking(t)
	valid, err := encodeStateFile(dirStoreTestState())
	if err != nil {
		t.Fatal(err)
	}
	writeState := func(content string) func(t *testing.T, path string) {
		return func(t *testing.T, path string) {
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name    string
		setup   func(t *testing.T, path string)
		wantErr string
	}{
		{"truncated", writeState(string(valid[:len(valid)/2])), "truncated"},
		{"syntax error", writeState(`{"format": 1,}`), "invalid JSON at offset 14"},
		{"empty", writeState(""), "empty"},
		{"not an object", writeState(`[1, 2]`), "invalid state"},
		{"wrong type", writeState(`{"format": "1"}`), "invalid state at offset"},
		{"trailing data", writeState(`{"format": 1} {}`), "after the state object"},
		{"no format", writeState(`{}`), "format is 0"},
		{"future format", writeState(`{"format": 2, "regions": []}`), "format is 2"},
		{"unknown field", writeState(`{"format": 1, "bogus": true}`), `unknown field "bogus"`},
		{"unknown nested field", writeState(`{"format": 1, "keyPairs": [{"keyPairName": "a", "privateKey": "x"}]}`), `unknown field "privateKey"`},
		{"directory", func(t *testing.T, path string) {
			if err := os.Mkdir(path, 0o700); err != nil {
				t.Fatal(err)
			}
		}, "directory"},
		{"dangling symlink", func(t *testing.T, path string) {
			if runtime.GOOS == "windows" {
				t.Skip("symlinks need privileges on Windows")
			}
			if err := os.Symlink(filepath.Join(filepath.Dir(path), "missing"), path); err != nil {
				t.Fatal(err)
			}
		}, "no such file"},
		{"unreadable", func(t *testing.T, path string) {
			if runtime.GOOS == "windows" || os.Geteuid() == 0 {
				t.Skip("the mode is not enforced (Windows, or running as root)")
			}
			writeState(string(valid))(t, path)
			if err := os.Chmod(path, 0); err != nil {
				t.Fatal(err)
			}
		}, "permission denied"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, stateFileName)
			tc.setup(t, path)
			before, _ := os.Lstat(path)
			beforeData, _ := os.ReadFile(path)

			s, err := openDirStore(dir, dirStoreTestState())
			if err == nil {
				s.close()
				t.Fatal("openDirStore succeeded")
			}
			msg := err.Error()
			for _, want := range []string{path, tc.wantErr, "fix or remove the file"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not contain %q", msg, want)
				}
			}
			after, err := os.Lstat(path)
			if err != nil {
				t.Fatalf("state.json gone: %v", err)
			}
			afterData, _ := os.ReadFile(path)
			if !os.SameFile(before, after) || !bytes.Equal(beforeData, afterData) {
				t.Error("openDirStore replaced or changed the unreadable state.json")
			}
		})
	}
}

// TestDirStoreCorruptedWhileOpen checks that an open store refuses, and
// does not overwrite, a state.json damaged behind its back.
func TestDirStoreCorruptedWhileOpen(t *testing.T) {
	t.Parallel()
	skipWithoutFileLocking(t)
	dir := t.TempDir()
	path := filepath.Join(dir, stateFileName)
	s := mustOpenDirStore(t, dir)
	defer s.close()
	dirStoreSnapshot(t, s) // fill the cache
	garbage := []byte(`{"format": 1, "regions": [`)
	if err := os.WriteFile(path, garbage, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.update(dirStoreAppend("x")); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("update of a corrupt state returned %v", err)
	}
	if err := s.view(func(*State) error { return nil }); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("view of a corrupt state returned %v", err)
	}
	if data, _ := os.ReadFile(path); !bytes.Equal(data, garbage) {
		t.Errorf("state.json was overwritten: %s", data)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := s.update(dirStoreAppend("x")); err == nil || !strings.Contains(err.Error(), "removed while in use") {
		t.Errorf("update of a removed state returned %v", err)
	}
	if _, err := os.Stat(path); err == nil {
		t.Error("update recreated a removed state.json")
	}
}

// TestDirStoreConcurrentGoroutines runs updates and views through one store
// from several goroutines (run it with -race).
func TestDirStoreConcurrentGoroutines(t *testing.T) {
	t.Parallel()
	skipWithoutFileLocking(t)
	const goroutines, updates = 8, 50
	s := mustOpenDirStore(t, t.TempDir())
	defer s.close()
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, goroutines+2)
	for g := range goroutines {
		wg.Go(func() {
			for i := range updates {
				if err := s.update(dirStoreAppend(fmt.Sprintf("g%d-%d", g, i))); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	done := make(chan struct{})
	var viewers sync.WaitGroup
	for range 2 {
		viewers.Go(func() {
			last := 0
			for {
				select {
				case <-done:
					return
				default:
				}
				err := s.view(func(st *State) error {
					if len(st.KeyPairs) < last {
						return fmt.Errorf("key pairs went from %d to %d", last, len(st.KeyPairs))
					}
					last = len(st.KeyPairs)
					return nil
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(done)
	viewers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	dirStoreCheckDistinct(t, dirStoreSnapshot(t, s), goroutines*updates)
	t.Logf("%d updates from %d goroutines in %v", goroutines*updates, goroutines, time.Since(start))
}

func dirStoreCheckDistinct(t *testing.T, st *State, want int) {
	t.Helper()
	seen := map[string]bool{}
	for _, kp := range st.KeyPairs {
		if seen[kp.KeyPairName] {
			t.Errorf("key pair %q twice", kp.KeyPairName)
		}
		seen[kp.KeyPairName] = true
	}
	if len(st.KeyPairs) != want {
		t.Errorf("%d key pairs, want %d (updates lost)", len(st.KeyPairs), want)
	}
}

// TestDirStoreCacheSeesOtherStores checks that a store never serves its
// cached state after another store on the same directory (as another
// process would) changed it, even when the new file has the size and the
// modification time of the old one.
func TestDirStoreCacheSeesOtherStores(t *testing.T) {
	t.Parallel()
	skipWithoutFileLocking(t)
	dir := t.TempDir()
	path := filepath.Join(dir, stateFileName)
	a := mustOpenDirStore(t, dir)
	defer a.close()
	b := mustOpenDirStore(t, dir)
	defer b.close()
	if err := a.update(dirStoreAppend("kp-000")); err != nil {
		t.Fatal(err)
	}

	// Unchanged file: the cache serves the same parsed state.
	var p1, p2 *State
	a.view(func(st *State) error { p1 = st; return nil })
	a.view(func(st *State) error { p2 = st; return nil })
	if p1 != p2 {
		t.Error("view parsed an unchanged state.json again instead of using the cache")
	}

	for i := 1; i <= 100; i++ {
		writer, reader := b, a
		if i%2 == 0 {
			writer, reader = a, b
		}
		before, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("kp-%03d", i) // same length: the file keeps its size
		if err := writer.update(func(st *State) error { st.KeyPairs[0].KeyPairName = name; return nil }); err != nil {
			t.Fatal(err)
		}
		// As if written within the same mtime tick as the file it replaced.
		if err := os.Chtimes(path, before.ModTime(), before.ModTime()); err != nil {
			t.Fatal(err)
		}
		if after, err := os.Stat(path); err != nil || after.Size() != before.Size() {
			t.Fatalf("state.json changed size: %v", err)
		}
		var got string
		if err := reader.view(func(st *State) error { got = st.KeyPairs[0].KeyPairName; return nil }); err != nil {
			t.Fatal(err)
		}
		if got != name {
			t.Fatalf("round %d: view saw %q, want %q (stale cache)", i, got, name)
		}
		// update works on a fresh copy too.
		if err := reader.update(func(st *State) error {
			if st.KeyPairs[0].KeyPairName != name {
				return fmt.Errorf("round %d: update saw %q, want %q", i, st.KeyPairs[0].KeyPairName, name)
			}
			return errors.New("no change")
		}); err == nil || err.Error() != "no change" {
			t.Fatal(err)
		}
	}
}

// startDirStoreHelper runs this test binary as a child process playing
// role on dir, and waits until it has opened the store and said "ready".
// Write a byte to stdin to let it go on; its further output is in lines.
func startDirStoreHelper(t *testing.T, role, dir, arg string) (cmd *exec.Cmd, stdin io.WriteCloser, lines *bufio.Scanner, stderr *bytes.Buffer) {
	t.Helper()
	cmd = exec.Command(os.Args[0], "-test.run=^TestDirStoreHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), dirStoreHelperRole+"="+role, dirStoreHelperDir+"="+dir, dirStoreHelperArg+"="+arg)
	stderr = new(bytes.Buffer)
	cmd.Stderr = stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines = bufio.NewScanner(stdout)
	if !lines.Scan() || lines.Text() != "ready" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("helper %s did not start: %q %v\n%s", role, lines.Text(), lines.Err(), stderr)
	}
	return cmd, stdin, lines, stderr
}

// TestDirStoreHelperProcess is not a test: it is the child process of the
// tests below, selected by the environment.
func TestDirStoreHelperProcess(t *testing.T) {
	role := os.Getenv(dirStoreHelperRole)
	if role == "" {
		t.Skip("child process of the dir store tests")
	}
	if err := runDirStoreHelper(role, os.Getenv(dirStoreHelperDir), os.Getenv(dirStoreHelperArg)); err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func runDirStoreHelper(role, dir, arg string) error {
	s, err := openDirStore(dir, dirStoreTestState())
	if err != nil {
		return err
	}
	defer s.close()
	fmt.Println("ready")
	if _, err := os.Stdin.Read(make([]byte, 1)); err != nil {
		return fmt.Errorf("waiting for the go: %v", err)
	}
	switch role {
	case "append":
		// arg is the prefix of this process's key pair names.
		for i := range 100 {
			if err := s.update(dirStoreAppend(fmt.Sprintf("%s-%03d", arg, i))); err != nil {
				return err
			}
		}
		return nil
	case "crash":
		// Update until killed. Key pair k-<n> is written by the n-th update
		// of the directory's life; every 50th update keeps only itself, so
		// the file grows and shrinks. arg seeds the key sizes.
		seed, _ := strconv.ParseUint(arg, 10, 64)
		rng := rand.New(rand.NewPCG(seed, 1))
		for {
			var seq int
			err := s.update(func(st *State) error {
				seq = dirStoreLastSeq(st) + 1
				kp := KeyPair{KeyPairName: fmt.Sprintf("k-%d", seq), PublicKey: strings.Repeat("A", rng.IntN(400))}
				if seq%50 == 0 {
					st.KeyPairs = []KeyPair{kp}
				} else {
					st.KeyPairs = append(st.KeyPairs, kp)
				}
				return nil
			})
			if err != nil {
				return err
			}
			fmt.Printf("committed %d\n", seq)
		}
	default:
		return fmt.Errorf("unknown role %q", role)
	}
}

// dirStoreLastSeq is the number of the last crash-loop update in st, 0 for none.
func dirStoreLastSeq(st *State) int {
	if len(st.KeyPairs) == 0 {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimPrefix(st.KeyPairs[len(st.KeyPairs)-1].KeyPairName, "k-"))
	return n
}

// TestDirStoreTwoProcesses has two processes append 100 key pairs each to
// one directory at the same time: none may be lost.
func TestDirStoreTwoProcesses(t *testing.T) {
	t.Parallel()
	skipWithoutFileLocking(t)
	dir := t.TempDir()
	start := time.Now()
	type child struct {
		cmd    *exec.Cmd
		stdin  io.WriteCloser
		stderr *bytes.Buffer
	}
	var children []child
	for _, prefix := range []string{"a", "b"} {
		cmd, stdin, _, stderr := startDirStoreHelper(t, "append", dir, prefix)
		children = append(children, child{cmd, stdin, stderr})
	}
	for _, c := range children { // both are ready: go
		c.stdin.Write([]byte{1})
	}
	for _, c := range children {
		if err := c.cmd.Wait(); err != nil {
			t.Fatalf("helper: %v\n%s", err, c.stderr)
		}
	}
	s := mustOpenDirStore(t, dir)
	defer s.close()
	st := dirStoreSnapshot(t, s)
	dirStoreCheckDistinct(t, st, 200)
	switches := 0
	for i := 1; i < len(st.KeyPairs); i++ {
		if st.KeyPairs[i].KeyPairName[0] != st.KeyPairs[i-1].KeyPairName[0] {
			switches++
		}
	}
	t.Logf("200 updates from 2 processes in %v; the writer changed %d times (interleaving)", time.Since(start), switches)
}

// TestDirStoreCrashSafety SIGKILLs a process in the middle of a stream of
// updates, again and again: the state must always load, hold every update
// the killed process saw succeed, and never go back.
func TestDirStoreCrashSafety(t *testing.T) {
	t.Parallel()
	skipWithoutFileLocking(t)
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("needs SIGKILL")
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("EMULATOR_DIRSTORE_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (set EMULATOR_DIRSTORE_SEED to repeat)", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	dir := t.TempDir()
	s := mustOpenDirStore(t, dir)
	s.close()

	const kills = 30
	start := time.Now()
	deadline := start.Add(12 * time.Second)
	prev, withTemp, done, killed := 0, 0, 0, 0
	for i := range kills {
		if time.Now().After(deadline) {
			t.Logf("time budget spent after %d kills", i)
			break
		}
		killed++
		cmd, stdin, lines, stderr := startDirStoreHelper(t, "crash", dir, strconv.FormatUint(rng.Uint64(), 10))
		committed := make(chan int, 1)
		go func() {
			last := prev
			for lines.Scan() {
				if n, err := strconv.Atoi(strings.TrimPrefix(lines.Text(), "committed ")); err == nil {
					last = n
				}
			}
			committed <- last
		}()
		stdin.Write([]byte{1})
		time.Sleep(time.Duration(5+rng.IntN(56)) * time.Millisecond)
		cmd.Process.Kill()
		acked := <-committed // all its output, read before Wait closes the pipe
		if err := cmd.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
			t.Fatalf("kill %d: helper ended with %v, not by the kill\n%s", i, err, stderr)
		}

		if len(dirStoreTempFiles(t, dir)) > 0 {
			withTemp++
		}
		s, err := openDirStore(dir, dirStoreTestState())
		if err != nil {
			t.Fatalf("kill %d: state does not load: %v", i, err)
		}
		st := dirStoreSnapshot(t, s)
		last := dirStoreLastSeq(st)
		if st.Format != stateFormat {
			t.Errorf("kill %d: format %d", i, st.Format)
		}
		for j, kp := range st.KeyPairs { // k-<first>, k-<first+1>, ... k-<last>
			if want := fmt.Sprintf("k-%d", last-len(st.KeyPairs)+1+j); kp.KeyPairName != want {
				t.Fatalf("kill %d: key pair %d is %q, want %q", i, j, kp.KeyPairName, want)
			}
		}
		// The killed process may have renamed one more state in than it
		// could report, never fewer.
		if last < prev || last < acked || last > acked+1 {
			t.Errorf("kill %d: state holds update %d; before it %d, last acknowledged %d", i, last, prev, acked)
		}
		done += last - prev
		prev = last
		// The next update removes what the killed writer left behind.
		if err := s.update(func(*State) error { return nil }); err != nil {
			t.Fatal(err)
		}
		if names := dirStoreTempFiles(t, dir); len(names) > 0 {
			t.Errorf("kill %d: temporary files left after an update: %v", i, names)
		}
		s.close()
	}
	t.Logf("%d kills, %d updates between them; %d kills left a temporary file behind; %v", killed, done, withTemp, time.Since(start))
}
