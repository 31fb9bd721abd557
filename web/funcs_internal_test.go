package web

import "testing"

func TestPlural(t *testing.T) {
	for _, c := range []struct {
		n          int
		unit, want string
	}{
		{1, "repository", "1 repository"}, {2, "repository", "2 repositories"}, {0, "member", "0 members"},
		{3, "day", "3 days"}, {2, "key", "2 keys"}, {1, "tag", "1 tag"},
	} {
		if got := plural(c.n, c.unit); got != c.want {
			t.Errorf("plural(%d, %q) = %q, want %q", c.n, c.unit, got, c.want)
		}
	}
}
