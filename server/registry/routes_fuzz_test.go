package registry

import (
	"strings"
	"testing"

	"github.com/wharfhub/wharf/server/content"
)

// routePath rebuilds the path after "/v2/" that addresses rt.
func routePath(rt route) string {
	switch rt.kind {
	case routeBase:
		return ""
	case routeCatalog:
		return "_catalog"
	case routeTags:
		return rt.name + "/tags/list"
	case routeUploads:
		return rt.name + "/blobs/uploads/"
	case routeUpload:
		return rt.name + "/blobs/uploads/" + rt.arg
	case routeManifest:
		return rt.name + "/manifests/" + rt.arg
	case routeBlob:
		return rt.name + "/blobs/" + rt.arg
	case routeReferrers:
		return rt.name + "/referrers/" + rt.arg
	}
	return "\x00unknown route kind"
}

const routeTestDigest = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

var routeSeeds = []string{
	"",
	"_catalog",
	"_catalog/",
	"/",
	"//",
	"a/tags/list",
	"a/b/c/tags/list",
	"tags/list",
	"/tags/list",
	"a/tags/list/",
	"a/manifests/latest",
	"a/manifests/",
	"a/manifests",
	"/manifests/x",
	"manifests/x",
	"a/blobs/" + routeTestDigest,
	"a/blobs/b/blobs/" + routeTestDigest,
	"a/manifests/b/manifests/latest",
	"a/blobs/uploads/",
	"a/blobs/uploads",
	"a/blobs/uploads/0f8d8e52-8d7d-4e6c-9a55-3bb1d0e3c1a2",
	"a/blobs/uploads/x/y",
	"blobs/blobs/uploads/",
	"blobs/uploads/blobs/uploads/x",
	"a/uploads/x",
	"a/referrers/" + routeTestDigest,
	"a/../b/tags/list",
	"../tags/list",
	"a/./b/manifests/x",
	"a//b/manifests/x",
	"A/manifests/x",
	"a/unknown/x",
	"_catalog/tags/list",
	"a\x00b/tags/list",
	strings.Repeat("a", 255) + "/manifests/x",
	strings.Repeat("a", 256) + "/manifests/x",
	strings.Repeat("a/", 127) + "a/blobs/uploads/",
}

func FuzzParseRoute(f *testing.F) {
	for _, s := range routeSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		rt, ok := parseRoute(p)
		if !ok {
			// A path that names a resource but an invalid repository says
			// which, so the handler can answer NAME_INVALID; the name must
			// then really be invalid.
			if rt.kind != routeNone && content.ValidName(rt.name) {
				t.Fatalf("parseRoute(%q) refused valid name %q (kind %d)", p, rt.name, rt.kind)
			}
			if rt.kind == routeBase || rt.kind == routeCatalog {
				t.Fatalf("parseRoute(%q) refused with kind %d", p, rt.kind)
			}
			return
		}
		switch rt.kind {
		case routeNone:
			t.Fatalf("parseRoute(%q) accepted with no kind", p)
		case routeBase, routeCatalog:
			if rt.name != "" || rt.arg != "" {
				t.Fatalf("parseRoute(%q) = %+v: name or arg on a nameless route", p, rt)
			}
		default:
			if !content.ValidName(rt.name) {
				t.Fatalf("parseRoute(%q) accepted invalid name %q", p, rt.name)
			}
		}
		switch rt.kind {
		case routeManifest, routeBlob, routeReferrers, routeUpload:
			if rt.arg == "" || strings.Contains(rt.arg, "/") {
				t.Fatalf("parseRoute(%q) = %+v: argument must be one non-empty segment", p, rt)
			}
		case routeTags, routeUploads:
			if rt.arg != "" {
				t.Fatalf("parseRoute(%q) = %+v: argument on a route that takes none", p, rt)
			}
		}
		if back := routePath(rt); back != p {
			t.Fatalf("parseRoute(%q) = %+v, which rebuilds to %q", p, rt, back)
		}
		// Parsing is a function of the path: the rebuilt path parses the same.
		if rt2, ok2 := parseRoute(routePath(rt)); !ok2 || rt2 != rt {
			t.Fatalf("parseRoute(%q) = %+v, but its rebuilt path parses to %+v, %v", p, rt, rt2, ok2)
		}
	})
}

