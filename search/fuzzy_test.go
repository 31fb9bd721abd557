package search

import (
	"context"
	"slices"
	"testing"
)

// typoCorpus has names a typo is a few edits from, names that match
// "redis" as typed (by name and by prose only), a popular name that
// matches it only with a typo, a private one that does too, and short
// names a short query is one edit from.
func typoCorpus() []Repo {
	rs := corpus()
	rs = append(rs,
		public("library/redis", "In-memory data store", 10, 10),
		public("tools/cachex", "A cache in front of redis", 20, 20),
		public("acme/redix", "Something else entirely", 99999, 999999),
		public("tools/go", "The Go toolchain", 5, 5),
		public("tools/js", "Node and friends", 5, 5),
		Repo{Name: "acme/secret-nginz", Namespace: "acme", Description: "Unreleased",
			Stars: 99999, Readers: []string{NamespaceReader("acme"), CollaboratorReader(42)}},
	)
	return rs
}

// Typos in a name find it, ranked below every hit of the text as typed,
// in every sort and across pages; short words are not fuzzed.
func TestTypos(t *testing.T) {
	b := openTest(t)
	ctx := context.Background()
	if err := b.IndexRepos(ctx, typoCorpus()); err != nil {
		t.Fatal(err)
	}
	pub := []string{PublicReader}
	tests := []struct {
		name, q  string
		sort     string
		want     []string // these hits, in this order, first
		contains []string
		excludes []string
		total    uint64 // if not 0
	}{
		{name: "swapped letters", q: "nignx", want: []string{"library/nginx"}, contains: []string{"bitnami/nginx", "acme/nginx-proxy"}},
		{name: "a letter left out", q: "ngnx", contains: []string{"library/nginx", "bitnami/nginx"}},
		{name: "a letter changed", q: "postgras", contains: []string{"data/postgres"}},
		{name: "two typos in a long word", q: "postgrse", contains: []string{"data/postgres"}},
		{name: "typo in the namespace", q: "bitanmi", want: []string{"bitnami/nginx"}},
		{name: "typo in a joined name", q: "nignx-prxy", want: []string{"acme/nginx-proxy"}},
		{name: "one word typed, one with a typo", q: "nignx proxy", want: []string{"acme/nginx-proxy"}},
		{name: "exact outranks fuzzy", q: "redis", want: []string{"library/redis", "tools/cachex", "acme/redix"}, total: 3},
		{name: "exact outranks fuzzy, by stars", q: "redis", sort: SortStars, want: []string{"tools/cachex", "library/redis", "acme/redix"}, total: 3},
		{name: "exact outranks fuzzy, by pulls", q: "redis", sort: SortPulls, want: []string{"tools/cachex", "library/redis", "acme/redix"}, total: 3},
		{name: "by stars, typo only", q: "nignx", sort: SortStars, want: []string{"library/nginx", "acme/nginx-proxy", "bitnami/nginx"}},
		{name: "two letters are not fuzzed", q: "gp", excludes: []string{"tools/go"}, total: 0},
		{name: "nor is one", q: "j", excludes: []string{"tools/js"}, total: 0},
		{name: "a short word is matched as typed", q: "go", want: []string{"tools/go"}},
		{name: "five letters, one typo", q: "caddi", want: []string{"web/caddy"}},
		{name: "still nothing for nonsense", q: "qwxzzy", total: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := b.Search(ctx, Query{Text: tc.q, Principals: pub, Sort: tc.sort, Limit: 20})
			if err != nil {
				t.Fatal(err)
			}
			got := names(r)
			if len(got) < len(tc.want) || !slices.Equal(got[:len(tc.want)], tc.want) {
				t.Errorf("hits %v, want %v first", got, tc.want)
			}
			for _, c := range tc.contains {
				if !contains(got, c) {
					t.Errorf("%s missing from %v", c, got)
				}
			}
			for _, c := range append(tc.excludes, "acme/secret-nginz") {
				if contains(got, c) {
					t.Errorf("%s should not match: %v", c, got)
				}
			}
			if tc.total != 0 || len(tc.want)+len(tc.contains) == 0 {
				if r.Total != tc.total {
					t.Errorf("total %d, want %d (%v)", r.Total, tc.total, got)
				}
			}
			if r.Total != uint64(len(got)) {
				t.Errorf("total %d for %d hits %v", r.Total, len(got), got)
			}
		})
	}
}

// Paging one hit at a time, beyond the re-ranked window's reach and
// through it, keeps the tiers' order and shows each hit once.
func TestTyposPageThrough(t *testing.T) {
	b := openTest(t)
	ctx := context.Background()
	if err := b.IndexRepos(ctx, typoCorpus()); err != nil {
		t.Fatal(err)
	}
	want := []string{"library/redis", "tools/cachex", "acme/redix"}
	for _, sort := range []string{SortRelevance, SortUpdated} {
		var got []string
		for offset := 0; offset < 5; offset++ {
			r, err := b.Search(ctx, Query{Text: "redis", Principals: []string{PublicReader}, Sort: sort, Offset: offset, Limit: 1})
			if err != nil {
				t.Fatal(err)
			}
			if r.Total != 3 {
				t.Fatalf("sort %q offset %d: total %d, want 3", sort, offset, r.Total)
			}
			got = append(got, names(r)...)
		}
		if sort == SortUpdated {
			// Updated follows stars in the corpus: cachex, then redis.
			want = []string{"tools/cachex", "library/redis", "acme/redix"}
		}
		if !slices.Equal(got, want) {
			t.Errorf("sort %q: pages %v, want %v", sort, got, want)
		}
	}
}

// A private repository is found with a typo only by those who may see
// it, and counted only for them.
func TestTyposArePrivate(t *testing.T) {
	b := openTest(t)
	ctx := context.Background()
	if err := b.IndexRepos(ctx, typoCorpus()); err != nil {
		t.Fatal(err)
	}
	const secret = "acme/secret-nginz"
	outsider := []string{PublicReader, NamespaceReader("mallory"), CollaboratorReader(7)}
	for _, sort := range []string{SortRelevance, SortStars, SortUpdated} {
		for _, q := range []string{"secret-nginx", "secretnginx", "sceret", "nginz", "secert nginx"} {
			r, err := b.Search(ctx, Query{Text: q, Principals: outsider, Sort: sort, Limit: 50})
			if err != nil {
				t.Fatal(err)
			}
			if contains(names(r), secret) {
				t.Errorf("%q sorted %q shows the private repository to an outsider", q, sort)
			}
			if r.Total != uint64(len(r.Hits)) {
				t.Errorf("%q sorted %q: outsider total %d for %d hits", q, sort, r.Total, len(r.Hits))
			}
			r2, err := b.Search(ctx, Query{Text: q, Principals: append(outsider, CollaboratorReader(42)), Sort: sort, Limit: 50})
			if err != nil {
				t.Fatal(err)
			}
			if !contains(names(r2), secret) || r2.Total != r.Total+1 {
				t.Errorf("%q sorted %q: collaborator gets %v of %d, outsider %d", q, sort, names(r2), r2.Total, r.Total)
			}
		}
	}
	all, err := b.Search(ctx, Query{Text: "sceret", AllReaders: true, Limit: 5})
	if err != nil || !contains(names(all), secret) {
		t.Fatalf("administrators do not find it with a typo: %v %v", all, err)
	}
}
