// Package content is the registry's content service: blob uploads, blob
// reads, manifests, tags and referrers. The /v2/ handlers, the hub API and
// the web UI all go through it; it calls the metadata store and the blob
// store and knows nothing of HTTP.
//
// Service is four small services over one shared base (the database, the
// blob store, the per-upload locks and the options): Blobs (stat, read,
// redirect, mount, delete), Manifests (put with every reference checked,
// get, delete, tags, referrers), Uploads (sessions from start to a commit
// that hashes while it writes, checks the quota as bytes arrive, and
// verifies the digest before anything points at the blob) and Pulls
// (pull counts, written in batches by a worker that drains on shutdown).
package content
