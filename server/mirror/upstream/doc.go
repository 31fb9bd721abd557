// Package upstream is the client a pull-through cache uses to talk to one
// upstream OCI or Docker registry (Docker Hub, a CNCF Distribution,
// another Wharf): it fetches manifests, verifying their digest, and
// streams blobs, leaving the blob digest for the caller to verify.
//
// Authentication is done once per scope, not per pull: a 401 with a Bearer
// challenge fetches a token from the challenge's realm (anonymously, or
// with the configured credentials sent as Basic), caches it per scope
// until shortly before it expires and retries the request once; later
// requests for the same repository send the cached token up front.
// Concurrent requests needing the same token share one token request. A
// Basic challenge is answered with the credentials, which the client then
// sends up front.
//
// A 429 or 503 sets a backoff deadline from its Retry-After (DefaultBackoff
// without one); until it passes every call fails with ErrBackoff without
// sending anything.
//
// Errors name the method and URL of the request (never a password or a
// token), so that they read well in logs.
package upstream