func TestParseRoute(t *testing.T) {
	name255 := strings.Repeat("a/", 127) + "a" // 255 bytes, 128 components
	name256 := strings.Repeat("a/", 127) + "ab"
	long255 := strings.Repeat("x", 255)
	long256 := strings.Repeat("x", 256)
	if len(name255) != 255 || len(name256) != 256 {
		t.Fatal("test bug: name lengths")
	}
	const upID = "0f8d8e52-8d7d-4e6c-9a55-3bb1d0e3c1a2"
	tests := []struct {
		path string
		want route
		ok   bool
	}{
		// Each route kind.
		{"", route{kind: routeBase}, true},
		{"_catalog", route{kind: routeCatalog}, true},
		{"alice/app/tags/list", route{routeTags, "alice/app", ""}, true},
		{"alice/app/manifests/latest", route{routeManifest, "alice/app", "latest"}, true},
		{"alice/app/manifests/" + routeTestDigest, route{routeManifest, "alice/app", routeTestDigest}, true},
		{"alice/app/blobs/" + routeTestDigest, route{routeBlob, "alice/app", routeTestDigest}, true},
		{"alice/app/blobs/uploads/", route{routeUploads, "alice/app", ""}, true},
		{"alice/app/blobs/uploads/" + upID, route{routeUpload, "alice/app", upID}, true},
		{"alice/app/referrers/" + routeTestDigest, route{routeReferrers, "alice/app", routeTestDigest}, true},

		// Single-component and many-component names.
		{"a/tags/list", route{routeTags, "a", ""}, true},
		{"a/b/c/d/e/manifests/v1", route{routeManifest, "a/b/c/d/e", "v1"}, true},
		{"a.b-c/d__e/f/blobs/uploads/", route{routeUploads, "a.b-c/d__e/f", ""}, true},

		// Names whose components are resource words: the resource is found
		// from the end.
		{"a/blobs/b/blobs/" + routeTestDigest, route{routeBlob, "a/blobs/b", routeTestDigest}, true},
		{"a/manifests/b/manifests/latest", route{routeManifest, "a/manifests/b", "latest"}, true},
		{"blobs/manifests/latest", route{routeManifest, "blobs", "latest"}, true},
		{"manifests/blobs/" + routeTestDigest, route{routeBlob, "manifests", routeTestDigest}, true},
		{"blobs/blobs/uploads/", route{routeUploads, "blobs", ""}, true},
		{"blobs/uploads/blobs/uploads/" + upID, route{routeUpload, "blobs/uploads", upID}, true},
		{"a/blobs/uploads/blobs/" + routeTestDigest, route{routeBlob, "a/blobs/uploads", routeTestDigest}, true},
		{"tags/list/tags/list", route{routeTags, "tags/list", ""}, true},
		{"a/tags/manifests/list", route{routeManifest, "a/tags", "list"}, true},
		{"referrers/referrers/x", route{routeReferrers, "referrers", "x"}, true},
		// Without the trailing slash "uploads" is just a blob argument; the
		// blob handler rejects it as a digest.
		{"a/blobs/uploads", route{routeBlob, "a", "uploads"}, true},

		// Paths that decoded "%2e%2e", "%2f" and friends reach the router
		// as plain dots and slashes: the name grammar refuses them.
		{"a/../b/tags/list", route{kind: routeTags, name: "a/../b"}, false},
		{"../tags/list", route{kind: routeTags, name: ".."}, false},
		{"a/./b/manifests/x", route{kind: routeManifest, name: "a/./b"}, false},
		{"a/../../blobs/" + routeTestDigest, route{kind: routeBlob, name: "a/../.."}, false},
		{"../../etc/blobs/uploads/", route{kind: routeUploads, name: "../../etc"}, false},
		{"..%2f/manifests/x", route{kind: routeManifest, name: "..%2f"}, false},

		// Empty segments and stray slashes.
		{"_catalog/", route{}, false},
		{"/_catalog", route{}, false},
		{"/", route{}, false},
		{"//", route{}, false},
		{"a//b/manifests/x", route{kind: routeManifest, name: "a//b"}, false},
		{"/a/manifests/x", route{kind: routeManifest, name: "/a"}, false},
		{"a//manifests/x", route{kind: routeManifest, name: "a/"}, false},
		{"/manifests/x", route{kind: routeManifest, name: ""}, false},
		{"/tags/list", route{kind: routeTags, name: ""}, false},
		{"/blobs/uploads/", route{kind: routeUploads, name: ""}, false},
		{"a/manifests/", route{}, false},
		{"a/manifests//", route{}, false},
		{"a/blobs/uploads//", route{}, false},
		{"a/tags/list/", route{}, false},
		{"a/tags//list", route{}, false},

		// Not a resource at all.
		{"a/manifests", route{}, false},
		{"manifests/x", route{}, false},
		{"tags/list", route{}, false},
		{"a", route{}, false},
		{"a/unknown/x", route{}, false},
		{"a/blobs/uploads/x/y", route{}, false},
		{"a/uploads/x", route{}, false},
		{"a/tags/lists", route{}, false},

		// Invalid names that name a resource.
		{"Alice/app/tags/list", route{kind: routeTags, name: "Alice/app"}, false},
		{"_catalog/tags/list", route{kind: routeTags, name: "_catalog"}, false},
		{"a-/manifests/x", route{kind: routeManifest, name: "a-"}, false},
		{"a b/manifests/x", route{kind: routeManifest, name: "a b"}, false},
		{"a\x00b/manifests/x", route{kind: routeManifest, name: "a\x00b"}, false},
		{"localhost:5000/a/manifests/x", route{kind: routeManifest, name: "localhost:5000/a"}, false},

		// The 255-byte cap on names.
		{name255 + "/tags/list", route{routeTags, name255, ""}, true},
		{name256 + "/tags/list", route{kind: routeTags, name: name256}, false},
		{long255 + "/manifests/latest", route{routeManifest, long255, "latest"}, true},
		{long256 + "/manifests/latest", route{kind: routeManifest, name: long256}, false},
		{long255 + "/blobs/uploads/" + upID, route{routeUpload, long255, upID}, true},
		{long256 + "/blobs/uploads/" + upID, route{kind: routeUpload, name: long256}, false},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			got, ok := parseRoute(tc.path)
			if ok != tc.ok || got != tc.want {
				t.Fatalf("parseRoute(%q) = %+v, %v; want %+v, %v", tc.path, got, ok, tc.want, tc.ok)
			}
		})
	}
}
