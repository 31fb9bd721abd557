package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Authentication modes (-auth).
const (
	// authToken is what the docker CLI does: the registry never sees the
	// password. GET /v2/ (the ping) answers 401 with a Bearer challenge
	// naming the token realm and service; before the first request on a
	// repository the client fetches a token for the scope that operation
	// needs (repository:NAME:pull, or pull,push to push) from the realm with
	// Basic credentials, caches it per scope, sends it as a Bearer token on
	// every request and renews it shortly before it expires. A 401 with a
	// Bearer challenge (e.g. insufficient_scope) fetches a token for the
	// challenged scope and retries once. A registry that does not challenge
	// at /v2/ is used anonymously.
	authToken = "token"
	// authBasic sends Basic credentials preemptively on every registry
	// request (the registry checks the password, or a cached decision, each
	// time) and only falls back to a token when answered with a Bearer
	// challenge.
	authBasic = "basic"
)

// client is a minimal OCI distribution client that authenticates as
// described for authToken and authBasic, so both registries are measured
// on the path real clients take.
type client struct {
	base       *url.URL
	user, pass string
	mode       string // authToken or authBasic
	hc         *http.Client

	mu     sync.Mutex
	tokens map[string]bearerToken // scope string -> token
	scopes map[string]string      // "repo|pull" or "repo|push" -> scope to ask for
	ping   *challenge             // Bearer challenge of GET /v2/, if any (token mode)

	tokenFetches atomic.Int64 // successful token requests to the realm
	challenged   atomic.Int64 // 401 answers to do() requests (not the ping)
}

// now is the clock token lifetimes are judged by; tests move it forward.
var now = time.Now

type bearerToken struct {
	value   string
	expires time.Time
}

// newClient builds a client with one shared transport whose idle pool is
// large enough that the concurrent load tests never re-dial (re-dialing would
// measure the kernel's TCP handshake rather than the registry).
func newClient(base *url.URL, user, pass, mode string, conc int) *client {
	tr := &http.Transport{
		Proxy:                 nil, // loopback only; never route through a proxy
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          2*conc + 8,
		MaxIdleConnsPerHost:   2*conc + 8,
		IdleConnTimeout:       90 * time.Second,
		DisableCompression:    true, // blobs must arrive byte-exact for digest checks
		WriteBufferSize:       256 << 10,
		ReadBufferSize:        256 << 10,
		ResponseHeaderTimeout: 5 * time.Minute,
	}
	return &client{
		base:   base,
		user:   user,
		pass:   pass,
		mode:   mode,
		hc:     &http.Client{Transport: tr},
		tokens: map[string]bearerToken{},
		scopes: map[string]string{},
	}
}

// request describes one HTTP request. body is a factory rather than a reader
// so the request can be replayed after a 401 without buffering it: for the
// big blob it simply restarts the deterministic generator.
type request struct {
	method string
	url    string // absolute
	header http.Header
	body   func() io.Reader
	length int64 // Content-Length when body != nil
}

func (c *client) url(path string) string {
	u := *c.base
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	return u.String()
}

// do sends r, transparently answering one Bearer challenge. The caller must
// close the response body.
func (c *client) do(ctx context.Context, r request) (*http.Response, error) {
	key := scopeKey(r.method, r.url)
	tok := c.cachedToken(key)
	if tok == "" && c.mode == authToken {
		// Like docker: once /v2/ has named the token realm, get a token for
		// what this operation needs before sending it, rather than letting
		// every new scope cost a 401 round trip.
		if ch, ok := c.pingChallenge(key); ok {
			var err error
			if tok, err = c.token(ctx, key, ch, ""); err != nil {
				return nil, fmt.Errorf("%s %s: bearer auth: %w", r.method, r.url, err)
			}
		}
	}
	resp, err := c.send(ctx, r, tok)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	c.challenged.Add(1)
	ch, ok := parseChallenge(resp.Header.Values("WWW-Authenticate"))
	if !ok || !strings.EqualFold(ch.scheme, "bearer") {
		return resp, nil // Basic challenge or garbage: nothing more to try
	}
	if ch.params["scope"] == "" {
		ch.params["scope"] = defaultScope(key)
	}
	drain(resp)
	newTok, err := c.token(ctx, key, ch, tok)
	if err != nil {
		return nil, fmt.Errorf("%s %s: bearer auth: %w", r.method, r.url, err)
	}
	return c.send(ctx, r, newTok)
}

