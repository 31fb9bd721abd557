package upstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
)

const (
	ociManifest = "application/vnd.oci.image.manifest.v1+json"
	user, pass  = "alice", "s3cret-pass"
)

var manifestBody = []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{},"layers":[]}`)

// clock is a fake clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// tokenServer is a fake token endpoint: it issues "tok-N" for the scope
// asked, valid expires seconds, to anyone (creds empty) or to Basic creds.
type tokenServer struct {
	*httptest.Server
	expires  int
	creds    string // "user:pass" required if set
	requests atomic.Int64

	mu     sync.Mutex
	scopes map[string]string // token -> scope
	auths  []string          // Authorization headers received
}

func newTokenServer(t *testing.T, expires int, creds string) *tokenServer {
	ts := &tokenServer{expires: expires, creds: creds, scopes: map[string]string{}}
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := ts.requests.Add(1)
		ts.mu.Lock()
		ts.auths = append(ts.auths, r.Header.Get("Authorization"))
		ts.mu.Unlock()
		if ts.creds != "" {
			u, p, ok := r.BasicAuth()
			if !ok || u+":"+p != ts.creds {
				w.WriteHeader(http.StatusUnauthorized)
				io.WriteString(w, `{"details":"incorrect username or password"}`)
				return
			}
		}
		if r.URL.Query().Get("service") != "fake-registry" {
			http.Error(w, "bad service", http.StatusBadRequest)
			return
		}
		tok := fmt.Sprintf("tok-%d", n)
		ts.mu.Lock()
		ts.scopes[tok] = r.URL.Query().Get("scope")
		ts.mu.Unlock()
		body := map[string]any{"token": tok}
		if ts.expires > 0 {
			body["expires_in"] = ts.expires
		}
		json.NewEncoder(w).Encode(body)
	}))
	t.Cleanup(ts.Close)
	return ts
}

func (ts *tokenServer) scopeOf(tok string) string {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.scopes[tok]
}

// bearerRegistry serves manifestBody for any repository and tag to
// requests with a token of the repository's pull scope.
type bearerRegistry struct {
	*httptest.Server
	requests, unauthorized atomic.Int64
}

func newBearerRegistry(t *testing.T, ts *tokenServer) *bearerRegistry {
	reg := &bearerRegistry{}
	reg.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reg.requests.Add(1)
		repo, _, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/v2/"), "/manifests/")
		if !ok {
			http.NotFound(w, r)
			return
		}
		scope := "repository:" + repo + ":pull"
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || ts.scopeOf(tok) != scope {
			reg.unauthorized.Add(1)
			w.Header().Set("WWW-Authenticate",
				fmt.Sprintf(`Bearer realm="%s/token",service="fake-registry",scope="%s"`, ts.URL, scope))
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"errors":[{"code":"UNAUTHORIZED"}]}`)
			return
		}
		w.Header().Set("Content-Type", ociManifest)
		w.Header().Set("Docker-Content-Digest", digest.FromBytes(manifestBody).String())
		w.Write(manifestBody)
	}))
	t.Cleanup(reg.Close)
	return reg
}

