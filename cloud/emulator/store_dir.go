package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// The files of a state directory.
const (
	stateFileName = "state.json"
	stateLockName = "state.lock"
	// stateTempPrefix starts the name of a state being written. One left
	// behind by a killed writer is removed by the next update.
	stateTempPrefix = stateFileName + ".tmp-"
)

// errStoreClosed is returned by a dirStore's methods after close.
var errStoreClosed = errors.New("store is closed")

// dirStore keeps the State in a directory, as state.json, shared safely by
// any number of processes (and goroutines) using the same directory.
//
// Every update holds an exclusive advisory lock on state.lock while it reads
// state.json fresh, applies fn, and writes the result; a view holds a shared
// lock while it reads. state.json is only ever replaced by renaming a fully
// written and fsynced file over it, so a crash at any instant leaves either
// the old or the new state, never a torn one.
//
// Each call opens state.lock anew: flock locks belong to an open file
// description, so one long-lived descriptor shared by concurrent views would
// let the first view to finish drop the lock of the others.
type dirStore struct {
	dir       string
	statePath string
	lockPath  string

	// mu makes close wait for calls in flight and keeps one process's
	// updates from contending on the file lock. update and close hold it
	// exclusively, view shares it. Always taken before the file lock.
	mu     sync.RWMutex
	closed bool // guarded by mu

	cacheMu sync.Mutex
	cache   *dirCache // guarded by cacheMu
}

// dirCache is the last state read from or written to state.json.
type dirCache struct {
	info  fs.FileInfo // of the file the state was read from
	state *State      // never modified: update works on a clone
	// file keeps the cached file open where keepStateOpen says so. An open
	// file's inode cannot be freed and reused, so a state.json with the same
	// device and inode really is the file cached, even when another process
	// replaced and deleted it within one mtime tick.
	file *os.File
}

// openDirStore opens (creating if needed, mode 0700) a state directory. The
// state lives in <dir>/state.json; <dir>/state.lock is the lock file. If
// state.json does not exist, initial is written as the first state (under
// the lock, so two processes starting together agree on one). Returns an
// error naming the file when state.json is unreadable, not valid JSON, has
// unknown fields, or has a Format other than stateFormat; it never resets a
// state it cannot read.
func openDirStore(dir string, initial *State) (*dirStore, error) {
	if initial == nil {
		return nil, errors.New("emulator state: no initial state")
	}
	first := initial.clone()
	if first.Format == 0 {
		first.Format = stateFormat
	}
	if first.Format != stateFormat {
		return nil, fmt.Errorf("emulator state: initial state has format %d, want %d", first.Format, stateFormat)
	}
	if err := fileLockingAvailable(); err != nil {
		return nil, fmt.Errorf("emulator state directory %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("emulator state directory: %w", err)
	}
	s := &dirStore{
		dir:       dir,
		statePath: filepath.Join(dir, stateFileName),
		lockPath:  filepath.Join(dir, stateLockName),
	}
	lock, err := lockStateFile(s.lockPath, true)
	if err != nil {
		return nil, fmt.Errorf("emulator state directory %s: lock: %w", dir, err)
	}
	defer unlockStateFile(lock)
	s.removeStaleTemps()
	if _, err := os.Lstat(s.statePath); errors.Is(err, fs.ErrNotExist) {
		if err := s.commit(first); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, s.loadError(err)
	} else if _, err := s.read(); err != nil {
		return nil, err
	}
	return s, nil
}

// view calls fn with the current state, read under a shared lock. fn must
// not modify it: it may be the cached state that later calls also see.
func (s *dirStore) view(fn func(*State) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return s.closedError()
	}
	st, err := s.loadShared()
	if err != nil {
		return err
	}
	// st is never modified, so fn needs no file lock: other processes may
	// replace state.json meanwhile without affecting this snapshot.
	return fn(st)
}

// update calls fn with a private copy of the state read fresh under an
// exclusive lock, and when fn succeeds makes the copy the state on disk
// before unlocking.
func (s *dirStore) update(fn func(*State) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return s.closedError()
	}
	lock, err := lockStateFile(s.lockPath, true)
	if err != nil {
		return fmt.Errorf("emulator state directory %s: lock: %w", s.dir, err)
	}
	defer unlockStateFile(lock)
	s.removeStaleTemps()
	cur, err := s.current()
	if err != nil {
		return err
	}
	next := cur.clone()
	if err := fn(next); err != nil {
		return err
	}
	if next.Format != stateFormat {
		return fmt.Errorf("emulator state %s: an update changed the format to %d; not written", s.statePath, next.Format)
	}
	return s.commit(next)
}

// close drops the cache and its open file. Later calls fail.
func (s *dirStore) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return s.closedError()
	}
	s.closed = true
	s.setCache(nil)
	return nil
}

func (s *dirStore) closedError() error {
	return fmt.Errorf("emulator state directory %s: %w", s.dir, errStoreClosed)
}

// loadShared returns the current state, holding a shared file lock meanwhile.
func (s *dirStore) loadShared() (*State, error) {
	lock, err := lockStateFile(s.lockPath, false)
	if err != nil {
		return nil, fmt.Errorf("emulator state directory %s: lock: %w", s.dir, err)
	}
	defer unlockStateFile(lock)
	return s.current()
}

// current returns the state in state.json, from the cache when the file is
// the one cached and unchanged. The caller holds the file lock.
func (s *dirStore) current() (*State, error) {
	info, err := os.Stat(s.statePath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("emulator state %s: the file was removed while in use; reopen the state directory to start afresh: %w", s.statePath, err)
	}
	if err != nil {
		return nil, s.loadError(err)
	}
	s.cacheMu.Lock()
	c := s.cache
	s.cacheMu.Unlock()
	if c != nil && os.SameFile(c.info, info) && c.info.ModTime().Equal(info.ModTime()) && c.info.Size() == info.Size() {
		return c.state, nil
	}
	return s.read()
}

