// Package testutil holds what several packages' tests share: the choice of
// database (SQLite by default, PostgreSQL when WHARF_TEST_DATABASE is set).
//
// Database gives each caller a fresh PostgreSQL schema of its own, or ""
// for SQLite; OpenDB opens and migrates one, closed when the test ends.
// Storage points a config at a fresh prefix of a MinIO bucket when
// WHARF_TEST_S3_ENDPOINT is set, and otherwise leaves the filesystem store.
// RaceSlowdown lets tests that bound a duration allow for the race
// detector.
package testutil
