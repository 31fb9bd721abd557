package mirrortest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
)

// fakeRegistry is a minimal upstream: a token realm, one manifest and one
// blob in repository "lib/app", an upload start and a redirect.
type fakeRegistry struct {
	srv      *httptest.Server
	manifest []byte
	blob     []byte
	blobDgst digest.Digest
	hits     atomic.Int64

	mu   sync.Mutex
	last *http.Request // the last request, as received
	// gate, when set, makes GET /v2/lib/app/blobs/sha256:stream write
	// half of the blob, flush, and wait for it to be closed.
	gate chan struct{}
}

func newFakeRegistry(t *testing.T) *fakeRegistry {
	f := &fakeRegistry{manifest: []byte(`{"schemaVersion":2}`), blob: bytes.Repeat([]byte("0123456789abcdef"), 4096)}
	f.blobDgst = digest.FromBytes(f.blob)
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeRegistry) serve(w http.ResponseWriter, r *http.Request) {
	f.hits.Add(1)
	f.mu.Lock()
	f.last = r.Clone(r.Context())
	gate := f.gate
	f.mu.Unlock()
	h := w.Header()
	switch p := r.URL.Path; {
	case p == "/v2/":
		h.Set("WWW-Authenticate", `Bearer realm="`+f.srv.URL+`/token",service="fake",scope="repository:lib/app:pull"`)
		h.Add("WWW-Authenticate", `Basic realm="https://elsewhere.example/token"`)
		w.WriteHeader(http.StatusUnauthorized)
	case p == "/token":
		fmt.Fprintf(w, `{"token":"tok-%s"}`, r.URL.Query().Get("scope"))
	case p == "/v2/lib/app/manifests/latest":
		h.Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
		h.Set("Content-Length", strconv.Itoa(len(f.manifest)))
		w.Write(f.manifest)
	case p == "/v2/lib/app/blobs/"+f.blobDgst.String():
		h.Set("Content-Length", strconv.Itoa(len(f.blob)))
		w.Write(f.blob)
	case p == "/v2/lib/app/blobs/sha256:empty":
		h.Set("Content-Length", "0")
	case p == "/v2/lib/app/blobs/sha256:stream":
		h.Set("Content-Length", strconv.Itoa(len(f.blob)))
		w.Write(f.blob[:len(f.blob)/2])
		w.(http.Flusher).Flush()
		if gate != nil {
			<-gate
		}
		w.Write(f.blob[len(f.blob)/2:])
	case p == "/v2/lib/app/blobs/uploads/" && r.Method == http.MethodPost:
		h.Set("Location", f.srv.URL+"/v2/lib/app/blobs/uploads/u1?_state=x")
		w.WriteHeader(http.StatusAccepted)
	case p == "/v2/lib/app/blobs/sha256:moved":
		h.Set("Location", f.srv.URL+"/storage/blob?sig=1")
		w.WriteHeader(http.StatusTemporaryRedirect)
	case p == "/v2/lib/app/blobs/sha256:relative":
		h.Set("Location", "/storage/blob")
		w.WriteHeader(http.StatusTemporaryRedirect)
	case p == "/v2/lib/app/blobs/sha256:foreign":
		h.Set("Location", "http://other.example/blob")
		w.WriteHeader(http.StatusTemporaryRedirect)
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeRegistry) lastRequest() *http.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last
}

// noRedirect is a client that shows redirects instead of following them.
var noRedirect = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func get(t *testing.T, method, url string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, url, err)
	}
	return resp, body
}

