package upstream

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// DefaultTokenLifetime is a token's lifetime when its endpoint gives no
// expires_in.
const DefaultTokenLifetime = 60 * time.Second

// maxTokenMargin caps how long before its expiry a cached token stops
// being used: a tenth of its lifetime, at most this.
const maxTokenMargin = 10 * time.Second

// maxTokenBody caps a token endpoint's answer.
const maxTokenBody = 1 << 20

type cachedToken struct {
	token string
	use   time.Time // used up front until then
}

// flight is a token request in progress, which concurrent requests for
// the same token wait for.
type flight struct {
	done  chan struct{}
	token string
	err   error
}

// challenge is one WWW-Authenticate challenge.
type challenge struct {
	scheme string // lowercased
	params map[string]string
}

// upfront is the Authorization to send before any challenge: a cached,
// unexpired token for repo's scope, else Basic once a Basic challenge was
// answered. token is the bearer token sent, if any.
func (c *Client) upfront(repo string) (auth, token string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if key, ok := c.repoKey[repo]; ok {
		if t, ok := c.tokens[key]; ok && c.now().Before(t.use) {
			return "Bearer " + t.token, t.token
		}
	}
	if c.basic && c.hasCreds() {
		return c.basicAuth(), ""
	}
	return "", ""
}

func (c *Client) hasCreds() bool { return c.user != "" || c.pass != "" }

func (c *Client) basicAuth() string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(c.user+":"+c.pass))
}

// answer answers the challenges of a 401 to a request sent with
// Authorization sent (bearer token sentToken, if any): it returns the
// Authorization to retry with, or "" when the client has no answer (the
// 401 stands).
func (c *Client) answer(ctx context.Context, repo string, headers []string, sent, sentToken string) (string, string, error) {
	var basic bool
	for _, h := range headers {
		for _, ch := range parseChallenges(h) {
			switch ch.scheme {
			case "bearer":
				tok, err := c.token(ctx, repo, ch.params, sentToken)
				if err != nil {
					return "", "", err
				}
				return "Bearer " + tok, tok, nil
			case "basic":
				basic = true
			}
		}
	}
	if basic && c.hasCreds() && !strings.HasPrefix(sent, "Basic ") {
		c.mu.Lock()
		c.basic = true
		c.mu.Unlock()
		return c.basicAuth(), "", nil
	}
	return "", "", nil
}

// token returns a token for the scope of a Bearer challenge (repo's pull
// scope when it names none): the cached one, unless it is rejected (just
// refused by the registry) or expired, else one fetched from the realm.
// Concurrent calls for the same token share one fetch.
func (c *Client) token(ctx context.Context, repo string, params map[string]string, rejected string) (string, error) {
	realm, service, scope := params["realm"], params["service"], params["scope"]
	if realm == "" {
		return "", errors.New("401 with a Bearer challenge naming no realm")
	}
	if scope == "" {
		scope = "repository:" + repo + ":pull"
	}
	key := realm + "\x00" + service + "\x00" + scope
	for {
		c.mu.Lock()
		if t, ok := c.tokens[key]; ok {
			if t.token != rejected && c.now().Before(t.use) {
				c.repoKey[repo] = key
				c.mu.Unlock()
				return t.token, nil
			}
			delete(c.tokens, key)
		}
		if f, ok := c.flights[key]; ok {
			c.mu.Unlock()
			select {
			case <-f.done:
			case <-ctx.Done():
				return "", ctx.Err()
			}
			if f.err != nil && ctx.Err() == nil &&
				(errors.Is(f.err, context.Canceled) || errors.Is(f.err, context.DeadlineExceeded)) {
				continue // the fetching request gave up; this one has not
			}
			if f.err == nil {
				c.mu.Lock()
				c.repoKey[repo] = key
				c.mu.Unlock()
			}
			return f.token, f.err
		}
		f := &flight{done: make(chan struct{})}
		c.flights[key] = f
		c.mu.Unlock()

		tok, use, err := c.fetchToken(ctx, realm, service, scope)
		f.token, f.err = tok, err
		c.mu.Lock()
		delete(c.flights, key)
		if err == nil {
			c.prune()
			c.tokens[key] = cachedToken{token: tok, use: use}
			c.repoKey[repo] = key
		}
		c.mu.Unlock()
		close(f.done)
		return tok, err
	}
}

// The token cache's bounds: it is pruned of expired tokens once it holds
// pruneAt, and never holds more than maxTokens (past that, the tokens
// nearest their end go first). Repositories pointing at a token that went
// go with it.
const (
	pruneAt   = 64
	maxTokens = 1024
)

