// Package content is the registry's content service: blob uploads, blob
// reads, manifests, tags and referrers. The /v2/ handlers, the hub API and
// the web UI all go through it; it calls the metadata store and the blob
// store and knows nothing of HTTP.
package content