func TestKindOf(t *testing.T) {
	for _, c := range []struct {
		method, path string
		want         Kind
	}{
		{"GET", "/v2/lib/app/manifests/latest", KindManifestGET},
		{"GET", "/v2/a/b/c/manifests/sha256:abc", KindManifestGET},
		{"HEAD", "/v2/lib/app/manifests/latest", KindManifestHEAD},
		{"PUT", "/v2/lib/app/manifests/latest", KindOther},
		{"DELETE", "/v2/lib/app/manifests/sha256:abc", KindOther},
		{"GET", "/v2/lib/app/blobs/sha256:abc", KindBlobGET},
		{"HEAD", "/v2/lib/app/blobs/sha256:abc", KindBlobHEAD},
		{"GET", "/v2/blobs/blobs/sha256:abc", KindBlobGET},
		{"POST", "/v2/lib/app/blobs/uploads/", KindOther},
		{"PUT", "/v2/lib/app/blobs/uploads/u1", KindOther},
		{"GET", "/v2/lib/app/blobs/uploads/u1", KindOther},
		{"GET", "/v2/manifests/x", KindOther}, // no repository name
		{"GET", "/v2/", KindOther},
		{"GET", "/v2", KindOther},
		{"GET", "/v2/lib/app/tags/list", KindOther},
		{"GET", "/v2/_catalog", KindOther},
		{"GET", "/token", KindToken},
		{"POST", "/oauth/token", KindToken},
		{"GET", "/", KindToken},
	} {
		if got := KindOf(c.method, c.path); got != c.want {
			t.Errorf("KindOf(%s, %s) = %q, want %q", c.method, c.path, got, c.want)
		}
	}
}

func TestProxyPass(t *testing.T) {
	f := newFakeRegistry(t)
	p := NewProxy(t, f.srv.URL)
	if !strings.HasPrefix(p.URL(), "http://127.0.0.1:") {
		t.Fatalf("URL() = %q", p.URL())
	}

	// The /v2/ challenge: realm on the upstream rewritten, others kept.
	resp, _ := get(t, "GET", p.URL()+"/v2/")
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("/v2/: %s", resp.Status)
	}
	wa := resp.Header.Values("WWW-Authenticate")
	wantWA := []string{
		`Bearer realm="` + p.URL() + `/token",service="fake",scope="repository:lib/app:pull"`,
		`Basic realm="https://elsewhere.example/token"`,
	}
	if fmt.Sprint(wa) != fmt.Sprint(wantWA) {
		t.Errorf("WWW-Authenticate = %q\nwant %q", wa, wantWA)
	}

	// Token: query and headers forwarded, Host is the upstream's.
	resp, body := get(t, "GET", p.URL()+"/token?scope=repository:lib/app:pull&service=fake",
		"Authorization", "Basic dTpw", "X-Custom", "yes")
	if string(body) != `{"token":"tok-repository:lib/app:pull"}` {
		t.Errorf("token body %q", body)
	}
	last := f.lastRequest()
	if last.Header.Get("Authorization") != "Basic dTpw" || last.Header.Get("X-Custom") != "yes" {
		t.Errorf("upstream saw headers %v", last.Header)
	}
	if last.Host != strings.TrimPrefix(f.srv.URL, "http://") {
		t.Errorf("upstream saw Host %q", last.Host)
	}
	if last.Header.Get("X-Forwarded-For") != "" {
		t.Errorf("upstream saw X-Forwarded-For %q", last.Header.Get("X-Forwarded-For"))
	}

	resp, body = get(t, "GET", p.URL()+"/v2/lib/app/manifests/latest", "Authorization", "Bearer tok")
	if !bytes.Equal(body, f.manifest) || resp.Header.Get("Content-Type") != "application/vnd.oci.image.manifest.v1+json" {
		t.Errorf("manifest GET: %s %q %v", resp.Status, body, resp.Header)
	}
	if got := f.lastRequest().Header.Get("Authorization"); got != "Bearer tok" {
		t.Errorf("upstream saw Authorization %q", got)
	}
	resp, body = get(t, "HEAD", p.URL()+"/v2/lib/app/manifests/latest")
	if resp.StatusCode != 200 || len(body) != 0 || resp.ContentLength != int64(len(f.manifest)) {
		t.Errorf("manifest HEAD: %s, %d bytes, Content-Length %d", resp.Status, len(body), resp.ContentLength)
	}
	blobURL := p.URL() + "/v2/lib/app/blobs/" + f.blobDgst.String()
	_, body = get(t, "GET", blobURL)
	if !bytes.Equal(body, f.blob) {
		t.Errorf("blob GET: %d bytes, want the blob's %d", len(body), len(f.blob))
	}
	get(t, "HEAD", blobURL)
	get(t, "HEAD", blobURL)

	// Location: absolute on the upstream rewritten, others kept.
	resp, _ = get(t, "POST", p.URL()+"/v2/lib/app/blobs/uploads/")
	if got, want := resp.Header.Get("Location"), p.URL()+"/v2/lib/app/blobs/uploads/u1?_state=x"; got != want {
		t.Errorf("upload Location %q, want %q", got, want)
	}
	for path, want := range map[string]string{
		"sha256:moved":    p.URL() + "/storage/blob?sig=1",
		"sha256:relative": "/storage/blob",
		"sha256:foreign":  "http://other.example/blob",
	} {
		resp, _ = get(t, "GET", p.URL()+"/v2/lib/app/blobs/"+path)
		if got := resp.Header.Get("Location"); resp.StatusCode != http.StatusTemporaryRedirect || got != want {
			t.Errorf("%s: %s, Location %q, want %q", path, resp.Status, got, want)
		}
	}
	// The redirect target is not under /v2/: it counts as KindToken.
	get(t, "GET", p.URL()+"/storage/blob?sig=1")

	want := map[Kind]int{KindOther: 2, KindToken: 2, KindManifestGET: 1, KindManifestHEAD: 1, KindBlobGET: 4, KindBlobHEAD: 2}
	for k, n := range want {
		if got := p.Count(k); got != n {
			t.Errorf("Count(%s) = %d, want %d (all: %v)", k, got, n, p.Counts())
		}
	}
	p.Reset()
	for k := range want {
		if got := p.Count(k); got != 0 {
			t.Errorf("after Reset, Count(%s) = %d", k, got)
		}
	}
}

