package mirror

import (
	"io"
	"sync"
)

// holdBack is how many of a blob's last bytes the first client gets only
// once the digest is verified.
const holdBack = 64 << 10

// teeChunk is the unit in which a tee hands bytes to its writer, and
// teeChunks how many it may hold at once: a fill holds at most 2 MiB of a
// blob in memory, whatever its size.
const (
	teeChunk  = 256 << 10
	teeChunks = 8
)

// tee passes the bytes of a blob being stored on to the client that asked
// for it, from a goroutine of its own, so that storing (hash, write) and
// sending run side by side; the client only sets the pace once the
// buffers are full. Its last holdBack bytes go out only at flush, once the
// digest is verified. A client that went away stops getting bytes; the
// fill goes on.
type tee struct {
	out  chan []byte // chunks for the writer, in order
	free chan []byte // chunk buffers not in use
	done chan struct{}
	// Filled by Write: cur is being filled, pending are full and wait
	// until holdBack bytes follow them.
	cur     []byte
	pending [][]byte
	ended   bool
	once    sync.Once
	flushed bool // the tail went out (or there was no client)
}

// teeBufs keeps chunk buffers from one fill for the next.
var teeBufs = sync.Pool{New: func() any { b := make([]byte, 0, teeChunk); return &b }}

// newTee starts a tee to w; nil w makes one that drops everything.
func newTee(w io.Writer) *tee {
	t := &tee{out: make(chan []byte, teeChunks), free: make(chan []byte, teeChunks), done: make(chan struct{})}
	if w == nil {
		t.ended = true
		close(t.done)
		return t
	}
	for range teeChunks {
		t.free <- (*teeBufs.Get().(*[]byte))[:0]
	}
	t.cur = <-t.free
	go t.write(w)
	return t
}

func (t *tee) write(w io.Writer) {
	defer close(t.done)
	dead := false
	for b := range t.out {
		if !dead {
			if _, err := w.Write(b); err != nil {
				dead = true
			}
		}
		t.free <- b[:0]
	}
}

// Write takes a copy of p; it never fails.
func (t *tee) Write(p []byte) (int, error) {
	if t.ended {
		return len(p), nil
	}
	n := len(p)
	for len(p) > 0 {
		k := copy(t.cur[len(t.cur):cap(t.cur)], p)
		t.cur, p = t.cur[:len(t.cur)+k], p[k:]
		t.send()
		if len(t.cur) == cap(t.cur) {
			t.pending = append(t.pending, t.cur)
			t.cur = <-t.free
		}
	}
	return n, nil
}

// send hands on every pending chunk that holdBack bytes follow.
func (t *tee) send() {
	for len(t.pending) > 0 && t.following() >= holdBack {
		t.out <- t.pending[0]
		t.pending = t.pending[1:]
	}
}

// following counts the bytes after pending[0].
func (t *tee) following() int {
	n := len(t.cur)
	for _, b := range t.pending[1:] {
		n += len(b)
	}
	return n
}

// flush sends everything held, the last bytes included, and returns once
// the client has been given them (or is gone).
func (t *tee) flush() {
	if t.ended {
		t.flushed = true
		return
	}
	for _, b := range t.pending {
		t.out <- b
	}
	t.pending = nil
	if len(t.cur) > 0 {
		t.out <- t.cur
	}
	t.cur = nil
	t.flushed = true
	t.close()
}

// close ends the tee without sending what it holds back, if flush did not,
// and waits for its writer: after close the client's writer is not used.
func (t *tee) close() {
	t.once.Do(func() {
		if t.ended {
			return // made without a client: it holds no buffers
		}
		t.ended = true
		close(t.out)
		<-t.done
		// Every buffer is back in free, but cur and those pending.
		put := func(b []byte) { b = b[:0]; teeBufs.Put(&b) }
		for _, b := range append(t.pending, t.cur) {
			if cap(b) > 0 {
				put(b)
			}
		}
		t.pending, t.cur = nil, nil
		for range len(t.free) {
			put(<-t.free)
		}
	})
	<-t.done
}
