// Package web serves the hub's server-rendered pages: sessions, CSRF
// protection, and one handler file per area. It calls the same hub and
// account services as the JSON API.
package web
