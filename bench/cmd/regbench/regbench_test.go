package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestPRNGIsChunkingIndependent(t *testing.T) {
	const size = 10007
	whole, _ := io.ReadAll(io.LimitReader(newPRNG(7, size), size+10))
	if len(whole) != size {
		t.Fatalf("got %d bytes, want %d", len(whole), size)
	}
	r := newPRNG(7, size)
	var got []byte
	for i := 1; ; i = i%13 + 1 { // odd chunk sizes hit every alignment
		buf := make([]byte, i)
		n, err := r.Read(buf)
		got = append(got, buf[:n]...)
		if err == io.EOF {
			break
		}
	}
	if !bytes.Equal(got, whole) {
		t.Fatal("chunked read differs from whole read")
	}
	other, _ := io.ReadAll(newPRNG(8, size))
	if bytes.Equal(other, whole) {
		t.Fatal("different seeds gave the same stream")
	}
}

func TestParseChallenge(t *testing.T) {
	ch, ok := parseChallenge([]string{`Bearer realm="http://127.0.0.1:1/token",service="reg",scope="repository:a/b:pull,push"`})
	if !ok || ch.scheme != "Bearer" {
		t.Fatalf("got %+v %v", ch, ok)
	}
	want := map[string]string{"realm": "http://127.0.0.1:1/token", "service": "reg", "scope": "repository:a/b:pull,push"}
	for k, v := range want {
		if ch.params[k] != v {
			t.Errorf("%s = %q, want %q", k, ch.params[k], v)
		}
	}
	if ch, ok := parseChallenge([]string{`Basic realm=registry`}); !ok || ch.scheme != "Basic" || ch.params["realm"] != "registry" {
		t.Errorf("basic: got %+v", ch)
	}
}

func TestLoopbackOnly(t *testing.T) {
	for _, s := range []string{"http://127.0.0.1:5000", "http://localhost:1", "http://[::1]:2"} {
		u, _ := url.Parse(s)
		if err := checkLoopback(u); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	for _, s := range []string{"http://10.0.0.1:5000", "http://example.com", "ftp://127.0.0.1"} {
		u, _ := url.Parse(s)
		if checkLoopback(u) == nil {
			t.Errorf("%s accepted", s)
		}
	}
}

// fakeRegistry is an in-memory OCI registry that only accepts bearer tokens
// issued by its own /token endpoint, to exercise the whole client flow.
type fakeRegistry struct {
	mu          sync.Mutex
	blobs       map[string][]byte
	uploads     map[string]*bytes.Buffer
	manifests   map[string][]byte
	tokenCalls  atomic.Int64
	unauthCalls atomic.Int64
	srv         *httptest.Server
}

func newFakeRegistry(t *testing.T) *fakeRegistry {
	f := &fakeRegistry{blobs: map[string][]byte{}, uploads: map[string]*bytes.Buffer{}, manifests: map[string][]byte{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeRegistry) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/token" {
		if u, p, ok := r.BasicAuth(); !ok || u != "alice" || p != "s3cret" {
			http.Error(w, "bad creds", http.StatusUnauthorized)
			return
		}
		f.tokenCalls.Add(1)
		json.NewEncoder(w).Encode(map[string]any{"token": "tok " + strings.Join(r.URL.Query()["scope"], " "), "expires_in": 300})
		return
	}
	p := strings.TrimPrefix(r.URL.Path, "/v2/")
	name, rest, _ := strings.Cut(p, "/blobs/")
	if rest == "" {
		name, rest, _ = strings.Cut(p, "/manifests/")
	}
	need := "repository:" + name + ":pull"
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		need += ",push"
	}
	auth := r.Header.Get("Authorization")
	granted := strings.TrimPrefix(auth, "Bearer tok ")
	if auth == granted || !(granted == need || granted == "repository:"+name+":pull,push") {
		f.unauthCalls.Add(1)
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="%s/token",service="fake",scope="%s"`, f.srv.URL, need))
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case r.Method == http.MethodPost && rest == "uploads/":
		id := fmt.Sprint(len(f.uploads))
		f.uploads[id] = &bytes.Buffer{}
		w.Header().Set("Location", "/v2/"+name+"/blobs/uploads/"+id+"?_state=x")
		w.WriteHeader(http.StatusAccepted)
	case r.Method == http.MethodPatch:
		io.Copy(f.uploads[strings.TrimPrefix(rest, "uploads/")], r.Body)
		w.Header().Set("Location", r.URL.String())
		w.WriteHeader(http.StatusAccepted)
	case r.Method == http.MethodPut && strings.HasPrefix(rest, "uploads/"):
		b := f.uploads[strings.TrimPrefix(rest, "uploads/")].Bytes()
		sum := sha256.Sum256(b)
		if d := r.URL.Query().Get("digest"); d != "sha256:"+hex.EncodeToString(sum[:]) || r.URL.Query().Get("_state") != "x" {
			http.Error(w, "digest mismatch", http.StatusBadRequest)
			return
		}
		f.blobs[r.URL.Query().Get("digest")] = b
		w.WriteHeader(http.StatusCreated)
	case r.Method == http.MethodPut:
		f.manifests[rest], _ = io.ReadAll(r.Body)
		w.WriteHeader(http.StatusCreated)
	default:
		b, ok := f.blobs[rest]
		if m, isMan := f.manifests[rest]; isMan {
			b, ok = m, true
		}
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(b)))
		w.Write(b)
	}
}

func TestRunAgainstBearerRegistry(t *testing.T) {
	f := newFakeRegistry(t)
	var buf bytes.Buffer
	out = &buf
	defer func() { out = os.Stdout }()
	var cfg config
	cfg.user, cfg.pass, cfg.tag, cfg.seed = "alice", "s3cret", "bench", 3
	cfg.blobSize, cfg.conc, cfg.duration, cfg.requests = 3<<20+5, 4, time.Second, 200
	cfg.opTimeout = time.Minute
	if err := cfg.validate(f.srv.URL, "all"); err != nil {
		t.Fatal(err)
	}
	if err := run(cfg); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"push_3145733B", "pull_3145733B", "manifest_get_rps", "manifest_head_p99", "blob_head_p50"} {
		if !strings.Contains(buf.String(), "RESULT name="+name+" ") {
			t.Errorf("missing result %s in:\n%s", name, buf.String())
		}
	}
	if strings.Contains(buf.String(), "errors=") && !strings.Contains(buf.String(), "errors=0") {
		t.Errorf("errors reported:\n%s", buf.String())
	}
	// One token per scope (push, pull), however many requests and workers.
	if n := f.tokenCalls.Load(); n != 2 {
		t.Errorf("token fetched %d times, want 2 (cached per scope)", n)
	}
	if n := f.unauthCalls.Load(); n > 2+int64(cfg.conc) {
		t.Errorf("%d unauthorised requests: token not reused", n)
	}
	if _, ok := f.manifests["bench"]; !ok {
		t.Error("manifest not tagged bench")
	}
}
