package repopath_test

import (
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/wharfhub/wharf/server/repopath"
)

// words are the UI's resource words plus some of the API's.
var words = []string{"tags", "comments", "stargazers", "settings", "star", "unstar",
	"collaborators", "delete", "webhooks", "deliveries", "test"}

// nameRE is the repository name grammar (server/content/names.go).
var nameRE = regexp.MustCompile(`^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$`)

const maxName = 255

// Names makes valid repository names: every word as a segment at every
// position, separators of every kind, and names of the maximum length.
func Names(rng *rand.Rand, n int) []string {
	out := []string{"alice/app", "alice/app/settings", "alice/x/comments/y", "alice/tags", "alice/tags/tags",
		"alice/-x", "a/b/c/d/e/f/g/h/i/j"}
	// Every word at every position of a five-segment name.
	for _, w := range words {
		for i := 1; i < 5; i++ {
			segs := []string{"ns", "a", "b", "c", "d"}
			segs[i] = w
			out = append(out, strings.Join(segs, "/"))
		}
	}
	for range n {
		out = append(out, randomName(rng))
	}
	// The maximum length, ending in a word.
	long := "alice/" + strings.Repeat("a", maxName-len("alice/")-len("/settings")) + "/settings"
	out = append(out, long)
	valid := out[:0]
	for _, s := range out {
		if nameRE.MatchString(s) && len(s) <= maxName {
			valid = append(valid, s)
		}
	}
	return valid
}

func randomName(rng *rand.Rand) string {
	seps := []string{".", "_", "__", "-", "---"}
	var segs []string
	for range 2 + rng.IntN(5) {
		if rng.IntN(3) == 0 {
			segs = append(segs, words[rng.IntN(len(words))])
			continue
		}
		var b strings.Builder
		for j := range 1 + rng.IntN(3) {
			if j > 0 {
				b.WriteString(seps[rng.IntN(len(seps))])
			}
			for range 1 + rng.IntN(6) {
				b.WriteByte("abcdefghijklmnopqrstuvwxyz0123456789"[rng.IntN(36)])
			}
		}
		segs = append(segs, b.String())
	}
	return strings.Join(segs, "/")
}

func TestEveryNameRoundTrips(t *testing.T) {
	r := repopath.New(words...)
	rests := [][]string{nil, {"tags"}, {"comments", "7"}, {"comments", "7", "edit"},
		{"webhooks", "3", "deliveries", "x", "redeliver"}, {"star"}}
	for _, name := range Names(rand.New(rand.NewPCG(1, 2)), 500) {
		for _, rest := range rests {
			for _, prefix := range []string{"/r", "/api/v1/repositories"} {
				p := r.Path(prefix, name, rest...)
				got, gotRest := r.Split(strings.TrimPrefix(p, prefix))
				if got != name || strings.Join(gotRest, "/") != strings.Join(rest, "/") {
					t.Fatalf("%s: Split = %q %q, want %q %q", p, got, gotRest, name, rest)
				}
				// The separator is always understood, needed or not.
				sep := prefix + "/" + name + "/-/" + strings.Join(rest, "/")
				got, gotRest = r.Split(strings.TrimPrefix(sep, prefix))
				if got != name || strings.Join(gotRest, "/") != strings.Join(rest, "/") {
					t.Fatalf("%s: Split = %q %q, want %q %q", sep, got, gotRest, name, rest)
				}
			}
		}
	}
}

func TestOlderPathsKeepTheirMeaning(t *testing.T) {
	r := repopath.New(words...)
	for _, tc := range []struct{ path, name, rest string }{
		{"alice/app", "alice/app", ""},
		{"alice/app/tags", "alice/app", "tags"},
		{"alice/tags", "alice/tags", ""},
		{"alice/tags/comments/3", "alice/tags", "comments/3"},
		{"alice/x/y/settings", "alice/x/y", "settings"},
		{"alice/app/settings/-", "alice/app/settings", ""},
		{"alice/app/settings/-/", "alice/app/settings", ""},
		{"alice", "", ""},
		{"", "", ""},
	} {
		name, rest := r.Split(tc.path)
		if name != tc.name || strings.Join(rest, "/") != tc.rest {
			t.Errorf("Split(%q) = %q %q, want %q %q", tc.path, name, rest, tc.name, tc.rest)
		}
	}
	if got := r.Path("/r", "alice/app", "tags"); got != "/r/alice/app/tags" {
		t.Errorf("an unambiguous name's path changed: %s", got)
	}
	if got := r.Path("/r", "alice/app/settings"); got != "/r/alice/app/settings/-" {
		t.Errorf("an ambiguous name's page is %s", got)
	}
}

func FuzzSplit(f *testing.F) {
	f.Add("alice/app/-/tags")
	f.Add("a/b/settings/-/comments/1")
	r := repopath.New(words...)
	f.Fuzz(func(t *testing.T, p string) {
		name, rest := r.Split(p)
		if name == "" {
			return
		}
		if nameRE.MatchString(name) && !slices.Contains(rest, "") {
			back, backRest := r.Split(strings.TrimPrefix(r.Path("", name, rest...), "/"))
			if back != name || strings.Join(backRest, "/") != strings.Join(rest, "/") {
				t.Fatalf("%q: %q %q came back as %q %q", p, name, rest, back, backRest)
			}
		}
	})
}
