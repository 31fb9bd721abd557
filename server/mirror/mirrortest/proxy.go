package mirrortest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Mode is what a Proxy does with the requests it receives. Every request
// is subject to it, whatever its Kind (token requests included).
type Mode int

const (
	// Pass forwards requests and responses unchanged (apart from the
	// WWW-Authenticate realm and Location rewriting every mode does).
	Pass Mode = iota
	// TooMany answers 429 Too Many Requests with Retry-After (see
	// Proxy.RetryAfter) and an OCI error body with code TOOMANYREQUESTS,
	// without contacting the upstream.
	TooMany
	// Unavailable answers 503 Service Unavailable with Retry-After and an
	// OCI error body with code UNAVAILABLE, without contacting the
	// upstream.
	Unavailable
	// Drop hijacks the connection and closes it without writing a response,
	// without contacting the upstream. A Go client may retry an idempotent
	// request once after that on a fresh connection (which is dropped too),
	// so it can be counted twice.
	Drop
	// CorruptBlobs forwards like Pass, but flips one byte in the middle of
	// the body of every successful (200 or 206) blob GET response that is not
	// empty, while streaming it; Content-Length stays. When the upstream
	// sends no length, the first byte is flipped.
	CorruptBlobs
)

func (m Mode) String() string {
	switch m {
	case Pass:
		return "Pass"
	case TooMany:
		return "TooMany"
	case Unavailable:
		return "Unavailable"
	case Drop:
		return "Drop"
	case CorruptBlobs:
		return "CorruptBlobs"
	}
	return "Mode(" + strconv.Itoa(int(m)) + ")"
}

// Kind classifies the requests a Proxy sees.
type Kind string

const (
	KindManifestGET  Kind = "manifest GET"  // GET /v2/<name>/manifests/<reference>
	KindManifestHEAD Kind = "manifest HEAD" // HEAD /v2/<name>/manifests/<reference>
	KindBlobGET      Kind = "blob GET"      // GET /v2/<name>/blobs/<digest>
	KindBlobHEAD     Kind = "blob HEAD"     // HEAD /v2/<name>/blobs/<digest>
	// KindToken is every request whose path is not under /v2/, such as a
	// token realm's (or a redirect target's, if it was on the upstream).
	KindToken Kind = "token"
	// KindOther is every other request under /v2/: the /v2/ ping, uploads,
	// manifest PUT and DELETE, tag lists, the catalog...
	KindOther Kind = "other"
)

// KindOf classifies a request by its method and path as a Proxy counts it.
func KindOf(method, path string) Kind {
	rest, ok := strings.CutPrefix(path, "/v2/")
	if !ok {
		if path == "/v2" {
			return KindOther
		}
		return KindToken
	}
	segs := strings.Split(rest, "/")
	if len(segs) < 3 {
		return KindOther
	}
	last, parent := segs[len(segs)-1], segs[len(segs)-2]
	switch {
	case parent == "manifests" && last != "":
		switch method {
		case http.MethodGet:
			return KindManifestGET
		case http.MethodHead:
			return KindManifestHEAD
		}
	case parent == "blobs" && strings.Contains(last, ":"):
		switch method {
		case http.MethodGet:
			return KindBlobGET
		case http.MethodHead:
			return KindBlobHEAD
		}
	}
	return KindOther
}

// Proxy is a fault-injecting HTTP reverse proxy in front of an upstream
// registry. It forwards method, path, query, headers (Authorization
// included; hop-by-hop headers excepted, as any proxy does) and bodies,
// streaming them, to the target, with the target's Host. In responses it
// rewrites absolute URLs to the target's host in Location headers and in
// WWW-Authenticate realms to point at the proxy, so that redirects and
// token requests come through it too. Nothing else is changed except what
// the Mode says.
//
// Its methods are safe for concurrent use.
type Proxy struct {
	// RetryAfter is the Retry-After value, in seconds, of the TooMany and
	// Unavailable modes (30 unless changed). Set it before the proxy is
	// used concurrently.
	RetryAfter int

	t      testing.TB
	target *url.URL
	srv    *httptest.Server
	rp     *httputil.ReverseProxy

	mu     sync.Mutex
	mode   Mode
	counts map[Kind]int
}

// NewProxy starts a Proxy on a loopback port in front of target (a base URL
// such as "http://127.0.0.1:5000"), in mode Pass. It is closed when the
// test ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		t.Fatalf("mirrortest.NewProxy: target %q is not an http(s) base URL (err %v)", target, err)
	}
	u.Path, u.RawPath = strings.TrimSuffix(u.Path, "/"), ""
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	// Forward Accept-Encoding as the client sent it; never decompress.
	tr.DisableCompression = true
	p := &Proxy{RetryAfter: 30, t: t, target: u, counts: map[Kind]int{}}
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(p.target) // also sets the outgoing Host to the target's
		},
		Transport:      tr,
		ModifyResponse: p.modifyResponse,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			p.t.Logf("mirrortest.Proxy: %s %s: %v", r.Method, r.URL, err)
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serveHTTP))
	t.Cleanup(func() {
		p.srv.Close()
		tr.CloseIdleConnections()
	})
	return p
}

