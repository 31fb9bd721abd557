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
	basicCalls  atomic.Int64 // registry (not realm) requests carrying Basic credentials
	expiresIn   int
	requests    atomic.Int64 // registry (not realm) requests
	writes      atomic.Int64 // registry requests other than GET and HEAD
	srv         *httptest.Server
}

func newFakeRegistry(t *testing.T) *fakeRegistry {
	f := &fakeRegistry{blobs: map[string][]byte{}, uploads: map[string]*bytes.Buffer{}, manifests: map[string][]byte{}, expiresIn: 300}
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
		json.NewEncoder(w).Encode(map[string]any{"token": "tok " + strings.Join(r.URL.Query()["scope"], " "), "expires_in": f.expiresIn})
		return
	}
	if strings.HasPrefix(r.Header.Get("Authorization"), "Basic ") {
		f.basicCalls.Add(1)
	}
	f.requests.Add(1)
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		f.writes.Add(1)
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

func runFake(t *testing.T, f *fakeRegistry, mode string) string {
	t.Helper()
	var buf bytes.Buffer
	out = &buf
	defer func() { out = os.Stdout }()
	var cfg config
	cfg.user, cfg.pass, cfg.tag, cfg.seed, cfg.auth = "alice", "s3cret", "bench", 3, mode
	cfg.blobSize, cfg.conc, cfg.duration, cfg.requests = 3<<20+5, 4, time.Second, 200
	cfg.opTimeout = time.Minute
	if err := cfg.validate(f.srv.URL, "all"); err != nil {
		t.Fatal(err)
	}
	if err := run(cfg); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"push_3145733B", "pull_3145733B", "manifest_get_rps", "manifest_head_p99", "blob_head_p50", "token_fetches", "auth_401s"} {
		if !strings.Contains(buf.String(), "RESULT name="+name+" ") {
			t.Errorf("missing result %s in:\n%s", name, buf.String())
		}
	}
	if strings.Contains(buf.String(), "errors=") && !strings.Contains(buf.String(), "errors=0") {
		t.Errorf("errors reported:\n%s", buf.String())
	}
	if _, ok := f.manifests["bench"]; !ok {
		t.Error("manifest not tagged bench")
	}
	return buf.String()
}

// Basic mode sends Basic preemptively; a Bearer challenge still gets a
// token, fetched once per scope and reused by every worker.
func TestRunAgainstBearerRegistryBasicMode(t *testing.T) {
	f := newFakeRegistry(t)
	res := runFake(t, f, authBasic)
	if n := f.tokenCalls.Load(); n != 2 {
		t.Errorf("token fetched %d times, want 2 (cached per scope)", n)
	}
	if n := f.unauthCalls.Load(); n > 3+int64(4) {
		t.Errorf("%d unauthorised requests: token not reused", n)
	}
	if !strings.Contains(res, "RESULT name=token_fetches value=2.000 unit=count") {
		t.Errorf("token_fetches not reported as 2:\n%s", res)
	}
}

// Token mode is what docker does: the registry never sees the password;
// the ping's challenge names the realm, a token per scope is fetched before
// the first request needing it, and no workload request is ever refused.
func TestRunTokenModeNeverSendsBasic(t *testing.T) {
	f := newFakeRegistry(t)
	res := runFake(t, f, authToken)
	if n := f.basicCalls.Load(); n != 0 {
		t.Errorf("%d registry requests carried Basic credentials", n)
	}
	if n := f.tokenCalls.Load(); n != 2 {
		t.Errorf("token fetched %d times, want 2 (pull,push then pull)", n)
	}
	if n := f.unauthCalls.Load(); n != 1 {
		t.Errorf("%d unauthorised requests, want 1 (the ping)", n)
	}
	for _, want := range []string{"RESULT name=token_fetches value=2.000 unit=count", "RESULT name=auth_401s value=0.000 unit=count"} {
		if !strings.Contains(res, want) {
			t.Errorf("missing %q in:\n%s", want, res)
		}
	}
}

