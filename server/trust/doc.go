// Package trust decides what Wharf trusts of what it holds: it verifies
// the signatures and attestations attached to manifests (cosign's, with
// sigstore's own libraries, against the signing keys a repository or its
// namespace registered), off the request path, from the durable job
// queue; and it answers whether a pull passes the repository's policy.
package trust
