//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package search

import (
	"errors"
	"os"
	"syscall"
)

// lockDir takes an exclusive lock of the directory dir without waiting,
// or answers ErrInUse if another open file holds it (of another process
// or of this one: flock locks belong to an open file, not a process).
// Closing the file unlocks it, as the process exiting does.
func lockDir(dir string) (*os.File, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, ErrInUse
		}
		return nil, err
	}
	return f, nil
}

// dirLocks says whether lockDir locks.
const dirLocks = true