// prune makes room for one more token. c.mu is held.
func (c *Client) prune() {
	if len(c.tokens) < pruneAt {
		return
	}
	now := c.now()
	for k, t := range c.tokens {
		if !now.Before(t.use) {
			delete(c.tokens, k)
		}
	}
	if over := len(c.tokens) - (maxTokens - 1); over > 0 {
		keys := make([]string, 0, len(c.tokens))
		for k := range c.tokens {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b string) int { return c.tokens[a].use.Compare(c.tokens[b].use) })
		for _, k := range keys[:over] {
			delete(c.tokens, k)
		}
	}
	for r, k := range c.repoKey {
		if _, ok := c.tokens[k]; !ok {
			delete(c.repoKey, r)
		}
	}
}

// fetchToken gets a token from realm, with the credentials as Basic if
// there are any. use is when the token stops being sent up front.
func (c *Client) fetchToken(ctx context.Context, realm, service, scope string) (string, time.Time, error) {
	u, err := url.Parse(realm)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", time.Time{}, fmt.Errorf("Bearer challenge with a bad realm %q", redact(realm))
	}
	if c.baseURL.Scheme == "https" && u.Scheme != "https" {
		return "", time.Time{}, fmt.Errorf("refusing the plain http token realm %s of an https registry", u.Redacted())
	}
	q := u.Query()
	if service != "" {
		q.Set("service", service)
	}
	for _, s := range strings.Fields(scope) {
		q.Add("scope", s)
	}
	u.RawQuery = q.Encode()
	tu := u.String()
	where := fmt.Sprintf("token for %q from %s", scope, u.Redacted())

	auth := ""
	if c.hasCreds() {
		auth = c.basicAuth()
	}
	resp, err := c.do(ctx, http.MethodGet, tu, http.Header{"Accept": {"application/json"}}, auth)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("%s: %w", where, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", time.Time{}, fmt.Errorf("%s: %w", where, c.statusError(resp))
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenBody+1))
	if err != nil {
		return "", time.Time{}, fmt.Errorf("%s: reading: %w", where, err)
	}
	if len(b) > maxTokenBody {
		return "", time.Time{}, fmt.Errorf("%s: answer exceeds %d bytes", where, maxTokenBody)
	}
	var tb struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
		IssuedAt    string `json:"issued_at"`
	}
	if err := json.Unmarshal(b, &tb); err != nil {
		return "", time.Time{}, fmt.Errorf("%s: bad JSON answer", where)
	}
	tok := tb.Token
	if tok == "" {
		tok = tb.AccessToken
	}
	if tok == "" {
		return "", time.Time{}, fmt.Errorf("%s: answer holds no token", where)
	}
	life := DefaultTokenLifetime
	if tb.ExpiresIn > 0 {
		life = time.Duration(min(tb.ExpiresIn, int64(24*time.Hour/time.Second))) * time.Second
	}
	now := c.now()
	start := now
	// issued_at only ever shortens the lifetime, and is ignored when the
	// upstream's clock is so far behind that it would end it at once.
	if t, err := time.Parse(time.RFC3339, tb.IssuedAt); err == nil && t.Before(now) && t.Add(life).After(now) {
		start = t
	}
	margin := min(life/10, maxTokenMargin)
	return tok, start.Add(life - margin), nil
}

// parseChallenges parses a WWW-Authenticate value: challenges
// `scheme k=v, k="v", ...`, separated by commas.
func parseChallenges(h string) []challenge {
	var out []challenge
	s := h
	for {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			return out
		}
		i := strings.IndexAny(s, " \t,")
		if i < 0 {
			i = len(s)
		}
		ch := challenge{scheme: strings.ToLower(s[:i]), params: map[string]string{}}
		s = s[i:]
		// parameters, until the next token not followed by "="
		for {
			rest := strings.TrimLeft(s, " \t,")
			j := 0
			for j < len(rest) && isTokenChar(rest[j]) {
				j++
			}
			name := rest[:j]
			after := strings.TrimLeft(rest[j:], " \t")
			if name == "" || !strings.HasPrefix(after, "=") {
				s = rest
				break
			}
			after = strings.TrimLeft(after[1:], " \t")
			var val string
			if strings.HasPrefix(after, `"`) {
				var b strings.Builder
				k := 1
				for ; k < len(after) && after[k] != '"'; k++ {
					if after[k] == '\\' && k+1 < len(after) {
						k++
					}
					b.WriteByte(after[k])
				}
				val = b.String()
				if k < len(after) {
					k++
				}
				s = after[k:]
			} else {
				k := 0
				for k < len(after) && after[k] != ',' && after[k] != ' ' && after[k] != '\t' {
					k++
				}
				val, s = after[:k], after[k:]
			}
			ch.params[strings.ToLower(name)] = val
		}
		out = append(out, ch)
	}
}

func isTokenChar(b byte) bool {
	switch {
	case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0
}