func newClient(t *testing.T, o Options) *Client {
	t.Helper()
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTokenFlow(t *testing.T) {
	ts := newTokenServer(t, 300, "")
	reg := newBearerRegistry(t, ts)
	clk := newClock()
	c := newClient(t, Options{URL: reg.URL + "/", Now: clk.Now})
	ctx := context.Background()

	steps := []struct {
		name         string
		repo         string
		advance      time.Duration
		tokens, reqs int64 // totals after the step
	}{
		{"cold: 401, token, retry", "library/alpine", 0, 1, 2},
		{"same repo: cached token up front", "library/alpine", 0, 1, 3},
		{"other repo: other scope, other token", "library/busybox", 0, 2, 5},
		{"first repo still cached", "library/alpine", time.Minute, 2, 6},
		{"past expiry: new token", "library/alpine", 5 * time.Minute, 3, 8},
		{"new token cached", "library/alpine", 0, 3, 9},
	}
	for _, s := range steps {
		clk.Add(s.advance)
		m, err := c.GetManifest(ctx, s.repo, "latest")
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if string(m.Body) != string(manifestBody) || m.MediaType != ociManifest || m.Digest != digest.FromBytes(manifestBody) {
			t.Fatalf("%s: got %+v", s.name, m)
		}
		if got := ts.requests.Load(); got != s.tokens {
			t.Errorf("%s: %d token requests, want %d", s.name, got, s.tokens)
		}
		if got := reg.requests.Load(); got != s.reqs {
			t.Errorf("%s: %d registry requests, want %d", s.name, got, s.reqs)
		}
	}
	for i, a := range ts.auths {
		if a != "" {
			t.Errorf("token request %d sent Authorization %q without credentials configured", i, a)
		}
	}
}

func TestTokenDefaultLifetimeAndMargin(t *testing.T) {
	ts := newTokenServer(t, 0, "") // no expires_in: 60s, used until 54s
	reg := newBearerRegistry(t, ts)
	clk := newClock()
	c := newClient(t, Options{URL: reg.URL, Now: clk.Now})
	for i, adv := range []time.Duration{0, 53 * time.Second, 2 * time.Second} {
		clk.Add(adv)
		if _, err := c.GetManifest(context.Background(), "library/alpine", "latest"); err != nil {
			t.Fatal(err)
		}
		want := []int64{1, 1, 2}[i]
		if got := ts.requests.Load(); got != want {
			t.Errorf("step %d: %d token requests, want %d", i, got, want)
		}
	}
}

func TestConcurrentColdClientOneToken(t *testing.T) {
	ts := newTokenServer(t, 300, "")
	reg := newBearerRegistry(t, ts)
	c := newClient(t, Options{URL: reg.URL, Now: newClock().Now})
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			_, err := c.GetManifest(context.Background(), "library/alpine", "3.20")
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if got := ts.requests.Load(); got != 1 {
		t.Errorf("%d token requests, want 1", got)
	}
}

func TestTokenRealmCredentials(t *testing.T) {
	for _, tc := range []struct {
		name       string
		user, pass string
		wantCode   int // 0: success
	}{
		{"right credentials", user, pass, 0},
		{"wrong credentials", user, "wrong-pass", http.StatusUnauthorized},
		{"no credentials", "", "", http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTokenServer(t, 300, user+":"+pass)
			reg := newBearerRegistry(t, ts)
			c := newClient(t, Options{URL: reg.URL, Username: tc.user, Password: tc.pass, Now: newClock().Now})
			_, err := c.GetManifest(context.Background(), "private/app", "v1")
			if tc.wantCode == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if _, p, ok := (&http.Request{Header: http.Header{"Authorization": {ts.auths[0]}}}).BasicAuth(); !ok || p != pass {
					t.Errorf("token realm got Authorization %q, want Basic credentials", ts.auths[0])
				}
				return
			}
			var se *StatusError
			if !errors.As(err, &se) || se.Code != tc.wantCode {
				t.Fatalf("got %v, want a StatusError %d", err, tc.wantCode)
			}
			msg := err.Error()
			if !strings.Contains(msg, "token") || !strings.Contains(msg, "401") {
				t.Errorf("error %q does not say the token request failed with 401", msg)
			}
			if strings.Contains(msg, pass) || strings.Contains(msg, tc.pass) && tc.pass != "" {
				t.Errorf("error %q holds the password", msg)
			}
		})
	}
}

