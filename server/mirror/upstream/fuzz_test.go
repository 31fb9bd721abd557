package upstream

import (
	"testing"
	"time"
)

// FuzzParseChallenges: any WWW-Authenticate value an upstream sends parses
// without panicking, into challenges with lowercased schemes.
func FuzzParseChallenges(f *testing.F) {
	for _, s := range []string{
		`Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"`,
		`Basic realm="Registry Realm"`,
		`Bearer realm="a", Basic realm="b"`,
		`Bearer realm="unterminated`,
		`,,, =x, "`,
		``,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		for _, c := range parseChallenges(h) {
			for _, r := range c.scheme {
				if r >= 'A' && r <= 'Z' {
					t.Fatalf("scheme %q not lowercased", c.scheme)
				}
			}
		}
	})
}

// FuzzRetryAfter: any Retry-After value gives a backoff within bounds.
func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"30", "0", "-5", "Wed, 21 Oct 2015 07:28:00 GMT", "99999999999999999999", ""} {
		f.Add(s)
	}
	c, err := New(Options{URL: "https://registry.example.com", Now: func() time.Time { return time.Unix(1_700_000_000, 0) }})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if d := c.retryAfter(v); d < 0 || d > 24*time.Hour {
			t.Fatalf("Retry-After %q gives a backoff of %s", v, d)
		}
	})
}
