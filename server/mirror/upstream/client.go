package upstream

import (
	"context"
	_ "crypto/sha256" // digest.SHA256
	_ "crypto/sha512" // digest.SHA384, digest.SHA512
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
)

// MaxManifestSize caps a manifest body: a larger one is an error.
const MaxManifestSize = 4 << 20

// DefaultBackoff is how long the client backs off after a 429 or 503
// that carries no (usable) Retry-After.
const DefaultBackoff = 5 * time.Second

// ManifestMediaTypes are the manifest types the client accepts, in the
// Accept header of its manifest requests.
var ManifestMediaTypes = []string{
	"application/vnd.oci.image.manifest.v1+json",
	"application/vnd.oci.image.index.v1+json",
	"application/vnd.docker.distribution.manifest.v2+json",
	"application/vnd.docker.distribution.manifest.list.v2+json",
}

var acceptManifests = strings.Join(ManifestMediaTypes, ", ")

// ErrNotFound is returned (wrapped) when the upstream answers 404, for a
// manifest or a blob, whatever the OCI error code.
var ErrNotFound = errors.New("not found upstream")

// ErrBackoff is returned (wrapped), without sending a request, while the
// deadline set by a 429 or 503 has not passed; see BackoffUntil.
var ErrBackoff = errors.New("backing off after a 429 or 503 from the upstream")

// StatusError is an upstream answer with a non-2xx status other than 404
// (and other than a 401 the client could answer).
type StatusError struct {
	Code int
	// RetryAfter is the Retry-After of a 429 or 503, or DefaultBackoff
	// if it had none; zero otherwise.
	RetryAfter time.Duration
	// Body is the start of the response body, on one line.
	Body string
}

func (e *StatusError) Error() string {
	s := fmt.Sprintf("status %d %s", e.Code, http.StatusText(e.Code))
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	if e.Body != "" {
		s += ": " + e.Body
	}
	return s
}

// Options configure a Client.
type Options struct {
	// URL is the registry's base URL, e.g. https://registry-1.docker.io;
	// http or https, with a host, without credentials, query or fragment.
	// A trailing slash is dropped.
	URL string
	// Username and Password are optional upstream credentials: sent as
	// Basic to a Bearer challenge's token realm, or to the registry on a
	// Basic challenge.
	Username, Password string
	// HTTPClient sends the requests. nil: a client with dial, TLS
	// handshake and response header timeouts (10s, 10s, 30s) and no
	// overall timeout, since blobs stream. The client is copied, not
	// modified: its redirect policy is wrapped so that the Authorization
	// header never follows a redirect to another scheme, host or port.
	HTTPClient *http.Client
	// Now is the clock (token expiry, backoff). nil: time.Now.
	Now func() time.Time
	// UserAgent, if set, is sent with every request.
	UserAgent string
}

// Client talks to one upstream registry. It is safe for concurrent use.
type Client struct {
	base       string // no trailing slash
	baseURL    *url.URL
	user, pass string
	hc         *http.Client
	now        func() time.Time
	ua         string

	mu       sync.Mutex
	tokens   map[string]cachedToken // by tokenKey (realm, service, scope)
	flights  map[string]*flight     // token requests in progress
	repoKey  map[string]string      // repository -> key of its last token
	basic    bool                   // send Basic up front
	deadline time.Time              // backoff
}

