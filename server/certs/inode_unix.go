//go:build unix

package certs

import (
	"os"
	"syscall"
)

// inode is the file's inode number: a file renamed over another with the
// same size and time is still told apart.
func inode(fi os.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Ino
	}
	return 0
}
