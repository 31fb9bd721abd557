// Package metrics exposes Prometheus metrics: requests by route and
// status, bytes in and out, durations, and gauges of the upload and
// webhook queues read from the database at scrape time.
//
// A Metrics owns a registry, with no package globals, so each server (and
// each test) counts apart. Middleware labels requests by Route, a
// small fixed set of names for the kinds of path, never a repository
// name, so the series stay few. The garbage collection metrics (GC) are
// made on their own, since runs are counted before any /metrics handler
// exists, and added to a Metrics with Register.
package metrics