func TestProxyErrorModes(t *testing.T) {
	f := newFakeRegistry(t)
	p := NewProxy(t, f.srv.URL)
	for _, c := range []struct {
		mode       Mode
		retryAfter int
		status     int
		code       string
	}{
		{TooMany, 0, http.StatusTooManyRequests, "TOOMANYREQUESTS"},
		{Unavailable, 0, http.StatusServiceUnavailable, "UNAVAILABLE"},
		{TooMany, 7, http.StatusTooManyRequests, "TOOMANYREQUESTS"},
	} {
		t.Run(c.mode.String(), func(t *testing.T) {
			if c.retryAfter != 0 {
				p.RetryAfter = c.retryAfter
			}
			wantRA := strconv.Itoa(p.RetryAfter)
			p.SetMode(c.mode)
			p.Reset()
			hits := f.hits.Load()
			for _, u := range []string{"/v2/lib/app/manifests/latest", "/token", "/v2/lib/app/blobs/" + f.blobDgst.String()} {
				resp, body := get(t, "GET", p.URL()+u)
				if resp.StatusCode != c.status || resp.Header.Get("Retry-After") != wantRA ||
					resp.Header.Get("Content-Type") != "application/json" {
					t.Errorf("GET %s: %s, Retry-After %q, Content-Type %q", u, resp.Status,
						resp.Header.Get("Retry-After"), resp.Header.Get("Content-Type"))
				}
				var e struct {
					Errors []struct{ Code, Message string }
				}
				if err := json.Unmarshal(body, &e); err != nil || len(e.Errors) != 1 || e.Errors[0].Code != c.code {
					t.Errorf("GET %s: body %q (%v), want one error %s", u, body, err, c.code)
				}
			}
			resp, body := get(t, "HEAD", p.URL()+"/v2/lib/app/manifests/latest")
			if resp.StatusCode != c.status || len(body) != 0 {
				t.Errorf("HEAD: %s, %d bytes", resp.Status, len(body))
			}
			if got := f.hits.Load() - hits; got != 0 {
				t.Errorf("%d requests reached the upstream", got)
			}
			for k, n := range map[Kind]int{KindManifestGET: 1, KindManifestHEAD: 1, KindToken: 1, KindBlobGET: 1} {
				if got := p.Count(k); got != n {
					t.Errorf("Count(%s) = %d, want %d", k, got, n)
				}
			}
		})
	}
	p.SetMode(Pass)
	if resp, _ := get(t, "GET", p.URL()+"/v2/lib/app/manifests/latest"); resp.StatusCode != 200 {
		t.Errorf("back to Pass: %s", resp.Status)
	}
}

