package upstream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
)

// BackoffUntil is the end of the current backoff, zero if there is none.
func (c *Client) BackoffUntil() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.deadline.IsZero() && !c.now().Before(c.deadline) {
		c.deadline = time.Time{}
	}
	return c.deadline
}

// send sends a request to the registry, answering one 401 challenge.
// The caller closes the body of the response; on an error there is none.
func (c *Client) send(ctx context.Context, method, u, repo string, hdr http.Header) (*http.Response, error) {
	auth, sentToken := c.upfront(repo)
	for retried := false; ; retried = true {
		resp, err := c.do(ctx, method, u, hdr, auth)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusUnauthorized || retried || !sameOrigin(c.baseURL, resp.Request.URL) {
			return resp, nil
		}
		next, tok, err := c.answer(ctx, repo, resp.Header.Values("WWW-Authenticate"), auth, sentToken)
		if err != nil {
			discard(resp)
			return nil, wrap(method, u, err)
		}
		if next == "" {
			return resp, nil // the caller reports the 401
		}
		discard(resp)
		auth, sentToken = next, tok
	}
}

// do sends one request, honoring and noting backoff.
func (c *Client) do(ctx context.Context, method, u string, hdr http.Header, auth string) (*http.Response, error) {
	if until := c.BackoffUntil(); !until.IsZero() {
		return nil, wrap(method, redact(u), fmt.Errorf("%w until %s", ErrBackoff, until.UTC().Format(time.RFC3339)))
	}
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, wrap(method, redact(u), err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if c.ua != "" {
		req.Header.Set("User-Agent", c.ua)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, wrap(method, redact(u), err)
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		d := c.retryAfter(resp.Header.Get("Retry-After"))
		if d > 0 {
			until := c.now().Add(d)
			c.mu.Lock()
			if until.After(c.deadline) {
				c.deadline = until
			}
			c.mu.Unlock()
		}
	}
	return resp, nil
}

// retryAfter reads a Retry-After: seconds or an HTTP date; DefaultBackoff
// when missing or unreadable.
func (c *Client) retryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return DefaultBackoff
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return DefaultBackoff
		}
		if n > int64(24*time.Hour/time.Second) {
			n = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(c.now())
		if d < 0 {
			return 0
		}
		return min(d, 24*time.Hour)
	}
	return DefaultBackoff
}

// check maps a non-2xx answer to an error, reading (but not closing) the
// body; nil for a 2xx.
func (c *Client) check(resp *http.Response) error {
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	if resp.StatusCode == http.StatusNotFound {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return ErrNotFound
	}
	return c.statusError(resp)
}

func (c *Client) statusError(resp *http.Response) *StatusError {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	e := &StatusError{Code: resp.StatusCode, Body: oneLine(b, 512)}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		e.RetryAfter = c.retryAfter(resp.Header.Get("Retry-After"))
	}
	return e
}

func oneLine(b []byte, max int) string {
	s := strings.Join(strings.Fields(strings.ToValidUTF8(string(b), "?")), " ")
	if len(s) > max {
		s = s[:max] + "..."
	}
	return strings.ToValidUTF8(s, "")
}

// discard drains a little of a body, so the connection can be reused,
// and closes it.
func discard(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

func wrap(method, u string, err error) error {
	return fmt.Errorf("upstream: %s %s: %w", method, u, err)
}

// redact drops any credentials from a URL, for error text.
func redact(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(unparsable URL)"
	}
	return p.Redacted()
}

func mediaType(ct string) string {
	if ct == "" {
		return ""
	}
	t, _, err := mime.ParseMediaType(ct)
	if err != nil {
		t, _, _ = strings.Cut(ct, ";")
		return strings.ToLower(strings.TrimSpace(t))
	}
	return t
}

var (
	// component is a path component of a repository name, as in the
	// distribution spec.
	component = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$`)
	tagRE     = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$`)
)

// checkRepo checks that repo is a repository name: components of
// lowercase letters and digits joined by separators, split by "/", at
// most 255 bytes.
func checkRepo(repo string) error {
	if repo == "" || len(repo) > 255 {
		return fmt.Errorf("upstream: bad repository name %q", repo)
	}
	for _, s := range strings.Split(repo, "/") {
		if !component.MatchString(s) {
			return fmt.Errorf("upstream: bad repository name %q", repo)
		}
	}
	return nil
}

// checkRef checks repo and ref, and returns ref's digest when it is one.
func checkRef(repo, ref string) (digest.Digest, error) {
	if err := checkRepo(repo); err != nil {
		return "", err
	}
	if strings.Contains(ref, ":") {
		d, err := digest.Parse(ref)
		if err != nil {
			return "", fmt.Errorf("upstream: bad manifest digest %q: %w", ref, err)
		}
		return d, nil
	}
	if !tagRE.MatchString(ref) {
		return "", fmt.Errorf("upstream: bad tag %q", ref)
	}
	return "", nil
}
