//go:build !windows && !(darwin || dragonfly || freebsd || illumos || linux || netbsd || openbsd)

package emulator

import (
	"fmt"
	"os"
	"runtime"
)

// Without flock, a state directory cannot be shared safely, so opening one
// fails; the in-memory store still works.

const keepStateOpen = false

func fileLockingAvailable() error {
	return fmt.Errorf("state directories need file locking, which is not available on GOOS=%s", runtime.GOOS)
}

func lockStateFile(path string, exclusive bool) (*os.File, error) {
	return nil, fileLockingAvailable()
}

func unlockStateFile(f *os.File) error { return nil }

func syncStateDir(dir string) error { return nil }
