// Package migrations evolves the database schema, one file per version
// (v0001_registry.go, v0002_accounts.go...), each registering its Migration
// from init. Each version is plain SQL written once for both SQLite and
// PostgreSQL through a few dialect placeholders ({{id}}, {{bytes}},
// {{time}}, {{bool}}, {{payload_text}}), and runs in its own transaction.
//
// Run applies, in order, the versions the schema_migrations table does not
// list yet, and refuses a database newer than the binary. A version that
// has run is never run again, so a schema change is always a new file;
// RunTo stops at an older version, for tests that migrate a database as an
// older Wharf left it.
package migrations