// basicRegistry serves manifests to Basic user:pass, challenging Basic.
func basicRegistry(t *testing.T, unauthorized, requests *atomic.Int64) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		u, p, ok := r.BasicAuth()
		if !ok || u != user || p != pass {
			unauthorized.Add(1)
			w.Header().Set("WWW-Authenticate", `Basic realm="fake"`)
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
			return
		}
		switch {
		case strings.Contains(r.URL.Path, "/manifests/"):
			w.Header().Set("Content-Type", ociManifest)
			w.Write(manifestBody)
		case strings.HasSuffix(r.URL.Path, "/elsewhere"):
			io.WriteString(w, "same-origin blob")
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestBasicChallenge(t *testing.T) {
	for _, tc := range []struct {
		name       string
		user, pass string
		ok         bool
	}{
		{"right credentials", user, pass, true},
		{"wrong credentials", user, "nope", false},
		{"no credentials", "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var unauth, reqs atomic.Int64
			srv := basicRegistry(t, &unauth, &reqs)
			c := newClient(t, Options{URL: srv.URL, Username: tc.user, Password: tc.pass})
			_, err := c.GetManifest(context.Background(), "team/app", "v1")
			if !tc.ok {
				var se *StatusError
				if !errors.As(err, &se) || se.Code != http.StatusUnauthorized {
					t.Fatalf("got %v, want a StatusError 401", err)
				}
				if !strings.Contains(err.Error(), "GET "+srv.URL+"/v2/team/app/manifests/v1") ||
					!strings.Contains(err.Error(), "authentication required") {
					t.Errorf("error %q lacks the request or the upstream's message", err)
				}
				if strings.Contains(err.Error(), pass) || (tc.pass != "" && strings.Contains(err.Error(), tc.pass)) {
					t.Errorf("error %q holds the password", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// Basic is now sent up front: no more 401s.
			if _, err := c.GetManifest(context.Background(), "team/other", "v1"); err != nil {
				t.Fatal(err)
			}
			if unauth.Load() != 1 || reqs.Load() != 3 {
				t.Errorf("%d 401s in %d requests, want 1 in 3", unauth.Load(), reqs.Load())
			}
		})
	}
}

func TestManifestVerification(t *testing.T) {
	good := digest.FromBytes(manifestBody)
	other := digest.FromString("something else")
	big := make([]byte, MaxManifestSize+1)
	for i := range big {
		big[i] = ' '
	}
	bigDigest := digest.FromBytes(big)
	for _, tc := range []struct {
		name        string
		ref         string
		body        []byte
		contentType string
		header      string // Docker-Content-Digest
		chunked     bool   // no Content-Length
		wantErr     string // "" for success
		wantType    string
	}{
		{"tag, right header", "latest", manifestBody, ociManifest + "; charset=utf-8", good.String(), false, "", ociManifest},
		{"tag, no header", "latest", manifestBody, ociManifest, "", false, "", ociManifest},
		{"tag, wrong header", "latest", manifestBody, ociManifest, other.String(), false, "does not match Docker-Content-Digest", ""},
		{"tag, unparsable header", "latest", manifestBody, ociManifest, "sha256:zz", false, "bad Docker-Content-Digest", ""},
		{"digest ref, matching", good.String(), manifestBody, ociManifest, "", false, "", ociManifest},
		{"digest ref, sha512", digest.SHA512.FromBytes(manifestBody).String(), manifestBody, ociManifest, good.String(), false, "", ociManifest},
		{"digest ref, body differs", other.String(), manifestBody, ociManifest, other.String(), false, "does not match digest", ""},
		{"media type from body", "latest", manifestBody, "", "", false, "", ociManifest},
		{"media type from body over generic", "latest", manifestBody, "application/json", "", false, "", ociManifest},
		{"oversize with length", "latest", big, ociManifest, bigDigest.String(), false, "limit", ""},
		{"oversize chunked", "latest", big, ociManifest, bigDigest.String(), true, "limit", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var gotAccept string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				gotAccept = r.Header.Get("Accept")
				if tc.contentType != "" {
					w.Header().Set("Content-Type", tc.contentType)
				} else {
					w.Header()["Content-Type"] = nil
				}
				if tc.header != "" {
					w.Header().Set("Docker-Content-Digest", tc.header)
				}
				if tc.chunked {
					w.Write(tc.body[:10])
					w.(http.Flusher).Flush()
					w.Write(tc.body[10:])
					return
				}
				w.Header().Set("Content-Length", fmt.Sprint(len(tc.body)))
				w.Write(tc.body)
			}))
			defer srv.Close()
			c := newClient(t, Options{URL: srv.URL})
			m, err := c.GetManifest(context.Background(), "library/alpine", tc.ref)
			for _, mt := range ManifestMediaTypes {
				if !strings.Contains(gotAccept, mt) {
					t.Errorf("Accept %q lacks %s", gotAccept, mt)
				}
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want an error with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			wantDigest := good
			if strings.Contains(tc.ref, ":") {
				wantDigest = digest.Digest(tc.ref)
			}
			if m.Digest != wantDigest || m.MediaType != tc.wantType || string(m.Body) != string(manifestBody) {
				t.Errorf("got digest %s type %q, want %s %q", m.Digest, m.MediaType, wantDigest, tc.wantType)
			}
		})
	}
}

