// Package models keeps Wharf's metadata in one database that every replica
// shares (SQLite in the data directory, or PostgreSQL). It knows no HTTP;
// ctx comes first.
//
// A DB is the connection with one small store per aggregate over it, each
// with a handful of methods and the shared transaction helper:
//
//   - accounts: Users, Tokens, Sessions (also the login throttle's shared
//     failures), Orgs, Namespaces (owners, usage and quotas);
//   - repositories: Repositories (with collaborators and the facts the
//     authorization policy decides on), Tags, Readmes;
//   - content: Manifests, Blobs (with GC leases), Uploads;
//   - social: Stars, Comments;
//   - webhooks: Webhooks, Deliveries (the durable outbox);
//   - operations: Changes (the change log replicas follow), GC, Site
//     (turns among replicas, secrets).
//
// A store answers ErrNotFound and ErrConflict for a missing or duplicate
// row, whatever the database; rowOf reads single rows without gorm's
// nil-row panic.
package models
