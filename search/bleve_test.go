package search

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func openTest(t testing.TB) *Bleve {
	t.Helper()
	b, created, err := OpenBleve(t.TempDir() + "/idx")
	if err != nil || !created {
		t.Fatalf("open: %v %v", err, created)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func public(name, desc string, stars, pulls int64) Repo {
	ns, _, _ := strings.Cut(name, "/")
	return Repo{Name: name, Namespace: ns, Description: desc, Stars: stars, Pulls: pulls, Updated: time.Unix(1700000000+stars, 0),
		Readers: []string{PublicReader, NamespaceReader(ns)}}
}

// corpus is a fixed set of a few hundred repositories.
func corpus() []Repo {
	rs := []Repo{
		public("library/nginx", "Official build of Nginx, the web server", 9000, 900000),
		public("bitnami/nginx", "Bitnami nginx image, hardened", 300, 50000),
		public("acme/nginx-proxy", "Automated nginx reverse proxy for containers", 2000, 80000),
		public("acme/my-app", "The app of acme", 5, 10),
		public("other/my_app", "Another app", 50, 100),
		public("zed/myapplication", "A bigger application", 1, 1),
		public("data/postgres", "The PostgreSQL object-relational database", 8000, 700000),
		public("tools/pgadmin", "Administration for postgres databases", 100, 1000),
		public("web/caddy", "Fast web server with automatic HTTPS", 700, 9000),
		public("web/traefik", "Cloud native reverse proxy", 900, 20000),
		public("alpha/tiny-a", "A tiny static file server", 3, 10),
		public("beta/tiny-b", "A tiny static file server", 4000, 90000),
	}
	for i := range 300 {
		rs = append(rs, public(fmt.Sprintf("filler/service-%03d", i), fmt.Sprintf("Internal service number %d for testing", i), int64(i%17), int64(i)))
	}
	return rs
}

func names(r *Result) []string {
	out := make([]string, len(r.Hits))
	for i, h := range r.Hits {
		out[i] = h.Name
	}
	return out
}

func TestRelevance(t *testing.T) {
	b := openTest(t)
	ctx := context.Background()
	if err := b.IndexRepos(ctx, corpus()); err != nil {
		t.Fatal(err)
	}
	pub := []string{PublicReader}
	tests := []struct {
		name, q   string
		sort      string
		first     string   // must be the top hit
		contains  []string // must be among the hits
		excludes  []string // must not be among the hits
		beforeFor [2]string
	}{
		{name: "exact name first", q: "nginx", first: "library/nginx", contains: []string{"bitnami/nginx", "acme/nginx-proxy"}},
		{name: "prefix of a name", q: "ngin", contains: []string{"library/nginx", "bitnami/nginx", "acme/nginx-proxy"}, excludes: []string{"web/caddy"}},
		{name: "separators do not matter: my-app", q: "my-app", contains: []string{"acme/my-app", "other/my_app"}},
		{name: "separators do not matter: my_app", q: "my_app", contains: []string{"acme/my-app", "other/my_app"}},
		{name: "joined name: myapp", q: "myapp", contains: []string{"acme/my-app", "other/my_app", "zed/myapplication"}},
		{name: "description words, stemmed", q: "databases", contains: []string{"data/postgres", "tools/pgadmin"}},
		{name: "description phrase words", q: "reverse proxy", contains: []string{"acme/nginx-proxy", "web/traefik"}, excludes: []string{"library/nginx"}},
		{name: "stars lift among equals", q: "static file server", first: "beta/tiny-b", beforeFor: [2]string{"beta/tiny-b", "alpha/tiny-a"}},
		{name: "relevance still leads stars", q: "caddy", first: "web/caddy"},
		{name: "namespace word", q: "bitnami", first: "bitnami/nginx"},
		{name: "sort by stars", q: "", sort: SortStars, first: "library/nginx"},
		{name: "sort by pulls", q: "", sort: SortPulls, first: "library/nginx"},
		{name: "nothing for nonsense", q: "qwxzzy", excludes: []string{"library/nginx"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := b.Search(ctx, Query{Text: tc.q, Principals: pub, Sort: tc.sort, Limit: 20})
			if err != nil {
				t.Fatal(err)
			}
			got := names(r)
			if tc.first != "" && (len(got) == 0 || got[0] != tc.first) {
				t.Errorf("first hit %v, want %s", got, tc.first)
			}
			for _, c := range tc.contains {
				if !contains(got, c) {
					t.Errorf("%s missing from %v", c, got)
				}
			}
			for _, c := range tc.excludes {
				if contains(got, c) {
					t.Errorf("%s should not match: %v", c, got)
				}
			}
			if a, z := tc.beforeFor[0], tc.beforeFor[1]; a != "" && index(got, a) > index(got, z) {
				t.Errorf("%s should rank before %s: %v", a, z, got)
			}
		})
	}
}

func contains(s []string, v string) bool { return index(s, v) < len(s) }

func index(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return len(s)
}

// Privacy is a query filter: totals count only what the caller may see,
// whatever the query, sort, page or suggestion.
func TestPrivacyFilter(t *testing.T) {
	b := openTest(t)
	ctx := context.Background()
	rs := corpus()
	secret := Repo{Name: "acme/secret-nginx", Namespace: "acme", Description: "nginx with private patches",
		Stars: 99999, Readers: []string{NamespaceReader("acme"), CollaboratorReader(42)}}
	rs = append(rs, secret)
	if err := b.IndexRepos(ctx, rs); err != nil {
		t.Fatal(err)
	}
	outsider := []string{PublicReader, NamespaceReader("mallory"), CollaboratorReader(7)}
	for _, q := range []Query{
		{Text: "nginx"}, {Text: "secret"}, {Text: "private patches"}, {Text: ""}, {Text: "", Sort: SortStars},
		{Text: "nginx", Sort: SortUpdated}, {Text: "nginx", Offset: 1, Limit: 1}, {Text: "secret-nginx"}, {Text: "acme"},
	} {
		q.Principals = outsider
		q.Limit = max(q.Limit, 50)
		r, err := b.Search(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if contains(names(r), secret.Name) {
			t.Errorf("query %+v shows the private repository", q)
		}
		q.Principals = append(outsider, CollaboratorReader(42))
		r2, err := b.Search(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if r2.Total != r.Total+1 && q.Text != "" && strings.Contains("nginx secret private patches secret-nginx acme", q.Text) {
			t.Errorf("query %+v: collaborator total %d, outsider %d", q, r2.Total, r.Total)
		}
	}
	sug, err := b.Suggest(ctx, Query{Text: "secr", Principals: outsider, Limit: 8})
	if err != nil || contains(sug, secret.Name) {
		t.Fatalf("suggestion leaks: %v %v", sug, err)
	}
	sug, _ = b.Suggest(ctx, Query{Text: "secr", Principals: []string{NamespaceReader("acme")}, Limit: 8})
	if !contains(sug, secret.Name) {
		t.Fatalf("member does not get the suggestion: %v", sug)
	}
	all, _ := b.Search(ctx, Query{Text: "secret", AllReaders: true, Limit: 5})
	if !contains(names(all), secret.Name) {
		t.Fatal("administrators do not find it")
	}
}

func TestDeleteNamespaceAndReopen(t *testing.T) {
	dir := t.TempDir() + "/idx"
	b, _, err := OpenBleve(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_ = b.IndexRepos(ctx, corpus())
	_ = b.IndexNamespaces(ctx, []Namespace{{Name: "acme", Kind: "org"}, {Name: "zed", Kind: "user"}})
	if err := b.DeleteNamespace(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	r, _ := b.Search(ctx, Query{Text: "app", Principals: []string{PublicReader}, Limit: 50})
	if contains(names(r), "acme/my-app") {
		t.Fatal("a deleted namespace's repository is still found")
	}
	if ns, _ := b.SearchNamespaces(ctx, "ac", 5); len(ns) != 0 {
		t.Fatalf("deleted namespace still found: %v", ns)
	}
	if ns, _ := b.SearchNamespaces(ctx, "ze", 5); len(ns) != 1 || ns[0].Kind != "user" {
		t.Fatalf("namespace search: %v", ns)
	}
	b.Close()
	b2, created, err := OpenBleve(dir)
	if err != nil || created {
		t.Fatalf("reopen: %v %v", err, created)
	}
	defer b2.Close()
	if n, _ := b2.Count(); n == 0 {
		t.Fatal("reopened index is empty")
	}
}

func TestCorruptIndexIsReported(t *testing.T) {
	dir := t.TempDir() + "/idx"
	b, _, _ := OpenBleve(dir)
	b.Close()
	// Break the index metadata.
	if err := writeFile(dir+"/index_meta.json", "{not json"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := OpenBleve(dir); err == nil {
		t.Fatal("a corrupt index opened")
	}
}

func TestOutdatedMappingIsRebuilt(t *testing.T) {
	dir := t.TempDir() + "/idx"
	b, _, err := OpenBleve(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.idx.SetInternal(mappingKey, []byte("0")); err != nil {
		t.Fatal(err)
	}
	b.Close()
	if _, _, err := OpenBleve(dir); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("an index of an older mapping opened: %v", err)
	}
}

// TestIndexInUse opens an index that is open already, as a second server
// on the same data directory does: the open fails at once with ErrInUse
// (not ErrCorrupt, which would have the index removed), whether the
// index was just created or reopened, and the index opens again once
// closed.
func TestIndexInUse(t *testing.T) {
	if !dirLocks {
		t.Skip("no directory locks on this platform")
	}
	// openAgain opens dir, failing the test if it takes long: Bolt's own
	// timeout (2s) would answer, but not ErrInUse.
	openAgain := func(dir string) (*Bleve, error) {
		type opened struct {
			b   *Bleve
			err error
		}
		c := make(chan opened, 1)
		go func() {
			b, _, err := OpenBleve(dir)
			c <- opened{b, err}
		}()
		select {
		case o := <-c:
			return o.b, o.err
		case <-time.After(time.Second):
			t.Fatal("opening an index in use waits")
			return nil, nil
		}
	}
	dir := t.TempDir() + "/idx"
	for _, step := range []string{"created", "reopened"} {
		b, created, err := OpenBleve(dir)
		if err != nil || created != (step == "created") {
			t.Fatalf("%s: %v, created %v", step, err, created)
		}
		b2, err := openAgain(dir)
		if !errors.Is(err, ErrInUse) || errors.Is(err, ErrCorrupt) {
			if b2 != nil {
				b2.Close()
			}
			t.Fatalf("%s: a second open of the index answers %v, want ErrInUse", step, err)
		}
		if !strings.Contains(err.Error(), dir) {
			t.Errorf("%s: the error does not name the index: %v", step, err)
		}
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
	}
	b, err := openAgain(dir)
	if err != nil {
		t.Fatalf("the index does not open once closed: %v", err)
	}
	b.Close()
}
