// Package api serves the hub's JSON API at /api/v1: the same hub and
// account services as the web UI, with JSON in and out.
package api
