package content_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/content"
)

const quota = 1000

// account creates user name with its namespace, gives the namespace a
// quota of bytes (0: none) and returns the user's id.
func (f *fixture) account(t *testing.T, name string, bytes int64) *int64 {
	t.Helper()
	u := &models.User{Username: name, Email: name + "@example.com", PasswordHash: "x"}
	if err := f.db.Users.Create(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	if err := f.db.Namespaces.SetQuota(context.Background(), name, bytes); err != nil {
		t.Fatal(err)
	}
	return &u.ID
}

// zeros is an endless body that never sits in memory.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// counter counts what the service read of a body.
type counter struct {
	r io.Reader
	n atomic.Int64
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// big is a 50 MiB body, counted.
func big() *counter { return &counter{r: io.LimitReader(zeros{}, 50<<20)} }

func unknown(b []byte) content.Chunk {
	return content.Chunk{Start: -1, Length: -1, Body: bytes.NewReader(b)}
}

func sized(b []byte) content.Chunk {
	return content.Chunk{Start: -1, Length: int64(len(b)), Body: bytes.NewReader(b)}
}

func (f *fixture) size(t *testing.T, name, id string, user *int64) int64 {
	t.Helper()
	up, err := f.svc.Uploads.Get(context.Background(), name, id, user)
	if err != nil {
		t.Fatal(err)
	}
	return up.Size
}

// Bytes count against the quota as they arrive, not at commit: the
// service stops reading a body as soon as it would cross the quota.
func TestQuotaCountsBytesAsTheyArrive(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(t *testing.T, f *fixture, user *int64)
	}{
		{"a 50 MiB chunk of unknown length stops right after the quota", func(t *testing.T, f *fixture, user *int64) {
			up, _ := f.svc.Uploads.Start(ctx, "alice/a", user)
			body := big()
			_, err := f.svc.Uploads.Append(ctx, "alice/a", up.ID, user, content.Chunk{Start: 0, Length: -1, Body: body})
			if !errors.Is(err, content.ErrQuotaExceeded) {
				t.Fatalf("append: %v", err)
			}
			if n := body.n.Load(); n > quota+1 {
				t.Fatalf("read %d bytes of the body, want at most %d", n, quota+1)
			}
			if got := f.size(t, "alice/a", up.ID, user); got != 0 {
				t.Fatalf("session holds %d bytes after the refusal", got)
			}
		}},
		{"a declared 50 MiB chunk is refused before a byte is read", func(t *testing.T, f *fixture, user *int64) {
			up, _ := f.svc.Uploads.Start(ctx, "alice/a", user)
			body := big()
			_, err := f.svc.Uploads.Append(ctx, "alice/a", up.ID, user, content.Chunk{Start: 0, Length: 50 << 20, Body: body})
			if !errors.Is(err, content.ErrQuotaExceeded) || body.n.Load() != 0 {
				t.Fatalf("append: %v after reading %d bytes", err, body.n.Load())
			}
		}},
		{"a monolithic 50 MiB blob stops right after the quota and leaves no data", func(t *testing.T, f *fixture, user *int64) {
			body := big()
			err := f.svc.Uploads.Put(ctx, "alice/a", digest.FromString("whatever"), content.Chunk{Start: 0, Length: -1, Body: body})
			if !errors.Is(err, content.ErrQuotaExceeded) || body.n.Load() > quota+1 {
				t.Fatalf("put: %v after reading %d bytes", err, body.n.Load())
			}
			if infos, _ := f.store.ListUploads(ctx); len(infos) != 0 {
				t.Fatalf("upload data left: %+v", infos)
			}
		}},
		{"chunks are refused on the one that crosses the quota", func(t *testing.T, f *fixture, user *int64) {
			up, _ := f.svc.Uploads.Start(ctx, "alice/a", user)
			a, b := bytes.Repeat([]byte("a"), 400), bytes.Repeat([]byte("b"), 400)
			for _, c := range []content.Chunk{unknown(a), sized(b)} {
				if _, err := f.svc.Uploads.Append(ctx, "alice/a", up.ID, user, c); err != nil {
					t.Fatal(err)
				}
			}
			third := &counter{r: bytes.NewReader(bytes.Repeat([]byte("c"), 400))}
			if _, err := f.svc.Uploads.Append(ctx, "alice/a", up.ID, user, content.Chunk{Start: 800, Length: -1, Body: third}); !errors.Is(err, content.ErrQuotaExceeded) {
				t.Fatalf("third chunk: %v", err)
			}
			if n := third.n.Load(); n > quota-800+1 {
				t.Fatalf("read %d bytes of the third chunk", n)
			}
			if _, err := f.svc.Uploads.Append(ctx, "alice/a", up.ID, user, sized(bytes.Repeat([]byte("c"), 400))); !errors.Is(err, content.ErrQuotaExceeded) {
				t.Fatalf("declared third chunk: %v", err)
			}
			if got := f.size(t, "alice/a", up.ID, user); got != 800 {
				t.Fatalf("session holds %d bytes, want 800", got)
			}
			last := bytes.Repeat([]byte("c"), 200)
			if _, err := f.svc.Uploads.Append(ctx, "alice/a", up.ID, user, unknown(last)); err != nil {
				t.Fatalf("chunk that fills the quota: %v", err)
			}
			d := digest.FromBytes(bytes.Join([][]byte{a, b, last}, nil))
			if err := f.svc.Uploads.Finish(ctx, "alice/a", up.ID, user, d, nil); err != nil {
				t.Fatalf("finish: %v", err)
			}
			// Committed content counts as well as bytes in flight.
			other, _ := f.svc.Uploads.Start(ctx, "alice/b", user)
			if _, err := f.svc.Uploads.Append(ctx, "alice/b", other.ID, user, unknown([]byte("x"))); !errors.Is(err, content.ErrQuotaExceeded) {
				t.Fatalf("byte past a full quota: %v", err)
			}
		}},
		{"a blob the namespace holds streams free, up to its size", func(t *testing.T, f *fixture, user *int64) {
			held := bytes.Repeat([]byte("h"), 600)
			d := digest.FromBytes(held)
			if err := f.svc.Uploads.Put(ctx, "alice/a", d, unknown(held)); err != nil {
				t.Fatal(err)
			}
			// 600 more bytes would not fit, but they remake what is held.
			if err := f.svc.Uploads.Put(ctx, "alice/b", d, unknown(held)); err != nil {
				t.Fatalf("monolithic re-push: %v", err)
			}
			up, _ := f.svc.Uploads.Start(ctx, "alice/c", user)
			if _, err := f.svc.Uploads.Append(ctx, "alice/c", up.ID, user, unknown(held[:300])); err != nil {
				t.Fatal(err)
			}
			if err := f.svc.Uploads.Finish(ctx, "alice/c", up.ID, user, d, &content.Chunk{Start: -1, Length: 300, Body: bytes.NewReader(held[300:])}); err != nil {
				t.Fatalf("last chunk of a re-push: %v", err)
			}
			// Past the held blob's size, bytes count again.
			body := &counter{r: io.MultiReader(bytes.NewReader(held), io.LimitReader(zeros{}, 50<<20))}
			if err := f.svc.Uploads.Put(ctx, "alice/d", d, content.Chunk{Start: 0, Length: -1, Body: body}); !errors.Is(err, content.ErrQuotaExceeded) {
				t.Fatalf("held blob with more bytes: %v", err)
			}
			if n := body.n.Load(); n > 600+(quota-600)+1 {
				t.Fatalf("read %d bytes", n)
			}
		}},
		{"a namespace without a quota takes anything", func(t *testing.T, f *fixture, _ *int64) {
			bob := f.account(t, "bob", 0)
			up, _ := f.svc.Uploads.Start(ctx, "bob/a", bob)
			body := &counter{r: io.LimitReader(zeros{}, 5<<20)}
			got, err := f.svc.Uploads.Append(ctx, "bob/a", up.ID, bob, content.Chunk{Start: 0, Length: -1, Body: body})
			if err != nil || got.Size != 5<<20 {
				t.Fatalf("append: %+v %v", got, err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := open(t, t.TempDir())
			tc.run(t, f, f.account(t, "alice", quota))
		})
	}
}

// A chunk still streaming holds its room: a second session of the same
// namespace cannot take it meanwhile, and gets what is left once the
// first chunk is recorded.
func TestQuotaConcurrentSessions(t *testing.T) {
	ctx := context.Background()
	f := open(t, t.TempDir())
	user := f.account(t, "alice", quota)
	a, _ := f.svc.Uploads.Start(ctx, "alice/a", user)
	b, _ := f.svc.Uploads.Start(ctx, "alice/b", user)
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := f.svc.Uploads.Append(ctx, "alice/a", a.ID, user, content.Chunk{Start: 0, Length: -1, Body: pr})
		done <- err
	}()
	// Write returns once the service has read the bytes, so under its
	// reservation.
	if _, err := pw.Write(bytes.Repeat([]byte("a"), 600)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Uploads.Append(ctx, "alice/b", b.ID, user, sized(bytes.Repeat([]byte("b"), 600))); !errors.Is(err, content.ErrQuotaExceeded) {
		t.Fatalf("second session while the first streams: %v", err)
	}
	pw.Close()
	if err := <-done; err != nil {
		t.Fatalf("first session: %v", err)
	}
	if _, err := f.svc.Uploads.Append(ctx, "alice/b", b.ID, user, unknown(bytes.Repeat([]byte("b"), 400))); err != nil {
		t.Fatalf("what is left: %v", err)
	}
	if _, err := f.svc.Uploads.Append(ctx, "alice/b", b.ID, user, unknown([]byte("b"))); !errors.Is(err, content.ErrQuotaExceeded) {
		t.Fatalf("a byte more: %v", err)
	}
}

// Many chunks at once in as many sessions never take the namespace past
// its quota together.
func TestQuotaParallelChunks(t *testing.T) {
	ctx := context.Background()
	f := open(t, t.TempDir())
	user := f.account(t, "alice", quota)
	var wg sync.WaitGroup
	var accepted atomic.Int64
	start := make(chan struct{})
	for range 10 {
		up, err := f.svc.Uploads.Start(ctx, "alice/a", user)
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			<-start
			_, err := f.svc.Uploads.Append(ctx, "alice/a", up.ID, user, unknown(bytes.Repeat([]byte("x"), 300)))
			switch {
			case err == nil:
				accepted.Add(300)
			case !errors.Is(err, content.ErrQuotaExceeded):
				t.Errorf("append: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	if n := accepted.Load(); n == 0 || n > quota {
		t.Fatalf("accepted %d bytes under a quota of %d", n, quota)
	}
}

// A reservation counts until it is released or expires: a replica that
// died mid-request blocks its namespace's room only until then.
func TestQuotaReservationExpires(t *testing.T) {
	ctx := context.Background()
	f := open(t, t.TempDir())
	user := f.account(t, "alice", quota)
	up, _ := f.svc.Uploads.Start(ctx, "alice/a", user)
	now := time.Now()
	if res, err := f.db.Namespaces.Reserve(ctx, "live", "alice", quota, now, now.Add(time.Hour)); err != nil || res.Bytes != quota {
		t.Fatalf("reserve: %+v %v", res, err)
	}
	if _, err := f.svc.Uploads.Append(ctx, "alice/a", up.ID, user, unknown([]byte("x"))); !errors.Is(err, content.ErrQuotaExceeded) {
		t.Fatalf("byte past a live reservation: %v", err)
	}
	if err := f.db.Namespaces.Release(ctx, "live"); err != nil {
		t.Fatal(err)
	}
	past := now.Add(-time.Hour)
	if _, err := f.db.Namespaces.Reserve(ctx, "dead", "alice", quota, past, past.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Uploads.Append(ctx, "alice/a", up.ID, user, unknown(bytes.Repeat([]byte("x"), quota))); err != nil {
		t.Fatalf("append past an expired reservation: %v", err)
	}
}
