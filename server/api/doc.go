// Package api serves the hub's JSON API at /api/v1: the same hub and
// account services as the web UI, with JSON in and out.
//
// routes.go is the route table, the one place that says what each
// endpoint needs: its scope, its body limit and its body's type. Register
// builds every route's chain from it (bound the body, authenticate, check
// the scope, decode, handle). Repository routes are matched by
// server/repopath, so every valid name reaches its routes (`/-/` ends a
// name that needs it). The handlers are one small type per area (users
// and tokens, organizations and namespaces, repositories, stars and
// comments, webhooks, search), each given only the services it uses, and
// every error is written through server/apierr's one mapping.
package api