func TestStatusMapping(t *testing.T) {
	for _, tc := range []struct {
		name     string
		status   int
		blob     bool
		notFound bool
	}{
		{"manifest 404", http.StatusNotFound, false, true},
		{"blob 404", http.StatusNotFound, true, true},
		{"manifest 500", http.StatusInternalServerError, false, false},
		{"blob 500", http.StatusInternalServerError, true, false},
		{"manifest 403", http.StatusForbidden, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, `{"errors":[{"code":"X","message":"upstream says no"}]}`, tc.status)
			}))
			defer srv.Close()
			c := newClient(t, Options{URL: srv.URL, Now: newClock().Now})
			var err error
			if tc.blob {
				_, _, err = c.GetBlob(context.Background(), "library/alpine", digest.FromString("x"))
			} else {
				_, err = c.GetManifest(context.Background(), "library/alpine", "latest")
			}
			if tc.notFound {
				if !errors.Is(err, ErrNotFound) {
					t.Fatalf("got %v, want ErrNotFound", err)
				}
				return
			}
			var se *StatusError
			if !errors.As(err, &se) || se.Code != tc.status || !strings.Contains(se.Body, "upstream says no") {
				t.Fatalf("got %v, want a StatusError %d with the body", err, tc.status)
			}
			if !strings.Contains(err.Error(), srv.URL+"/v2/library/alpine/") {
				t.Errorf("error %q lacks the URL", err)
			}
			if !c.BackoffUntil().IsZero() {
				t.Errorf("a %d set a backoff", tc.status)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	clk := newClock()
	for _, tc := range []struct {
		name       string
		status     int
		retryAfter func() string
		wait       time.Duration
	}{
		{"429 seconds", http.StatusTooManyRequests, func() string { return "30" }, 30 * time.Second},
		{"503 HTTP date", http.StatusServiceUnavailable,
			func() string { return clk.Now().Add(2 * time.Minute).Format(http.TimeFormat) }, 2 * time.Minute},
		{"429 without Retry-After", http.StatusTooManyRequests, func() string { return "" }, DefaultBackoff},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var hits atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if hits.Add(1) == 1 {
					if ra := tc.retryAfter(); ra != "" {
						w.Header().Set("Retry-After", ra)
					}
					http.Error(w, "slow down", tc.status)
					return
				}
				w.Header().Set("Content-Type", ociManifest)
				w.Write(manifestBody)
			}))
			defer srv.Close()
			c := newClient(t, Options{URL: srv.URL, Now: clk.Now})
			ctx := context.Background()

			_, err := c.GetManifest(ctx, "library/alpine", "latest")
			var se *StatusError
			if !errors.As(err, &se) || se.Code != tc.status || se.RetryAfter != tc.wait {
				t.Fatalf("got %v, want a StatusError %d retrying after %s", err, tc.status, tc.wait)
			}
			if got, want := c.BackoffUntil(), clk.Now().Add(tc.wait); !got.Equal(want) {
				t.Errorf("BackoffUntil %s, want %s", got, want)
			}
			clk.Add(tc.wait - time.Second)
			if _, err := c.GetManifest(ctx, "library/alpine", "latest"); !errors.Is(err, ErrBackoff) {
				t.Fatalf("got %v, want ErrBackoff", err)
			}
			if _, _, err := c.GetBlob(ctx, "library/alpine", digest.FromString("x")); !errors.Is(err, ErrBackoff) {
				t.Fatalf("blob: got %v, want ErrBackoff", err)
			}
			if _, _, err := c.HeadManifest(ctx, "library/alpine", "latest"); !errors.Is(err, ErrBackoff) {
				t.Fatalf("head: got %v, want ErrBackoff", err)
			}
			if hits.Load() != 1 {
				t.Fatalf("%d requests reached the server during backoff", hits.Load()-1)
			}
			clk.Add(2 * time.Second)
			if !c.BackoffUntil().IsZero() {
				t.Errorf("BackoffUntil %s after the deadline", c.BackoffUntil())
			}
			if _, err := c.GetManifest(ctx, "library/alpine", "latest"); err != nil {
				t.Fatal(err)
			}
			if hits.Load() != 2 {
				t.Errorf("%d requests, want 2", hits.Load())
			}
		})
	}
}

