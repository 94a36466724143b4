//go:build windows

package emulator

import (
	"os"
	"syscall"
	"unsafe"
)

// Compiled and vetted in CI for GOOS=windows; the tests that exercise it run
// on Unix only, since no Windows machine takes part in CI.

var (
	modkernel32      = syscall.NewLazyDLL("kernel32.dll")
	procLockFileEx   = modkernel32.NewProc("LockFileEx")
	procUnlockFileEx = modkernel32.NewProc("UnlockFileEx")
)

const lockfileExclusiveLock = 0x2 // LOCKFILE_EXCLUSIVE_LOCK

// keepStateOpen is false: os.Open does not share delete access, so an open
// state.json would make other processes' renames over it fail. NTFS file
// IDs carry a sequence number, so a replaced file is not mistaken for the
// cached one.
const keepStateOpen = false

func fileLockingAvailable() error { return procLockFileEx.Find() }

// lockStateFile locks the first byte of path with LockFileEx, which blocks
// (the handle is not overlapped). Locks belong to the handle, and each call
// opens its own, like flock on an open file description.
func lockStateFile(path string, exclusive bool) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	var flags uintptr
	if exclusive {
		flags = lockfileExclusiveLock
	}
	ol := new(syscall.Overlapped)
	r, _, e := procLockFileEx.Call(f.Fd(), flags, 0, 1, 0, uintptr(unsafe.Pointer(ol)))
	if r == 0 {
		f.Close()
		return nil, &os.PathError{Op: "LockFileEx", Path: path, Err: e}
	}
	return f, nil
}

func unlockStateFile(f *os.File) error {
	ol := new(syscall.Overlapped)
	r, _, e := procUnlockFileEx.Call(f.Fd(), 0, 1, 0, uintptr(unsafe.Pointer(ol)))
	err := f.Close()
	if r == 0 {
		return &os.PathError{Op: "UnlockFileEx", Path: f.Name(), Err: e}
	}
	return err
}

// syncStateDir does nothing: Windows cannot flush a directory handle, and
// NTFS journals the rename.
func syncStateDir(string) error { return nil }