// URL returns the proxy's base URL, "http://127.0.0.1:PORT".
func (p *Proxy) URL() string { return p.srv.URL }

// SetMode changes what the proxy does with the requests that follow.
func (p *Proxy) SetMode(m Mode) {
	p.mu.Lock()
	p.mode = m
	p.mu.Unlock()
}

// Count returns how many requests of kind the proxy received since it
// started or was last Reset, whatever the mode did with them.
func (p *Proxy) Count(kind Kind) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts[kind]
}

// Counts returns a copy of all the counts (for failure messages).
func (p *Proxy) Counts() map[Kind]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.counts)
}

// Reset sets all the counts back to zero. The mode is left as it is.
func (p *Proxy) Reset() {
	p.mu.Lock()
	clear(p.counts)
	p.mu.Unlock()
}

func (p *Proxy) serveHTTP(w http.ResponseWriter, r *http.Request) {
	kind := KindOf(r.Method, r.URL.Path)
	p.mu.Lock()
	p.counts[kind]++
	mode := p.mode
	p.mu.Unlock()

	switch mode {
	case TooMany:
		p.ociError(w, http.StatusTooManyRequests, "TOOMANYREQUESTS", "too many requests (mirrortest.Proxy)")
	case Unavailable:
		p.ociError(w, http.StatusServiceUnavailable, "UNAVAILABLE", "service unavailable (mirrortest.Proxy)")
	case Drop:
		hj, ok := w.(http.Hijacker)
		if !ok {
			panic("mirrortest.Proxy: the connection cannot be hijacked")
		}
		conn, _, err := hj.Hijack()
		if err != nil {
			panic(fmt.Sprintf("mirrortest.Proxy: hijack: %v", err))
		}
		conn.Close()
	case CorruptBlobs:
		if kind == KindBlobGET {
			p.rp.ServeHTTP(w, r.WithContext(withCorrupt(r.Context())))
			return
		}
		p.rp.ServeHTTP(w, r)
	default:
		p.rp.ServeHTTP(w, r)
	}
}

func (p *Proxy) ociError(w http.ResponseWriter, status int, code, message string) {
	body, _ := json.Marshal(map[string]any{
		"errors": []map[string]any{{"code": code, "message": message, "detail": nil}},
	})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Retry-After", strconv.Itoa(p.RetryAfter))
	w.WriteHeader(status)
	w.Write(body)
}

func (p *Proxy) modifyResponse(resp *http.Response) error {
	if loc := resp.Header.Get("Location"); loc != "" {
		resp.Header.Set("Location", p.rewriteURL(loc))
	}
	if vals := resp.Header.Values("Www-Authenticate"); len(vals) > 0 {
		out := make([]string, len(vals))
		for i, v := range vals {
			out[i] = p.rewriteRealm(v)
		}
		resp.Header["Www-Authenticate"] = out
	}
	if corrupt(resp.Request.Context()) && (resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusPartialContent) &&
		resp.ContentLength != 0 {
		at := int64(0)
		if resp.ContentLength > 0 {
			at = resp.ContentLength / 2
		}
		resp.Body = &flipReader{ReadCloser: resp.Body, at: at}
	}
	return nil
}

// rewriteURL points s at the proxy if it is an absolute URL on the
// target's host.
func (p *Proxy) rewriteURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() || !strings.EqualFold(u.Host, p.target.Host) {
		return s
	}
	pu, _ := url.Parse(p.srv.URL)
	u.Scheme, u.Host = pu.Scheme, pu.Host
	return u.String()
}

// rewriteRealm rewrites the realm parameter of a WWW-Authenticate value.
func (p *Proxy) rewriteRealm(v string) string {
	i := strings.Index(strings.ToLower(v), `realm="`)
	if i < 0 {
		return v
	}
	start := i + len(`realm="`)
	end := strings.IndexByte(v[start:], '"')
	if end < 0 {
		return v
	}
	end += start
	return v[:start] + p.rewriteURL(v[start:end]) + v[end:]
}

type corruptKey struct{}

func withCorrupt(ctx context.Context) context.Context {
	return context.WithValue(ctx, corruptKey{}, true)
}

func corrupt(ctx context.Context) bool { return ctx.Value(corruptKey{}) != nil }

// flipReader inverts the byte at offset at of the stream it reads.
type flipReader struct {
	io.ReadCloser
	at, off int64
}

func (f *flipReader) Read(b []byte) (int, error) {
	n, err := f.ReadCloser.Read(b)
	if f.at >= f.off && f.at < f.off+int64(n) {
		b[f.at-f.off] ^= 0xff
	}
	f.off += int64(n)
	return n, err
}