func TestProxyDrop(t *testing.T) {
	f := newFakeRegistry(t)
	p := NewProxy(t, f.srv.URL)
	p.SetMode(Drop)
	hits := f.hits.Load()
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(p.URL() + "/v2/lib/app/manifests/latest")
	if err == nil {
		resp.Body.Close()
		t.Fatalf("Drop: got a response, %s", resp.Status)
	}
	if n := p.Count(KindManifestGET); n < 1 {
		t.Errorf("Count(manifest GET) = %d", n)
	}
	if got := f.hits.Load() - hits; got != 0 {
		t.Errorf("%d requests reached the upstream", got)
	}
	p.SetMode(Pass)
	resp, err = client.Get(p.URL() + "/v2/lib/app/manifests/latest")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("back to Pass: %s", resp.Status)
	}
}

func TestProxyCorruptBlobs(t *testing.T) {
	f := newFakeRegistry(t)
	p := NewProxy(t, f.srv.URL)
	p.SetMode(CorruptBlobs)
	resp, body := get(t, "GET", p.URL()+"/v2/lib/app/blobs/"+f.blobDgst.String())
	if resp.StatusCode != 200 || resp.ContentLength != int64(len(f.blob)) || len(body) != len(f.blob) {
		t.Fatalf("blob GET: %s, Content-Length %d, %d bytes; want %d", resp.Status, resp.ContentLength, len(body), len(f.blob))
	}
	var diff []int
	for i := range body {
		if body[i] != f.blob[i] {
			diff = append(diff, i)
		}
	}
	if len(diff) != 1 || diff[0] != len(f.blob)/2 {
		t.Errorf("bytes changed at %v, want only at %d", diff, len(f.blob)/2)
	}
	if digest.FromBytes(body) == f.blobDgst {
		t.Error("digest unchanged")
	}
	// Manifests, HEADs, empty blobs and error bodies are left alone.
	if _, body := get(t, "GET", p.URL()+"/v2/lib/app/manifests/latest"); !bytes.Equal(body, f.manifest) {
		t.Errorf("manifest changed: %q", body)
	}
	if resp, body := get(t, "HEAD", p.URL()+"/v2/lib/app/blobs/"+f.blobDgst.String()); resp.StatusCode != 200 || len(body) != 0 ||
		resp.ContentLength != int64(len(f.blob)) {
		t.Errorf("blob HEAD: %s, %d bytes, Content-Length %d", resp.Status, len(body), resp.ContentLength)
	}
	if resp, body := get(t, "GET", p.URL()+"/v2/lib/app/blobs/sha256:empty"); resp.StatusCode != 200 || len(body) != 0 {
		t.Errorf("empty blob: %s, %d bytes", resp.Status, len(body))
	}
	if resp, body := get(t, "GET", p.URL()+"/v2/lib/app/blobs/sha256:missing"); resp.StatusCode != 404 ||
		string(body) != "404 page not found\n" {
		t.Errorf("missing blob: %s, %q", resp.Status, body)
	}
	if p.Count(KindBlobGET) != 3 || p.Count(KindBlobHEAD) != 1 || p.Count(KindManifestGET) != 1 {
		t.Errorf("counts %v", p.Counts())
	}
}