func (c *client) send(ctx context.Context, r request, token string) (*http.Response, error) {
	var body io.Reader
	if r.body != nil {
		body = r.body()
	}
	req, err := http.NewRequestWithContext(ctx, r.method, r.url, body)
	if err != nil {
		return nil, err
	}
	for k, v := range r.header {
		req.Header[k] = v
	}
	if r.body != nil {
		req.ContentLength = r.length
		if r.length == 0 {
			req.Body = http.NoBody
		}
		f := r.body
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(f()), nil }
	}
	switch {
	case token != "":
		req.Header.Set("Authorization", "Bearer "+token)
	case c.user != "" && c.mode == authBasic:
		req.SetBasicAuth(c.user, c.pass)
	}
	return c.hc.Do(req)
}

// prepare fetches, before a timed workload starts, the token that a request
// with this method and URL will need (token mode, once the ping named a
// realm), so the measurement covers the registry and not the token server:
// Wharf is the token server for both sides, and a first login costs it a
// password hash that would otherwise land in whichever transfer comes first.
func (c *client) prepare(ctx context.Context, method, rawURL string) error {
	if c.mode != authToken {
		return nil
	}
	key := scopeKey(method, rawURL)
	if c.cachedToken(key) != "" {
		return nil
	}
	ch, ok := c.pingChallenge(key)
	if !ok {
		return nil
	}
	t0 := time.Now()
	if _, err := c.token(ctx, key, ch, ""); err != nil {
		return fmt.Errorf("token for %s: %w", ch.params["scope"], err)
	}
	logf("token for %s in %.1fms (before timing)", ch.params["scope"], ms(time.Since(t0)))
	return nil
}

// setPing records the answer to GET /v2/: in token mode a Bearer challenge
// there (realm and service) is what later requests get tokens from.
func (c *client) setPing(resp *http.Response) {
	if resp.StatusCode != http.StatusUnauthorized {
		return
	}
	ch, ok := parseChallenge(resp.Header.Values("WWW-Authenticate"))
	if !ok || !strings.EqualFold(ch.scheme, "bearer") || ch.params["realm"] == "" {
		return
	}
	c.mu.Lock()
	c.ping = &ch
	c.mu.Unlock()
}

// pingChallenge returns the ping's challenge with the scope that key needs,
// or false if the registry did not ask for tokens or key is no repository.
func (c *client) pingChallenge(key string) (challenge, bool) {
	scope := defaultScope(key)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ping == nil || scope == "" {
		return challenge{}, false
	}
	if s, ok := c.scopes[key]; ok {
		scope = s // a challenge asked for something else before; keep to it
	}
	ch := challenge{scheme: c.ping.scheme, params: map[string]string{"scope": scope}}
	for _, k := range []string{"realm", "service"} {
		ch.params[k] = c.ping.params[k]
	}
	return ch, true
}

// defaultScope is the token scope docker asks for before an operation:
// pull for reads, pull and push for writes ("" for non-repository paths).
func defaultScope(key string) string {
	repo, action, _ := strings.Cut(key, "|")
	if repo == "" {
		return ""
	}
	if action == "push" {
		return "repository:" + repo + ":pull,push"
	}
	return "repository:" + repo + ":pull"
}

// scopeKey maps a request to the docker-style repository scope it needs, so a
// token obtained for one request is reused for all requests needing the same
// access. Non-repository endpoints (e.g. /v2/) get their own key.
func scopeKey(method, rawURL string) string {
	action := "push"
	if method == http.MethodGet || method == http.MethodHead {
		action = "pull"
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return "|" + action
	}
	p := strings.TrimPrefix(u.Path, "/v2/")
	for _, sep := range []string{"/blobs/", "/manifests/", "/tags/"} {
		if i := strings.LastIndex(p, sep); i > 0 {
			return p[:i] + "|" + action
		}
	}
	return "|" + action
}

func (c *client) cachedToken(key string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	scope, ok := c.scopes[key]
	if !ok {
		return ""
	}
	t, ok := c.tokens[scope]
	if !ok || now().After(t.expires) {
		return ""
	}
	return t.value
}

