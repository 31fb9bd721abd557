package api

import (
	"reflect"
	"strings"
)

// RouteRule is a route of the table as the tests see it.
type RouteRule struct {
	Method, Path, Scope string
	Limit               int64
	Body                reflect.Type // nil for a route without a body
}

// Rules lists the route table, paths under /api/v1.
func (a *API) Rules() []RouteRule {
	var out []RouteRule
	for _, r := range a.routes() {
		out = append(out, RouteRule{Method: r.method, Path: "/api/v1" + r.path, Scope: string(r.need), Limit: r.bodyLimit(), Body: r.body})
	}
	return out
}

func (r RouteRule) String() string { return r.Method + " " + r.Path }

// Resolve routes an /api/v1/repositories/... request the way the API
// does, and tells which repository and which table route it reaches.
func (a *API) Resolve(method, path string) (repo, route string, ok bool) {
	var rr repoRoutes
	var paths []string
	for _, rt := range a.routes() {
		if rest, cut := strings.CutPrefix(rt.path, repoPrefix); cut {
			rr.add(rt, rest, nil)
			paths = append(paths, "/api/v1"+rt.path)
		}
	}
	p, cut := strings.CutPrefix(path, "/api/v1/repositories")
	if !cut {
		return "", "", false
	}
	name, rest := rr.split(p)
	if name == "" {
		return "", "", false
	}
	for i, r := range rr.routes {
		if _, ok := r.match(method, rest); ok {
			return name, method + " " + paths[i], true
		}
	}
	return name, "", false
}
