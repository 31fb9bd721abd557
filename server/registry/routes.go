package registry

import (
	"strings"

	"github.com/wharfhub/wharf/server/content"
)

// routeKind names the resource a /v2/ path addresses.
type routeKind int

const (
	routeNone routeKind = iota
	routeBase
	routeCatalog
	routeTags
	routeManifest
	routeBlob
	routeUploads // .../blobs/uploads/ (start an upload)
	routeUpload  // .../blobs/uploads/<id>
	routeReferrers
)

// route is a parsed /v2/ path.
type route struct {
	kind routeKind
	name string // repository name
	arg  string // reference, digest or upload id
}

// parseRoute parses the part of the path after "/v2/". Repository names
// contain slashes, so the resource is found from the end of the path and
// the rest must be a valid name by the reference grammar.
func parseRoute(p string) (route, bool) {
	switch p {
	case "":
		return route{kind: routeBase}, true
	case "_catalog":
		return route{kind: routeCatalog}, true
	}
	if name, ok := strings.CutSuffix(p, "/tags/list"); ok {
		return named(routeTags, name, "")
	}
	if name, ok := strings.CutSuffix(p, "/blobs/uploads/"); ok {
		return named(routeUploads, name, "")
	}
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return route{}, false
	}
	rest, last := p[:i], p[i+1:]
	if last == "" {
		return route{}, false
	}
	j := strings.LastIndexByte(rest, '/')
	if j < 0 {
		return route{}, false
	}
	name, kind := rest[:j], rest[j+1:]
	switch kind {
	case "manifests":
		return named(routeManifest, name, last)
	case "blobs":
		return named(routeBlob, name, last)
	case "referrers":
		return named(routeReferrers, name, last)
	case "uploads":
		if n, ok := strings.CutSuffix(name, "/blobs"); ok {
			return named(routeUpload, n, last)
		}
	}
	return route{}, false
}

func named(kind routeKind, name, arg string) (route, bool) {
	if !content.ValidName(name) {
		return route{kind: kind, name: name}, false
	}
	return route{kind: kind, name: name, arg: arg}, true
}
