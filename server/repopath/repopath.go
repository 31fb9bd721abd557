package repopath

import (
	"slices"
	"strings"
)

// Sep is the segment that ends a repository name. A name's path
// components match [a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*, so none is "-".
const Sep = "-"

// Router knows the words that may follow a repository name: the first
// segment of each resource under it ("tags", "comments", ...).
type Router struct{ words map[string]bool }

// New makes a router for the given resource words.
func New(words ...string) *Router {
	r := &Router{words: map[string]bool{}}
	for _, w := range words {
		r.words[w] = true
	}
	return r
}

// Split splits "ns/name[/more]/-/rest..." into the name and the rest. A
// path with no "-" segment is read the older way, which CONTRACT.md's
// paths use: the name runs up to the first resource word from the third
// segment on. name is "" when the path holds no name.
func (r *Router) Split(p string) (name string, rest []string) {
	segs := strings.Split(strings.Trim(p, "/"), "/")
	if len(segs) < 2 {
		return "", nil
	}
	for i := 2; i < len(segs); i++ {
		if segs[i] == Sep {
			return strings.Join(segs[:i], "/"), nonEmpty(segs[i+1:])
		}
	}
	i := 2
	for i < len(segs) && !r.words[segs[i]] {
		i++
	}
	return strings.Join(segs[:i], "/"), segs[i:]
}

// nonEmpty drops the empty segment a trailing slash leaves ("name/-/").
func nonEmpty(segs []string) []string {
	if len(segs) == 1 && segs[0] == "" {
		return nil
	}
	return segs
}

// Ambiguous reports whether the older reading of name's path would end
// the name early, at a segment that is a resource word.
func (r *Router) Ambiguous(name string) bool {
	segs := strings.Split(name, "/")
	for _, s := range segs[min(2, len(segs)):] {
		if r.words[s] {
			return true
		}
	}
	return false
}

// Path builds the path of a resource under the repository name, below
// prefix ("/r" or "/api/v1/repositories"). The "-" separator is written
// only where the older reading would be wrong (a name with a resource
// word in it, or a rest that does not start with one), so that the paths
// of every other name stay as they always were.
func (r *Router) Path(prefix, name string, rest ...string) string {
	p := prefix + "/" + name
	if r.Ambiguous(name) || slices.Contains(rest, Sep) || len(rest) > 0 && !r.words[rest[0]] {
		p += "/" + Sep
	}
	for _, s := range rest {
		p += "/" + s
	}
	return p
}
