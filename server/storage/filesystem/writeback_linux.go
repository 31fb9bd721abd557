package filesystem

import (
	"os"

	"golang.org/x/sys/unix"
)

// writebackEvery is how much upload data may pile up in the page cache
// before the kernel is asked to start writing it out. This is not an
// fsync: it only starts writeback early, so the one fsync at commit has
// little left to flush.
const writebackEvery = 32 << 20

// writebackWriter starts writeback of what it wrote, every writebackEvery
// bytes.
type writebackWriter struct {
	f       *os.File
	off     int64 // file offset of the next write
	pending int64 // written since the last writeback request
}

func newWritebackWriter(f *os.File, off int64) *writebackWriter {
	return &writebackWriter{f: f, off: off}
}

func (w *writebackWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.off += int64(n)
	w.pending += int64(n)
	if w.pending >= writebackEvery {
		_ = unix.SyncFileRange(int(w.f.Fd()), w.off-w.pending, w.pending, unix.SYNC_FILE_RANGE_WRITE)
		w.pending = 0
	}
	return n, err
}