// TestProxyStreams checks that a blob body reaches the client while the
// upstream is still sending it, in Pass and CorruptBlobs modes.
func TestProxyStreams(t *testing.T) {
	f := newFakeRegistry(t)
	p := NewProxy(t, f.srv.URL)
	for _, mode := range []Mode{Pass, CorruptBlobs} {
		t.Run(mode.String(), func(t *testing.T) {
			p.SetMode(mode)
			gate := make(chan struct{})
			f.mu.Lock()
			f.gate = gate
			f.mu.Unlock()
			released := false
			defer func() {
				if !released {
					close(gate)
				}
			}()
			resp, err := http.Get(p.URL() + "/v2/lib/app/blobs/sha256:stream")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			half := len(f.blob) / 2
			first := make([]byte, half)
			done := make(chan error, 1)
			go func() { _, err := io.ReadFull(resp.Body, first); done <- err }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the first half of the blob did not come through before the upstream sent the rest")
			}
			close(gate)
			released = true
			rest, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			got := append(first, rest...)
			want := bytes.Clone(f.blob)
			if mode == CorruptBlobs {
				want[half] ^= 0xff
			}
			if !bytes.Equal(got, want) {
				t.Errorf("body (%d bytes) is not the expected %d bytes", len(got), len(want))
			}
		})
	}
}

func TestProxyConcurrent(t *testing.T) {
	f := newFakeRegistry(t)
	p := NewProxy(t, f.srv.URL)
	const workers, each = 6, 25
	stop := make(chan struct{})
	var ctl sync.WaitGroup
	ctl.Go(func() {
		modes := []Mode{Pass, CorruptBlobs, TooMany, Unavailable, Pass}
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			p.SetMode(modes[i%len(modes)])
			_ = p.Count(KindBlobGET)
			_ = p.Counts()
			time.Sleep(time.Millisecond)
		}
	})
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Second}
	paths := []string{"/v2/lib/app/manifests/latest", "/v2/lib/app/blobs/" + f.blobDgst.String(), "/token", "/v2/"}
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				resp, err := client.Get(p.URL() + paths[(w+i)%len(paths)])
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	close(stop)
	ctl.Wait()
	total := 0
	for _, n := range p.Counts() {
		total += n
	}
	if total != workers*each {
		t.Errorf("counted %d requests, want %d: %v", total, workers*each, p.Counts())
	}
	p.Reset()
	if n := len(p.Counts()); n != 0 {
		t.Errorf("after Reset: %v", p.Counts())
	}
}

func TestRandomImage(t *testing.T) {
	a, b := RandomImage(1, 3, 1000), RandomImage(1, 3, 1000)
	if !bytes.Equal(a.Manifest, b.Manifest) || a.Digest != b.Digest || !bytes.Equal(a.Layers[2], b.Layers[2]) {
		t.Error("RandomImage is not deterministic")
	}
	c := RandomImage(2, 3, 1000)
	if c.Digest == a.Digest || bytes.Equal(c.Layers[0], a.Layers[0]) || bytes.Equal(a.Layers[0], a.Layers[1]) {
		t.Error("RandomImage repeats itself")
	}
	if a.Digest != digest.FromBytes(a.Manifest) || a.MediaType != MediaTypeManifest {
		t.Errorf("digest %s / media type %s", a.Digest, a.MediaType)
	}
	var m ociManifest
	if err := json.Unmarshal(a.Manifest, &m); err != nil {
		t.Fatal(err)
	}
	if m.SchemaVersion != 2 || m.MediaType != MediaTypeManifest || m.Config.Digest != digest.FromBytes(a.Config) ||
		m.Config.MediaType != MediaTypeConfig || m.Config.Size != int64(len(a.Config)) || len(m.Layers) != 3 {
		t.Fatalf("manifest %s", a.Manifest)
	}
	for i, l := range m.Layers {
		if l.Digest != digest.FromBytes(a.Layers[i]) || l.Size != 1000 || len(a.Layers[i]) != 1000 || l.MediaType != MediaTypeLayer {
			t.Errorf("layer %d: %+v", i, l)
		}
	}
	if e := RandomImage(3, 0, 0); !strings.Contains(string(e.Manifest), `"layers":[]`) {
		t.Errorf("no layers: %s", e.Manifest)
	}
}

