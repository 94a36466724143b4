//go:build darwin || dragonfly || freebsd || illumos || linux || netbsd || openbsd

// These are the Unix systems whose syscall package has Flock; Android and
// iOS are covered by linux and darwin. AIX and Solaris have only fcntl
// locks, which belong to the process rather than to the open file and so
// cannot keep two stores in one process apart; they get lock_other.go.

package emulator

import (
	"os"
	"syscall"
)

// keepStateOpen: holding the cached state.json open is harmless here (a
// rename replaces the name, not the open file) and stops its inode number
// being reused while it is cached.
const keepStateOpen = true

func fileLockingAvailable() error { return nil }

// lockStateFile opens path (creating it, mode 0600) and takes a flock on
// it: exclusive or shared. Each call opens its own file description, so
// goroutines of one process exclude each other as processes do.
func lockStateFile(path string, exclusive bool) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	for {
		err = syscall.Flock(int(f.Fd()), how)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, &os.PathError{Op: "flock", Path: path, Err: err}
	}
	return f, nil
}

// unlockStateFile releases the lock and closes the file.
func unlockStateFile(f *os.File) error {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncStateDir fsyncs a directory, making a rename in it durable.
func syncStateDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