func TestBlobRedirect(t *testing.T) {
	blob := []byte("layer bytes, not gzip at all")
	var cdnAuth, cdnEncoding string
	var cdnHits atomic.Int64
	cdn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cdnHits.Add(1)
		cdnAuth, cdnEncoding = r.Header.Get("Authorization"), r.Header.Get("Accept-Encoding")
		w.Header().Set("Content-Length", fmt.Sprint(len(blob)))
		w.Write(blob)
	}))
	defer cdn.Close()

	var unauth, reqs atomic.Int64
	inner := basicRegistry(t, &unauth, &reqs).Config.Handler
	reg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); ok && u == user && p == pass && strings.Contains(r.URL.Path, "/blobs/") {
			if strings.Contains(r.URL.Path, "/local/") {
				http.Redirect(w, r, "/v2/local/elsewhere", http.StatusTemporaryRedirect)
				return
			}
			http.Redirect(w, r, cdn.URL+"/bucket/obj?sig=abc", http.StatusTemporaryRedirect)
			return
		}
		inner.ServeHTTP(w, r)
	}))
	defer reg.Close()

	c := newClient(t, Options{URL: reg.URL, Username: user, Password: pass})
	d := digest.FromBytes(blob)
	rc, size, err := c.GetBlob(context.Background(), "library/alpine", d)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if string(got) != string(blob) || size != int64(len(blob)) {
		t.Errorf("got %q size %d, want %q size %d", got, size, blob, len(blob))
	}
	if cdnHits.Load() != 1 || cdnAuth != "" {
		t.Errorf("other host: %d hits, Authorization %q; want 1 hit, none", cdnHits.Load(), cdnAuth)
	}
	if cdnEncoding != "identity" {
		t.Errorf("other host: Accept-Encoding %q, want identity", cdnEncoding)
	}

	// A redirect on the same origin keeps Authorization (the registry
	// answers /elsewhere only with it).
	rc, _, err = c.GetBlob(context.Background(), "local/app", d)
	if err != nil {
		t.Fatal(err)
	}
	got, _ = io.ReadAll(rc)
	rc.Close()
	if string(got) != "same-origin blob" {
		t.Errorf("same-origin redirect got %q", got)
	}
}

func TestBlobUnknownSize(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("part"))
		w.(http.Flusher).Flush()
		w.Write([]byte("s"))
	}))
	defer srv.Close()
	c := newClient(t, Options{URL: srv.URL})
	rc, size, err := c.GetBlob(context.Background(), "a/b", digest.FromString("parts"))
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if size != -1 {
		t.Errorf("size %d, want -1", size)
	}
}

func TestHeadManifest(t *testing.T) {
	good := digest.FromBytes(manifestBody)
	for _, tc := range []struct {
		name    string
		ref     string
		header  string
		wantErr string
	}{
		{"tag", "latest", good.String(), ""},
		{"digest ref", good.String(), good.String(), ""},
		{"missing digest", "latest", "", "no Docker-Content-Digest"},
		{"invalid digest", "latest", "md5:abc", "bad Docker-Content-Digest"},
		{"other digest than ref", digest.FromString("x").String(), good.String(), "differs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodHead {
					t.Errorf("method %s", r.Method)
				}
				w.Header().Set("Content-Type", "application/vnd.docker.distribution.manifest.list.v2+json")
				if tc.header != "" {
					w.Header().Set("Docker-Content-Digest", tc.header)
				}
			}))
			defer srv.Close()
			c := newClient(t, Options{URL: srv.URL})
			d, mt, err := c.HeadManifest(context.Background(), "library/alpine", tc.ref)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want an error with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d != good || mt != "application/vnd.docker.distribution.manifest.list.v2+json" {
				t.Errorf("got %s %q", d, mt)
			}
		})
	}
}

func TestHeadManifestNotFound(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	c := newClient(t, Options{URL: srv.URL})
	if _, _, err := c.HeadManifest(context.Background(), "library/alpine", "latest"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("got %v, want ErrNotFound", err)
	}
}