// TestDistribution runs the real upstream: Distribution without and with
// htpasswd, an image pushed to it, read back through a Proxy.
func TestDistribution(t *testing.T) {
	bin := DistributionBinary(t)
	for _, c := range []struct{ name, user, password string }{
		{"anonymous", "", ""},
		{"htpasswd", "alice", "s3cret-pw"},
	} {
		t.Run(c.name, func(t *testing.T) {
			base := StartDistribution(t, bin, c.user, c.password)
			p := NewProxy(t, base)
			img := RandomImage(42, 2, 300<<10)
			Push(t, base, "lib/app", "v1", c.user, c.password, img)
			// Pushing through the proxy follows its rewritten Locations.
			img2 := RandomImage(43, 1, 1000)
			Push(t, p.URL(), "lib/other", "v1", c.user, c.password, img2)
			if n := p.Count(KindOther); n != 5 { // 2 blobs x (POST + PUT) + manifest PUT
				t.Errorf("push through the proxy: Count(other) = %d, want 5 (%v)", n, p.Counts())
			}
			p.Reset()

			auth := []string{"Accept", MediaTypeManifest}
			if c.user != "" {
				req, _ := http.NewRequest("GET", "/", nil)
				req.SetBasicAuth(c.user, c.password)
				auth = append(auth, "Authorization", req.Header.Get("Authorization"))

				resp, _ := get(t, "GET", p.URL()+"/v2/lib/app/manifests/v1")
				if resp.StatusCode != http.StatusUnauthorized ||
					!strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic ") {
					t.Errorf("without credentials: %s, WWW-Authenticate %q", resp.Status, resp.Header.Get("WWW-Authenticate"))
				}
			}
			for _, ref := range []string{"v1", img.Digest.String()} {
				resp, body := get(t, "GET", p.URL()+"/v2/lib/app/manifests/"+ref, auth...)
				if resp.StatusCode != 200 || !bytes.Equal(body, img.Manifest) ||
					resp.Header.Get("Docker-Content-Digest") != img.Digest.String() {
					t.Errorf("manifest %s: %s, %d bytes, digest %q", ref, resp.Status, len(body), resp.Header.Get("Docker-Content-Digest"))
				}
			}
			layerURL := p.URL() + "/v2/lib/app/blobs/" + digest.FromBytes(img.Layers[1]).String()
			resp, body := get(t, "GET", layerURL, auth...)
			if resp.StatusCode != 200 || !bytes.Equal(body, img.Layers[1]) {
				t.Errorf("layer: %s, %d bytes", resp.Status, len(body))
			}
			resp, body = get(t, "GET", p.URL()+"/v2/lib/other/blobs/"+digest.FromBytes(img2.Config).String(), auth...)
			if resp.StatusCode != 200 || !bytes.Equal(body, img2.Config) {
				t.Errorf("config pushed through the proxy: %s, %q", resp.Status, body)
			}

			p.SetMode(CorruptBlobs)
			resp, body = get(t, "GET", layerURL, auth...)
			if resp.StatusCode != 200 || len(body) != len(img.Layers[1]) || bytes.Equal(body, img.Layers[1]) {
				t.Errorf("corrupted layer: %s, %d bytes, unchanged %v", resp.Status, len(body), bytes.Equal(body, img.Layers[1]))
			}
			p.SetMode(Pass)

			if c.user != "" {
				if p.Count(KindManifestGET) != 3 || p.Count(KindBlobGET) != 3 {
					t.Errorf("counts %v", p.Counts())
				}
			} else if p.Count(KindManifestGET) != 2 || p.Count(KindBlobGET) != 3 {
				t.Errorf("counts %v", p.Counts())
			}

			// The upstream deletes the image.
			DeleteManifest(t, base, "lib/app", img.Digest, c.user, c.password)
			resp, _ = get(t, "GET", p.URL()+"/v2/lib/app/manifests/"+img.Digest.String(), auth...)
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("after DeleteManifest: %s", resp.Status)
			}
		})
	}
}
