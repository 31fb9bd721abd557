// Package servertest serves a wired server.App in tests: its handler, and
// its background workers until the test ends, stopped before the App is
// closed.
package servertest
