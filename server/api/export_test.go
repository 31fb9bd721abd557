package api

import "reflect"

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