// New makes a client for the registry at o.URL.
func New(o Options) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(o.URL, "/"))
	if err != nil {
		return nil, fmt.Errorf("upstream: bad URL: %w", err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("upstream: URL %q: scheme must be http or https", u.Redacted())
	case u.Host == "" || u.Hostname() == "":
		return nil, fmt.Errorf("upstream: URL %q has no host", u.Redacted())
	case u.User != nil:
		return nil, fmt.Errorf("upstream: URL %q holds credentials: use Username and Password", u.Redacted())
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, fmt.Errorf("upstream: URL %q has a query or fragment", u.Redacted())
	}
	c := &Client{
		base:    u.String(),
		baseURL: u,
		user:    o.Username,
		pass:    o.Password,
		now:     o.Now,
		ua:      o.UserAgent,
		tokens:  map[string]cachedToken{},
		flights: map[string]*flight{},
		repoKey: map[string]string{},
	}
	if c.now == nil {
		c.now = time.Now
	}
	var hc http.Client
	if o.HTTPClient != nil {
		hc = *o.HTTPClient
	} else {
		hc.Transport = defaultTransport()
	}
	next := hc.CheckRedirect
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if next != nil {
			if err := next(req, via); err != nil {
				return err
			}
		} else if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		if !sameOrigin(via[0].URL, req.URL) {
			req.Header.Del("Authorization")
		}
		return nil
	}
	c.hc = &hc
	return c, nil
}

func defaultTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 10 * time.Second
	t.ResponseHeaderTimeout = 30 * time.Second
	return t
}

// sameOrigin reports whether a and b have the same scheme, host and port.
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && canonicalHost(a) == canonicalHost(b)
}

