package registry_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestTagListAndCatalogPagination(t *testing.T) {
	e := newEnv(t)
	repo := "alice/paged"
	img := e.image(repo, "l")
	for i := range 5 {
		if r := e.putManifest(repo, fmt.Sprintf("t%d", i), img, ociImage); r.status != 201 {
			t.Fatal(r.status)
		}
	}
	// A repository only a blob went to (a push that stopped short) is
	// not listed; one with a manifest is.
	e.pushBlob("alice/blobonly", []byte("x"))
	if r := e.putManifest("alice/other", "v1", e.image("alice/other", "o"), ociImage); r.status != 201 {
		t.Fatal(r.status)
	}
	type list struct {
		Name         string
		Tags         []string
		Repositories []string
	}
	tests := []struct {
		name, path string
		status     int
		want       []string
		link       string
	}{
		{"all tags", "/v2/alice/paged/tags/list", 200, []string{"t0", "t1", "t2", "t3", "t4"}, ""},
		{"first page", "/v2/alice/paged/tags/list?n=2", 200, []string{"t0", "t1"}, `</v2/alice/paged/tags/list?last=t1&n=2>; rel="next"`},
		{"after last", "/v2/alice/paged/tags/list?n=2&last=t1", 200, []string{"t2", "t3"}, `</v2/alice/paged/tags/list?last=t3&n=2>; rel="next"`},
		{"last page", "/v2/alice/paged/tags/list?n=2&last=t3", 200, []string{"t4"}, ""},
		{"n=0", "/v2/alice/paged/tags/list?n=0", 200, []string{}, ""},
		{"huge n is clamped", "/v2/alice/paged/tags/list?n=1000000000", 200, []string{"t0", "t1", "t2", "t3", "t4"}, ""},
		{"negative n", "/v2/alice/paged/tags/list?n=-1", 400, nil, ""},
		{"non-numeric n", "/v2/alice/paged/tags/list?n=abc", 400, nil, ""},
		{"unknown repository", "/v2/alice/nothing/tags/list", 404, nil, ""},
		{"catalog", "/v2/_catalog", 200, []string{"alice/other", "alice/paged"}, ""},
		{"catalog page", "/v2/_catalog?n=1", 200, []string{"alice/other"}, `</v2/_catalog?last=alice%2Fother&n=1>; rel="next"`},
		{"catalog huge n", "/v2/_catalog?n=99999999999999999999", 400, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(as("GET", tc.path, nil))
			if r.status != tc.status {
				t.Fatalf("status %d (%s)", r.status, r.body)
			}
			if r.header.Get("Link") != tc.link {
				t.Fatalf("Link %q, want %q", r.header.Get("Link"), tc.link)
			}
			if tc.want == nil {
				return
			}
			var l list
			_ = json.Unmarshal(r.body, &l)
			got := l.Tags
			if strings.Contains(tc.path, "_catalog") {
				got = l.Repositories
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") || got == nil {
				t.Fatalf("got %v, want %v (%s)", got, tc.want, r.body)
			}
		})
	}
}

// Paths that spell a repository name oddly are refused before any
// authorization or storage path is built from them.
func TestPathsAndNames(t *testing.T) {
	e := newEnv(t)
	e.pushBlob("alice/real", []byte("x"))
	long := strings.Repeat("a", 251) + "/bcd" // 255 characters
	tests := []struct {
		name, path string
		status     int
		code       string
	}{
		{"anonymous ping asks to log in", "/v2/", 401, "UNAUTHORIZED"},
		{"ping without slash", "/v2", 401, "UNAUTHORIZED"},
		{"255-character name", "/v2/" + long + "/tags/list", 401, "UNAUTHORIZED"},
		{"256-character name", "/v2/" + long + "e/tags/list", 400, "NAME_INVALID"},
		{"uppercase name", "/v2/Alice/real/tags/list", 400, "NAME_INVALID"},
		{"NUL in name", "/v2/alice/re%00al/tags/list", 400, "NAME_INVALID"},
		{"dot-dot in name", "/v2/alice/%2e%2e/real/tags/list", 400, "NAME_INVALID"},
		{"double slash in name", "/v2/alice//real/tags/list", 400, "NAME_INVALID"},
		{"catalog with trailing slash", "/v2/_catalog/", 404, "NOT_FOUND"},
		{"double slash before v2", "//v2/", 404, ""},
		{"unknown resource", "/v2/alice/real/whatever/x", 404, "NOT_FOUND"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(req{method: "GET", path: tc.path})
			if r.status != tc.status || r.code() != tc.code {
				t.Fatalf("got %d %q (%s), want %d %q", r.status, r.code(), r.body, tc.status, tc.code)
			}
		})
	}
	// Writes through odd paths are refused as well, never reaching a handler.
	for _, p := range []string{"/v2/alice/%2e%2e/x/blobs/uploads/", "//v2/alice/x/blobs/uploads/", "/v2/alice/x%00/blobs/uploads/"} {
		if r := e.do(req{method: "POST", path: p}); r.status == 202 || r.status == 201 {
			t.Errorf("POST %s accepted: %d", p, r.status)
		}
	}
	if r := e.do(req{method: "PUT", path: "/v2/"}); r.status != 405 || r.code() != "UNSUPPORTED" {
		t.Errorf("PUT /v2/: %d %s", r.status, r.body)
	}
}