func TestNames(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	c := newClient(t, Options{URL: srv.URL})
	for _, tc := range []struct{ repo, ref string }{
		{"", "latest"},
		{"..", "latest"},
		{"library/..", "latest"},
		{"library//alpine", "latest"},
		{"/library/alpine", "latest"},
		{"library/alpine/", "latest"},
		{"Library/alpine", "latest"},
		{"library/alp ine", "latest"},
		{"library/alpine?x", "latest"},
		{strings.Repeat("a", 256), "latest"},
		{"library/alpine", ""},
		{"library/alpine", ".."},
		{"library/alpine", "../../x"},
		{"library/alpine", "-x"},
		{"library/alpine", strings.Repeat("a", 129)},
		{"library/alpine", "sha256:abc"},
		{"library/alpine", "nope:" + strings.Repeat("a", 64)},
		{"library/alpine", "a/b"},
	} {
		if _, err := c.GetManifest(context.Background(), tc.repo, tc.ref); err == nil {
			t.Errorf("GetManifest(%q, %q) succeeded", tc.repo, tc.ref)
		}
		if _, _, err := c.HeadManifest(context.Background(), tc.repo, tc.ref); err == nil {
			t.Errorf("HeadManifest(%q, %q) succeeded", tc.repo, tc.ref)
		}
	}
	for _, d := range []digest.Digest{"", "sha256:abc", "../../etc", digest.Digest("sha256:" + strings.Repeat("A", 64))} {
		if _, _, err := c.GetBlob(context.Background(), "library/alpine", d); err == nil {
			t.Errorf("GetBlob(%q) succeeded", d)
		}
	}
	if _, _, err := c.GetBlob(context.Background(), "a//b", digest.FromString("x")); err == nil {
		t.Error("GetBlob with a bad repository succeeded")
	}
	if hits.Load() != 0 {
		t.Errorf("%d requests sent for bad names", hits.Load())
	}
	for _, ok := range []struct{ repo, ref string }{
		{"alpine", "latest"}, {"library/alpine", "3.20.1"}, {"a-b/c__d/e.f", "v1_X-2"},
	} {
		if _, err := checkRef(ok.repo, ok.ref); err != nil {
			t.Errorf("checkRef(%q, %q): %v", ok.repo, ok.ref, err)
		}
	}
}

func TestNew(t *testing.T) {
	for _, tc := range []struct {
		url  string
		ok   bool
		base string
	}{
		{"https://registry-1.docker.io", true, "https://registry-1.docker.io"},
		{"https://registry-1.docker.io/", true, "https://registry-1.docker.io"},
		{"http://localhost:5000", true, "http://localhost:5000"},
		{"https://host/prefix/", true, "https://host/prefix"},
		{"", false, ""},
		{"registry-1.docker.io", false, ""},
		{"ftp://host", false, ""},
		{"https://", false, ""},
		{"https://:443", false, ""},
		{"https://bob:hunter2@host", false, ""},
		{"https://host/?x=1", false, ""},
		{"https://host/#f", false, ""},
		{"https://ho st", false, ""},
	} {
		c, err := New(Options{URL: tc.url})
		if !tc.ok {
			if err == nil {
				t.Errorf("New(%q) succeeded", tc.url)
			} else if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("New(%q) error %q holds the password", tc.url, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("New(%q): %v", tc.url, err)
		} else if c.base != tc.base {
			t.Errorf("New(%q) base %q, want %q", tc.url, c.base, tc.base)
		}
	}
}

func TestDefaultHTTPClient(t *testing.T) {
	c := newClient(t, Options{URL: "https://example.com"})
	tr, ok := c.hc.Transport.(*http.Transport)
	if !ok || c.hc.Timeout != 0 || tr.TLSHandshakeTimeout != 10*time.Second || tr.ResponseHeaderTimeout != 30*time.Second {
		t.Errorf("default client: timeout %s, transport %T", c.hc.Timeout, c.hc.Transport)
	}
	// A caller's client is copied, not modified.
	mine := &http.Client{}
	newClient(t, Options{URL: "https://example.com", HTTPClient: mine})
	if mine.CheckRedirect != nil {
		t.Error("the caller's http.Client was modified")
	}
}

func TestTokenEndpointErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		wantErr string
	}{
		{"500", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) }, "status 500"},
		{"not JSON", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "<html>") }, "bad JSON"},
		{"no token", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"expires_in":60}`) }, "no token"},
		{"access_token works", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"access_token":"at-1","expires_in":300,"issued_at":"2030-01-02T03:04:00Z"}`)
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var tokenHits atomic.Int64
			tsrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				tokenHits.Add(1)
				if got := r.URL.Query().Get("scope"); got != "repository:library/alpine:pull" {
					t.Errorf("default scope %q", got)
				}
				tc.handler(w, r)
			}))
			defer tsrv.Close()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Authorization") != "Bearer at-1" {
					// no scope: the client uses the repository's pull scope
					w.Header().Set("WWW-Authenticate", `Bearer realm="`+tsrv.URL+`"`)
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
				w.Header().Set("Content-Type", ociManifest)
				w.Write(manifestBody)
			}))
			defer srv.Close()
			clk := newClock()
			c := newClient(t, Options{URL: srv.URL, Now: clk.Now})
			_, err := c.GetManifest(context.Background(), "library/alpine", "latest")
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				// issued_at 5s ago: the token's 300s (less 10s) run from then.
				clk.Add(284 * time.Second)
				c.GetManifest(context.Background(), "library/alpine", "latest")
				clk.Add(time.Second)
				c.GetManifest(context.Background(), "library/alpine", "latest")
				if tokenHits.Load() != 2 {
					t.Errorf("%d token requests, want 2", tokenHits.Load())
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "token") {
				t.Fatalf("got %v, want a token error with %q", err, tc.wantErr)
			}
		})
	}
}