func canonicalHost(u *url.URL) string {
	port := u.Port()
	if port == "" {
		switch strings.ToLower(u.Scheme) {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

// Manifest is a manifest as the upstream served it.
type Manifest struct {
	Body      []byte
	MediaType string
	Digest    digest.Digest
}

// GetManifest fetches the manifest ref (a tag or a digest) of repository
// repo (e.g. "library/alpine"). The body is verified: it must hash to ref
// when ref is a digest, and to the upstream's Docker-Content-Digest when
// it sent one. Digest is ref when ref is a digest, else the sha256 of the
// body. MediaType is the Content-Type, or the body's "mediaType" when the
// Content-Type is missing or generic.
func (c *Client) GetManifest(ctx context.Context, repo, ref string) (*Manifest, error) {
	refDigest, err := checkRef(repo, ref)
	if err != nil {
		return nil, err
	}
	u := c.base + "/v2/" + repo + "/manifests/" + ref
	resp, err := c.send(ctx, http.MethodGet, u, repo, http.Header{"Accept": {acceptManifests}})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if err := c.check(resp); err != nil {
		return nil, wrap(http.MethodGet, u, err)
	}
	if resp.ContentLength > MaxManifestSize {
		return nil, wrap(http.MethodGet, u, fmt.Errorf("manifest of %d bytes exceeds the %d byte limit", resp.ContentLength, MaxManifestSize))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxManifestSize+1))
	if err != nil {
		return nil, wrap(http.MethodGet, u, fmt.Errorf("reading manifest: %w", err))
	}
	if len(body) > MaxManifestSize {
		return nil, wrap(http.MethodGet, u, fmt.Errorf("manifest exceeds the %d byte limit", MaxManifestSize))
	}
	m := &Manifest{Body: body}
	if refDigest != "" {
		if refDigest.Algorithm().FromBytes(body) != refDigest {
			return nil, wrap(http.MethodGet, u, fmt.Errorf("manifest body does not match digest %s", refDigest))
		}
		m.Digest = refDigest
	} else {
		m.Digest = digest.SHA256.FromBytes(body)
	}
	if h := resp.Header.Get("Docker-Content-Digest"); h != "" {
		hd, err := digest.Parse(h)
		if err != nil {
			return nil, wrap(http.MethodGet, u, fmt.Errorf("bad Docker-Content-Digest %q: %w", h, err))
		}
		if hd.Algorithm().FromBytes(body) != hd {
			return nil, wrap(http.MethodGet, u, fmt.Errorf("manifest body does not match Docker-Content-Digest %s", hd))
		}
	}
	m.MediaType = mediaType(resp.Header.Get("Content-Type"))
	if m.MediaType == "" || genericType[m.MediaType] {
		var v struct {
			MediaType string `json:"mediaType"`
		}
		if json.Unmarshal(body, &v) == nil && v.MediaType != "" {
			m.MediaType = v.MediaType
		}
	}
	return m, nil
}

// genericType are Content-Types that say nothing of a manifest's type,
// for which the body's mediaType is preferred.
var genericType = map[string]bool{
	"application/json":         true,
	"text/plain":               true,
	"application/octet-stream": true,
}

// HeadManifest asks for the digest and media type of manifest ref of repo
// without fetching it. The upstream must send a valid
// Docker-Content-Digest, equal to ref when ref is a digest.
func (c *Client) HeadManifest(ctx context.Context, repo, ref string) (digest.Digest, string, error) {
	refDigest, err := checkRef(repo, ref)
	if err != nil {
		return "", "", err
	}
	u := c.base + "/v2/" + repo + "/manifests/" + ref
	resp, err := c.send(ctx, http.MethodHead, u, repo, http.Header{"Accept": {acceptManifests}})
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	if err := c.check(resp); err != nil {
		return "", "", wrap(http.MethodHead, u, err)
	}
	h := resp.Header.Get("Docker-Content-Digest")
	if h == "" {
		return "", "", wrap(http.MethodHead, u, errors.New("no Docker-Content-Digest in the answer"))
	}
	d, err := digest.Parse(h)
	if err != nil {
		return "", "", wrap(http.MethodHead, u, fmt.Errorf("bad Docker-Content-Digest %q: %w", h, err))
	}
	if refDigest != "" && d != refDigest {
		return "", "", wrap(http.MethodHead, u, fmt.Errorf("Docker-Content-Digest %s differs from the requested digest", d))
	}
	return d, mediaType(resp.Header.Get("Content-Type")), nil
}

// GetBlob streams blob d of repo. Redirects are followed (Docker Hub and
// S3-backed registries send blobs from another host), without the
// upstream's Authorization header when the target is another scheme,
// host or port. size is the Content-Length, -1 if unknown.
//
// The blob is NOT verified: the caller must check that what it reads
// hashes to d (and, if it trusts size, that it has that length) before
// keeping it. The caller closes the body.
func (c *Client) GetBlob(ctx context.Context, repo string, d digest.Digest) (io.ReadCloser, int64, error) {
	if err := checkRepo(repo); err != nil {
		return nil, -1, err
	}
	if err := d.Validate(); err != nil {
		return nil, -1, fmt.Errorf("upstream: bad blob digest %q: %w", d, err)
	}
	u := c.base + "/v2/" + repo + "/blobs/" + d.String()
	// identity: no transparent gunzip of a blob whose digest is of the
	// bytes as stored.
	resp, err := c.send(ctx, http.MethodGet, u, repo, http.Header{"Accept-Encoding": {"identity"}})
	if err != nil {
		return nil, -1, err
	}
	if err := c.check(resp); err != nil {
		resp.Body.Close()
		return nil, -1, wrap(http.MethodGet, u, err)
	}
	size := resp.ContentLength
	if size < 0 {
		size = -1
	}
	return resp.Body, size, nil
}

// HeadBlob asks for the size of blob d of repo without fetching it: the
// Content-Length of a HEAD (redirects followed, as for GetBlob).
func (c *Client) HeadBlob(ctx context.Context, repo string, d digest.Digest) (int64, error) {
	if err := checkRepo(repo); err != nil {
		return -1, err
	}
	if err := d.Validate(); err != nil {
		return -1, fmt.Errorf("upstream: bad blob digest %q: %w", d, err)
	}
	u := c.base + "/v2/" + repo + "/blobs/" + d.String()
	resp, err := c.send(ctx, http.MethodHead, u, repo, http.Header{"Accept-Encoding": {"identity"}})
	if err != nil {
		return -1, err
	}
	defer resp.Body.Close()
	if err := c.check(resp); err != nil {
		return -1, wrap(http.MethodHead, u, err)
	}
	if resp.ContentLength < 0 {
		return -1, wrap(http.MethodHead, u, errors.New("no Content-Length in the answer"))
	}
	return resp.ContentLength, nil
}