// A cached token is renewed shortly before it expires, and a challenge for
// a scope other than the one asked for is followed and remembered.
func TestTokenRefreshAndChallengedScope(t *testing.T) {
	f := newFakeRegistry(t)
	u, _ := url.Parse(f.srv.URL)
	c := newClient(u, "alice", "s3cret", authToken, 1)
	if err := ping(c, 0); err != nil {
		t.Fatal(err)
	}
	f.blobs["sha256:x"] = []byte("hi")
	head := func() {
		t.Helper()
		resp, err := c.do(t.Context(), request{method: http.MethodHead, url: c.url("/v2/a/b/blobs/sha256:x")})
		if err != nil {
			t.Fatal(err)
		}
		drain(resp)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("HEAD: %s", resp.Status)
		}
	}
	clock := time.Now()
	now = func() time.Time { return clock }
	defer func() { now = time.Now }()
	head()
	clock = clock.Add(260 * time.Second) // 5-minute token, 40s left: still used
	head()
	if n := f.tokenCalls.Load(); n != 1 {
		t.Fatalf("%d token fetches within the token's life, want 1", n)
	}
	clock = clock.Add(20 * time.Second) // 20s left: renewed before expiry
	head()
	if n := f.tokenCalls.Load(); n != 2 {
		t.Fatalf("%d token fetches, want 2 (renewed before expiry)", n)
	}
	if n := f.unauthCalls.Load(); n != 1 {
		t.Errorf("%d unauthorised requests, want 1 (the ping)", n)
	}

	// A push token presented where the registry wants a different scope:
	// the challenge's scope is fetched, then used without further 401s.
	c.mu.Lock()
	c.scopes["a/b|pull"] = "repository:a/b:push"
	c.mu.Unlock()
	head() // asks for push-only, refused, follows the challenge (pull)
	head()
	if n := f.unauthCalls.Load(); n != 2 {
		t.Errorf("%d unauthorised requests, want 2 (ping + one challenge)", n)
	}
	if n := c.challenged.Load(); n != 1 {
		t.Errorf("challenged = %d, want 1", n)
	}
}

// -readonly pushes nothing and makes the timed pull the first request for
// the blob; -pulls and -prefix shape what is reported.
func TestReadonlyRun(t *testing.T) {
	f := newFakeRegistry(t)
	runFake(t, f, authToken)
	writes := f.writes.Load()

	var buf bytes.Buffer
	out = &buf
	defer func() { out = os.Stdout }()
	var cfg config
	cfg.user, cfg.pass, cfg.tag, cfg.seed, cfg.auth = "alice", "s3cret", "bench", 3, authToken
	cfg.blobSize, cfg.conc, cfg.duration, cfg.requests = 3<<20+5, 2, time.Second, 20
	cfg.opTimeout, cfg.readonly, cfg.prefix, cfg.pulls = time.Minute, true, "cold_", 3
	if err := cfg.validate(f.srv.URL, "all"); err != nil {
		t.Fatal(err)
	}
	if cfg.only["push"] || cfg.only["image"] {
		t.Fatal("-readonly kept a push workload")
	}
	before := f.requests.Load()
	if err := run(cfg); err != nil {
		t.Fatal(err)
	}
	if n := f.writes.Load() - writes; n != 0 {
		t.Errorf("-readonly sent %d writes", n)
	}
	// ping, 3 pulls, 1 manifest fetch, and 3 × (1 warm-up + 20) load requests
	if n, want := f.requests.Load()-before, int64(1+3+1+3*21); n != want {
		t.Errorf("%d registry requests, want %d", n, want)
	}
	for _, name := range []string{"cold_pull_3145733B", "cold_manifest_get_p50", "cold_blob_head_rps", "cold_token_fetches"} {
		if !strings.Contains(buf.String(), "RESULT name="+name+" ") {
			t.Errorf("missing result %s in:\n%s", name, buf.String())
		}
	}
	if !strings.Contains(buf.String(), "pulls=3") {
		t.Errorf("median not over 3 pulls:\n%s", buf.String())
	}

	bad := cfg
	bad.readonly = true
	if err := bad.validate(f.srv.URL, "push"); err == nil {
		t.Error("-readonly -only push accepted")
	}
	f.manifests["bench"] = []byte(`{"layers":[]}`)
	if err := run(cfg); err == nil || !strings.Contains(err.Error(), "not the image") {
		t.Errorf("a foreign manifest: %v", err)
	}
}
