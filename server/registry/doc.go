// Package registry serves the OCI distribution API at /v2/: one file per
// resource, every error rendered as OCI error JSON by errcode.
package registry
