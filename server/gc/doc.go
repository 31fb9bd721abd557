// Package gc is garbage collection for the blob store: it deletes blobs no
// manifest references and, as an opt-in policy, untagged manifests, safely
// while pushes go on, from any replica, through the protocol in models/gc.go.
package gc
