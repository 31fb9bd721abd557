// Package mirror makes namespaces pull-through caches of upstream
// registries (--mirror NAME=URL): NAME/library/alpine is library/alpine
// of the upstream, fetched on first use, stored like a push, and served
// from the store after.
//
// Manifests are filled by tag or digest and verified before they are
// stored; a tag is trusted for the TTL, then checked with a HEAD (which
// Docker Hub does not count against its pull limit) and fetched again only
// if its digest moved. A cached tag is served when the upstream is down,
// slow, answers an error or has deleted it, with a log line and a count,
// never an error to the client. Blobs are fetched once however many ask
// at a time (singleflight), and streamed to the first client while they
// are stored: its last bytes are held back until the digest is verified,
// so a corrupt upstream fails the client's download and stores nothing.
package mirror
