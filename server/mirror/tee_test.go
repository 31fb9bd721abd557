package mirror

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
)

// recorder is a client that records what it got, and when.
type recorder struct {
	mu   sync.Mutex
	got  bytes.Buffer
	fail bool
}

func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail {
		return 0, errors.New("client gone")
	}
	return r.got.Write(p)
}

func (r *recorder) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.got.Len()
}

// The client gets every byte, in order, whatever the sizes of the writes;
// the last holdBack bytes only at flush, and none of them without it.
func TestTeeHoldsBackTheTail(t *testing.T) {
	data := make([]byte, 3*teeChunk*teeChunks+12345)
	for i := range data {
		data[i] = byte(rand.N(256))
	}
	for _, size := range []int{7, 1000, holdBack, teeChunk, teeChunk + 1, 1 << 20, len(data)} {
		for _, flush := range []bool{true, false} {
			r := &recorder{}
			tee := newTee(r)
			for p := data; len(p) > 0; {
				k := min(size, len(p))
				if n, err := tee.Write(p[:k]); n != k || err != nil {
					t.Fatalf("Write: %d, %v", n, err)
				}
				p = p[k:]
			}
			if flush {
				tee.flush()
				if !bytes.Equal(r.got.Bytes(), data) {
					t.Errorf("writes of %d: the client got %d bytes, not the blob", size, r.got.Len())
				}
			}
			tee.close()
			if !flush && (r.len() > len(data)-holdBack || !bytes.Equal(r.got.Bytes(), data[:r.len()])) {
				t.Errorf("writes of %d, no flush: the client got %d of %d bytes", size, r.len(), len(data))
			}
			tee.close() // twice is fine
		}
	}
}

// A client that goes away stops the sending, not the fill.
func TestTeeClientGone(t *testing.T) {
	r := &recorder{fail: true}
	tee := newTee(r)
	chunk := make([]byte, teeChunk)
	for range 4 * teeChunks {
		if _, err := tee.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	tee.flush()
	if !tee.flushed || r.len() != 0 {
		t.Errorf("flushed %v, got %d", tee.flushed, r.len())
	}
}
