// Package storagetest is a conformance suite for storage.Driver
// implementations, in the manner of Distribution's driver testsuites: a
// driver package calls Run from one of its tests with a constructor, and
// every behaviour the registry relies on is checked against real data.
//
// Each check is a subtest on a fresh driver, grouped by file: blobs (Stat,
// Open and Seek, Delete, SHA-512), appends (chunks, offsets, failing
// readers), commits (truncation, deduplication, concurrent commits),
// uploads (listing, deleting, invalid ids) and the walk of committed
// blobs. Data is pseudo-random from a seed, so a failure repeats.
package storagetest