// read parses state.json and caches the result. The caller holds the file
// lock.
func (s *dirStore) read() (*State, error) {
	f, err := os.Open(s.statePath)
	if err != nil {
		return nil, s.loadError(err)
	}
	keep := false
	defer func() {
		if !keep {
			f.Close()
		}
	}()
	info, err := f.Stat()
	if err != nil {
		return nil, s.loadError(err)
	}
	if !info.Mode().IsRegular() {
		return nil, s.loadError(fmt.Errorf("is a %s, not a regular file", stateFileKind(info.Mode())))
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, s.loadError(err)
	}
	st, err := decodeStateFile(data)
	if err != nil {
		return nil, s.loadError(err)
	}
	c := &dirCache{info: info, state: st}
	if keepStateOpen {
		c.file = f
		keep = true
	}
	s.setCache(c)
	return st, nil
}

// setCache replaces the cache, closing the file the old one kept open.
func (s *dirStore) setCache(c *dirCache) {
	s.cacheMu.Lock()
	old := s.cache
	s.cache = c
	s.cacheMu.Unlock()
	if old != nil && old.file != nil {
		old.file.Close()
	}
}

// loadError describes a state.json that cannot be used, naming the file.
func (s *dirStore) loadError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Path == s.statePath {
		// Say the path once, not twice.
		err = fmt.Errorf("cannot %s: %w", pe.Op, pe.Err)
	}
	return fmt.Errorf("emulator state %s: %w; fix or remove the file (the sandbox starts fresh without it)", s.statePath, err)
}

// commit makes st the state on disk: it writes a temporary file in the
// directory, fsyncs and closes it, renames it over state.json and fsyncs the
// directory. The caller holds the exclusive file lock.
func (s *dirStore) commit(st *State) error {
	data, err := encodeStateFile(st)
	if err != nil {
		return fmt.Errorf("emulator state %s: encode: %w", s.statePath, err)
	}
	f, err := os.CreateTemp(s.dir, stateTempPrefix+strconv.Itoa(os.Getpid())+"-*")
	if err != nil {
		return fmt.Errorf("emulator state %s: %w", s.statePath, err)
	}
	tmp := f.Name()
	var info fs.FileInfo
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if err == nil {
		info, err = f.Stat()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, s.statePath)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("emulator state %s: write: %w", s.statePath, err)
	}
	s.cacheCommitted(info, st)
	if err := syncStateDir(s.dir); err != nil {
		return fmt.Errorf("emulator state %s: written, but flushing directory %s failed, so it may not survive a system crash: %w", s.statePath, s.dir, err)
	}
	return nil
}

// cacheCommitted caches st, just renamed into place from a file described by
// info. Like memoryStore, the process goes on with the value fn built rather
// than parsing it back, which would double the cost of an update; the two
// differ only in representation (time.Time locations and monotonic
// readings, nil or empty lists), never in content. Failing to cache only
// costs a read on the next call.
func (s *dirStore) cacheCommitted(info fs.FileInfo, st *State) {
	c := &dirCache{info: info, state: st}
	if keepStateOpen {
		f, err := os.Open(s.statePath)
		if err != nil {
			s.setCache(nil)
			return
		}
		fi, err := f.Stat()
		if err != nil || !os.SameFile(info, fi) {
			f.Close()
			s.setCache(nil)
			return
		}
		c.info, c.file = fi, f
	}
	s.setCache(c)
}

// removeStaleTemps deletes temporary files of writers that died before
// renaming them. Only writers holding the exclusive lock create them, so with
// the lock held every one there is stale. Failures are harmless and ignored.
func (s *dirStore) removeStaleTemps() {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), stateTempPrefix) && e.Type().IsRegular() {
			os.Remove(filepath.Join(s.dir, e.Name()))
		}
	}
}

// encodeStateFile renders st as indented JSON ending in a newline, with
// empty lists written as [] rather than null.
func encodeStateFile(st *State) ([]byte, error) {
	c := *st
	if c.Regions == nil {
		c.Regions = []Region{}
	}
	if c.ResourceGroups == nil {
		c.ResourceGroups = []ResourceGroup{}
	}
	if c.Instances == nil {
		c.Instances = []Instance{}
	}
	if c.KeyPairs == nil {
		c.KeyPairs = []KeyPair{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(&c); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// decodeStateFile parses a state file strictly: one JSON object, no unknown
// fields, nothing after it, and the current format.
func decodeStateFile(data []byte) (*State, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("the file is empty")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var st State
	if err := dec.Decode(&st); err != nil {
		var syntax *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syntax):
			return nil, fmt.Errorf("invalid JSON at offset %d: %w", syntax.Offset, err)
		case errors.Is(err, io.ErrUnexpectedEOF):
			return nil, fmt.Errorf("invalid JSON: truncated, it ends inside a value at offset %d: %w", len(data), err)
		case errors.As(err, &typ):
			return nil, fmt.Errorf("invalid state at offset %d: %w", typ.Offset, err)
		default:
			return nil, fmt.Errorf("invalid state: %w", err)
		}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("invalid JSON: unexpected data after the state object at offset %d", dec.InputOffset())
	}
	if st.Format != stateFormat {
		return nil, fmt.Errorf("state format is %d, but this version of the emulator reads only format %d", st.Format, stateFormat)
	}
	return &st, nil
}

func stateFileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "directory"
	case m&fs.ModeSymlink != 0:
		return "symbolic link"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeDevice != 0:
		return "device"
	default:
		return "non-regular file"
	}
}
