package upstream

import (
	"fmt"
	"testing"
	"time"
)

// The token cache stays bounded: expired tokens go once it is large,
// then the ones nearest their end, and repositories with them.
func TestTokenCacheIsBounded(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	c, err := New(Options{URL: "https://registry.example.com", Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	add := func(n int, prefix string, use time.Time) {
		for i := range n {
			k := fmt.Sprintf("%s-%d", prefix, i)
			c.mu.Lock()
			c.prune()
			c.tokens[k] = cachedToken{token: "t", use: use.Add(time.Duration(i) * time.Millisecond)}
			c.repoKey["repo/"+k] = k
			c.mu.Unlock()
		}
	}
	add(40, "old", now.Add(-time.Minute)) // already expired
	add(40, "live", now.Add(time.Hour))
	if n := len(c.tokens); n >= 80 {
		t.Fatalf("%d tokens: the expired ones were kept", n)
	}
	for k := range c.tokens {
		if k[:3] == "old" {
			t.Fatalf("expired token %s kept", k)
		}
	}
	add(3000, "many", now.Add(2*time.Hour))
	if n, r := len(c.tokens), len(c.repoKey); n > maxTokens || r > maxTokens {
		t.Fatalf("%d tokens and %d repositories, want at most %d", n, r, maxTokens)
	}
	if _, ok := c.tokens["many-2999"]; !ok {
		t.Fatal("the newest token went")
	}
	if _, ok := c.tokens["live-0"]; ok {
		t.Fatal("the token nearest its end stayed")
	}
	for r, k := range c.repoKey {
		if _, ok := c.tokens[k]; !ok {
			t.Fatalf("repository %s points at a token that went", r)
		}
	}
}
