package search

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// Repositories whose name matches come before those that match only in
// their prose, and paging through all of them shows each once, across
// the re-ranked window and the tiers (for a page size that divides the
// window).
func TestTiersPageThrough(t *testing.T) {
	b := openTest(t)
	ctx := context.Background()
	var rs []Repo
	for i := range 40 {
		rs = append(rs, public(fmt.Sprintf("named/widget-%02d", i), "A thing", int64(i), int64(i)))
		rs = append(rs, public(fmt.Sprintf("prose/thing-%02d", i), "Makes a widget or two", int64(100+i), int64(i)))
		rs = append(rs, public(fmt.Sprintf("other/thing-%02d", i), "Nothing to see", 1, 1))
	}
	hidden := Repo{Name: "named/widget-secret", Namespace: "named", Description: "widget", Readers: []string{NamespaceReader("named")}}
	if err := b.IndexRepos(ctx, append(rs, hidden)); err != nil {
		t.Fatal(err)
	}
	for _, limit := range []int{10, 25} {
		seen := map[string]bool{}
		var order []string
		for offset := 0; offset < 100; offset += limit {
			r, err := b.Search(ctx, Query{Text: "widget", Principals: []string{PublicReader}, Offset: offset, Limit: limit})
			if err != nil {
				t.Fatal(err)
			}
			if r.Total != 80 {
				t.Fatalf("limit %d offset %d: total %d, want 80", limit, offset, r.Total)
			}
			for _, n := range names(r) {
				if seen[n] {
					t.Errorf("limit %d: %s twice", limit, n)
				}
				seen[n] = true
				order = append(order, n)
			}
		}
		if len(seen) != 80 || seen[hidden.Name] {
			t.Errorf("limit %d: saw %d repositories (hidden one: %v)", limit, len(seen), seen[hidden.Name])
		}
		for i, n := range order[:40] {
			if !strings.HasPrefix(n, "named/") {
				t.Errorf("limit %d: hit %d is %s, want the names first", limit, i, n)
				break
			}
		}
	}
}

// Sorting by a field orders every match by it, not just the top ones.
func TestSortByFieldWithText(t *testing.T) {
	b := openTest(t)
	ctx := context.Background()
	if err := b.IndexRepos(ctx, corpus()); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		sort  string
		first string
	}{
		{SortStars, "library/nginx"}, {SortPulls, "library/nginx"}, {SortUpdated, "library/nginx"},
	} {
		r, err := b.Search(ctx, Query{Text: "nginx", Principals: []string{PublicReader}, Sort: tc.sort, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		if got := names(r); len(got) == 0 || got[0] != tc.first || r.Total != 3 {
			t.Errorf("sort %s: %v of %d, want %s first of 3", tc.sort, got, r.Total, tc.first)
		}
	}
}

// With no text, everything matches alike, and popularity orders the
// first page.
func TestNoTextRanksByPopularity(t *testing.T) {
	b := openTest(t)
	ctx := context.Background()
	var rs []Repo
	for i := range 20 {
		rs = append(rs, public(fmt.Sprintf("ns/repo-%02d", i), "Something", int64((i*7)%20), int64(i)))
	}
	if err := b.IndexRepos(ctx, rs); err != nil {
		t.Fatal(err)
	}
	r, err := b.Search(ctx, Query{Principals: []string{PublicReader}, Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(r); r.Total != 20 || len(got) != 3 || got[0] != "ns/repo-17" {
		t.Errorf("got %v of %d, want ns/repo-17 (19 stars) first of 20", got, r.Total)
	}
}