func TestParseChallenges(t *testing.T) {
	got := parseChallenges(`Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a/b:pull,push", Basic realm="x \"q\""`)
	if len(got) != 2 || got[0].scheme != "bearer" || got[1].scheme != "basic" {
		t.Fatalf("got %+v", got)
	}
	want := map[string]string{"realm": "https://auth.docker.io/token", "service": "registry.docker.io", "scope": "repository:a/b:pull,push"}
	for k, v := range want {
		if got[0].params[k] != v {
			t.Errorf("%s = %q, want %q", k, got[0].params[k], v)
		}
	}
	if got[1].params["realm"] != `x "q"` {
		t.Errorf("basic realm %q", got[1].params["realm"])
	}
	if got := parseChallenges(`Basic`); len(got) != 1 || got[0].scheme != "basic" {
		t.Errorf("bare Basic: %+v", got)
	}
}

func TestHeadBlob(t *testing.T) {
	d := digest.FromString("layer")
	for _, tc := range []struct {
		name    string
		status  int
		length  string
		want    int64
		wantErr error
	}{
		{"found", http.StatusOK, "5", 5, nil},
		{"missing", http.StatusNotFound, "", -1, ErrNotFound},
		{"no length", http.StatusOK, "", -1, errors.New("no Content-Length")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodHead || r.URL.Path != "/v2/library/alpine/blobs/"+d.String() {
					t.Errorf("%s %s", r.Method, r.URL.Path)
				}
				if tc.length != "" {
					w.Header().Set("Content-Length", tc.length)
				} else {
					w.Header().Set("Transfer-Encoding", "chunked")
				}
				w.WriteHeader(tc.status)
			}))
			defer srv.Close()
			c := newClient(t, Options{URL: srv.URL})
			size, err := c.HeadBlob(context.Background(), "library/alpine", d)
			switch {
			case tc.wantErr == nil && (err != nil || size != tc.want):
				t.Errorf("got %d, %v; want %d", size, err, tc.want)
			case tc.wantErr != nil && (err == nil || !(errors.Is(err, tc.wantErr) || strings.Contains(err.Error(), tc.wantErr.Error()))):
				t.Errorf("got %d, %v; want %v", size, err, tc.wantErr)
			}
		})
	}
	c := newClient(t, Options{URL: "http://127.0.0.1:1"})
	if _, err := c.HeadBlob(context.Background(), "library/alpine", "sha256:zz"); err == nil {
		t.Error("a bad digest was sent")
	}
}
