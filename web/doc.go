// Package web serves the hub's server-rendered pages. It calls the same
// hub and account services as the JSON API.
//
// A renderer, shared by every page, holds the templates, the session
// store (sessions, flashes and CSRF tokens) and the error page, which
// shows a service's error by server/apierr's one mapping. The pages are
// one small type per area (account, explore, organizations, repository,
// search, webhooks), each given only the services it uses; Register is
// the one list of the routes. Repository pages are matched by
// server/repopath and linked with the repoURL template function.
package web
