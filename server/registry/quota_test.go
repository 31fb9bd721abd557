package registry_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/wharfhub/wharf/server/servertest"
)

// zeros is an endless body that never sits in memory.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// readCount counts what the server's handlers read of request bodies.
type readCount struct {
	io.ReadCloser
	n *atomic.Int64
}

func (c readCount) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// countingServer serves e's handler and counts the request body bytes it
// reads into n.
func (e *env) countingServer(n *atomic.Int64) *httptest.Server {
	e.t.Helper()
	h := servertest.Handler(e.t, e.app)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = readCount{r.Body, n}
		h.ServeHTTP(w, r)
	}))
	e.t.Cleanup(srv.Close)
	return srv
}

// stream sends body as alice; length -1 sends it chunked, without a
// Content-Length.
func (e *env) stream(method, path string, body io.Reader, length int64) resp {
	e.t.Helper()
	return e.streamTo(e.srv.URL, method, path, body, length)
}

func (e *env) streamTo(base, method, path string, body io.Reader, length int64) resp {
	e.t.Helper()
	r, err := http.NewRequest(method, base+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	r.ContentLength = length
	r.SetBasicAuth(alice, alicePw)
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

func (e *env) setQuota(ns string, bytes int64) {
	e.t.Helper()
	if err := e.app.DB.Namespaces.SetQuota(context.Background(), ns, bytes); err != nil {
		e.t.Fatal(err)
	}
}

func denied(t *testing.T, step string, r resp) {
	t.Helper()
	if r.status != http.StatusForbidden || r.code() != "DENIED" || !strings.Contains(string(r.body), "quota") {
		t.Fatalf("%s: got %d %s, want 403 DENIED about the quota", step, r.status, r.body)
	}
}

func rangeOf(t *testing.T, e *env, path string) string {
	t.Helper()
	st := e.do(as("GET", path, nil))
	if st.status != http.StatusNoContent {
		t.Fatalf("upload status: %d %s", st.status, st.body)
	}
	return st.header.Get("Range")
}

// Upload bytes count against the quota as they arrive: with 1,000 bytes of
// quota a 50 MiB PATCH is refused with DENIED long before 50 MiB, chunks
// are refused on the one that crosses the quota, and parallel sessions
// cannot pass it together.
func TestQuotaCountsUploadsInFlight(t *testing.T) {
	const quota = 1000
	tests := []struct {
		name string
		run  func(t *testing.T, e *env)
	}{
		{"a chunked 50 MiB PATCH is refused after about the quota", func(t *testing.T, e *env) {
			var read atomic.Int64
			srv := e.countingServer(&read)
			p := e.start("alice/big")
			denied(t, "PATCH", e.streamTo(srv.URL, "PATCH", p, io.LimitReader(zeros{}, 50<<20), -1))
			if n := read.Load(); n > quota+64<<10 {
				t.Fatalf("the server read %d bytes of the body", n)
			}
			if got := rangeOf(t, e, p); got != "0-0" {
				t.Fatalf("the refused chunk was kept: Range %q", got)
			}
		}},
		{"a PATCH declaring 50 MiB is refused before its body is read", func(t *testing.T, e *env) {
			var read atomic.Int64
			srv := e.countingServer(&read)
			p := e.start("alice/big")
			denied(t, "PATCH", e.streamTo(srv.URL, "PATCH", p, io.LimitReader(zeros{}, 50<<20), 50<<20))
			if n := read.Load(); n != 0 {
				t.Fatalf("the server read %d bytes of the body", n)
			}
			if got := rangeOf(t, e, p); got != "0-0" {
				t.Fatalf("Range %q", got)
			}
		}},
		{"a monolithic POST over the quota is refused", func(t *testing.T, e *env) {
			b := bytes.Repeat([]byte("m"), quota+1)
			d := digest.FromBytes(b)
			denied(t, "POST", e.stream("POST", "/v2/alice/mono/blobs/uploads/?digest="+d.String(), bytes.NewReader(b), -1))
			if r := e.do(as("HEAD", "/v2/alice/mono/blobs/"+d.String(), nil)); r.status != 404 {
				t.Fatalf("refused blob visible: %d", r.status)
			}
		}},
		{"chunks are refused on the one that crosses the quota", func(t *testing.T, e *env) {
			p := e.start("alice/chunks")
			var all []byte
			for i, c := range []string{"a", "b"} {
				b := bytes.Repeat([]byte(c), 400)
				if r := e.do(chunk(p, i*400, b)); r.status != http.StatusAccepted {
					t.Fatalf("chunk %d: %d %s", i, r.status, r.body)
				}
				all = append(all, b...)
			}
			denied(t, "third chunk", e.do(chunk(p, 800, bytes.Repeat([]byte("c"), 400))))
			denied(t, "third chunk sent chunked", e.stream("PATCH", p, bytes.NewReader(bytes.Repeat([]byte("c"), 400)), -1))
			if got := rangeOf(t, e, p); got != "0-799" {
				t.Fatalf("Range %q after the refusal, want 0-799", got)
			}
			last := bytes.Repeat([]byte("c"), 200)
			all = append(all, last...)
			if r := e.do(as("PUT", p+"?digest="+digest.FromBytes(all).String(), last)); r.status != http.StatusCreated {
				t.Fatalf("finish at the quota: %d %s", r.status, r.body)
			}
			denied(t, "a byte past the full quota", e.do(as("PATCH", e.start("alice/more"), []byte("x"))))
		}},
		{"parallel sessions cannot pass the quota together", func(t *testing.T, e *env) {
			var paths []string
			for range 8 {
				paths = append(paths, e.start("alice/parallel"))
			}
			var wg sync.WaitGroup
			var accepted atomic.Int64
			for _, p := range paths {
				wg.Go(func() {
					r := e.stream("PATCH", p, bytes.NewReader(bytes.Repeat([]byte("p"), 300)), -1)
					switch {
					case r.status == http.StatusAccepted:
						accepted.Add(300)
					case r.code() != "DENIED":
						t.Errorf("PATCH: %d %s", r.status, r.body)
					}
				})
			}
			wg.Wait()
			if n := accepted.Load(); n == 0 || n > quota {
				t.Fatalf("accepted %d bytes under a quota of %d", n, quota)
			}
		}},
		{"a namespace without a quota is unaffected", func(t *testing.T, e *env) {
			e.setQuota("alice", 0)
			p := e.start("alice/free")
			body := io.LimitReader(zeros{}, 5<<20)
			if r := e.stream("PATCH", p, body, -1); r.status != http.StatusAccepted {
				t.Fatalf("PATCH: %d %s", r.status, r.body)
			}
			if got := rangeOf(t, e, p); got != fmt.Sprintf("0-%d", 5<<20-1) {
				t.Fatalf("Range %q", got)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.setQuota("alice", quota)
			tc.run(t, e)
		})
	}
}