// token returns a token for the challenge's scope. Concurrent callers are
// serialised so a burst of 401s at the start of a load test results in a
// single token fetch; failed is the token just rejected, never handed back.
func (c *client) token(ctx context.Context, key string, ch challenge, failed string) (string, error) {
	scope := ch.params["scope"]
	c.mu.Lock()
	defer c.mu.Unlock()
	c.scopes[key] = scope
	if t, ok := c.tokens[scope]; ok && t.value != failed && now().Before(t.expires) {
		return t.value, nil
	}
	realm, err := url.Parse(ch.params["realm"])
	if err != nil || realm.Host == "" {
		return "", fmt.Errorf("bad realm %q", ch.params["realm"])
	}
	if err := checkLoopback(realm); err != nil {
		return "", fmt.Errorf("token realm: %w", err)
	}
	q := realm.Query()
	if s := ch.params["service"]; s != "" {
		q.Set("service", s)
	}
	for _, s := range strings.Fields(scope) {
		q.Add("scope", s)
	}
	realm.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, realm.String(), nil)
	if err != nil {
		return "", err
	}
	fetched := now()
	if c.user != "" {
		req.SetBasicAuth(c.user, c.pass)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return "", fmt.Errorf("token endpoint: %s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	var tr struct {
		Token       string    `json:"token"`
		AccessToken string    `json:"access_token"`
		ExpiresIn   int       `json:"expires_in"`
		IssuedAt    time.Time `json:"issued_at"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&tr); err != nil {
		return "", fmt.Errorf("token endpoint: %w", err)
	}
	t := bearerToken{value: tr.Token}
	if t.value == "" {
		t.value = tr.AccessToken
	}
	if t.value == "" {
		return "", errors.New("token endpoint returned no token")
	}
	// Per the token spec the default lifetime is 60s. Renew a little early
	// (30s before a 5-minute token expires) so no request is sent with a
	// token about to lapse; the lifetime counts from when we asked.
	life := time.Duration(tr.ExpiresIn) * time.Second
	if life <= 0 {
		life = 60 * time.Second
	}
	t.expires = fetched.Add(life - life/10)
	c.tokens[scope] = t
	c.tokenFetches.Add(1)
	return t.value, nil
}

type challenge struct {
	scheme string
	params map[string]string
}

// parseChallenge parses the first WWW-Authenticate challenge. Values may be
// quoted and contain commas (scope="repository:a:pull,push"), so a plain
// strings.Split is not enough.
func parseChallenge(values []string) (challenge, bool) {
	for _, v := range values {
		v = strings.TrimSpace(v)
		sp := strings.IndexByte(v, ' ')
		if sp <= 0 {
			if v != "" {
				return challenge{scheme: v, params: map[string]string{}}, true
			}
			continue
		}
		ch := challenge{scheme: v[:sp], params: map[string]string{}}
		s := v[sp+1:]
		for {
			s = strings.TrimLeft(s, " ,")
			eq := strings.IndexByte(s, '=')
			if eq <= 0 {
				break
			}
			k := strings.ToLower(strings.TrimSpace(s[:eq]))
			s = strings.TrimLeft(s[eq+1:], " ")
			var val string
			if strings.HasPrefix(s, `"`) {
				var b strings.Builder
				i := 1
				for ; i < len(s) && s[i] != '"'; i++ {
					if s[i] == '\\' && i+1 < len(s) {
						i++
					}
					b.WriteByte(s[i])
				}
				val, s = b.String(), s[min(i+1, len(s)):]
			} else {
				end := strings.IndexByte(s, ',')
				if end < 0 {
					end = len(s)
				}
				val, s = strings.TrimSpace(s[:end]), s[end:]
			}
			ch.params[k] = val
		}
		return ch, true
	}
	return challenge{}, false
}

// checkLoopback refuses non-loopback targets: this tool generates gigabytes
// of traffic and must only ever be pointed at a local test instance.
func checkLoopback(u *url.URL) error {
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("unsupported scheme %q", u.Scheme)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%q is not a loopback address", host)
	}
	return nil
}

// drain reads (a bounded amount of) the rest of a body and closes it so the
// connection goes back to the idle pool.
func drain(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<20))
	resp.Body.Close()
}

// expect returns an error naming the request if resp's status is not want.
// It consumes and closes the body in that case.
func expect(resp *http.Response, what string, want ...int) error {
	for _, w := range want {
		if resp.StatusCode == w {
			return nil
		}
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	resp.Body.Close()
	return fmt.Errorf("%s: unexpected status %s: %s", what, resp.Status, strings.TrimSpace(string(b)))
}
