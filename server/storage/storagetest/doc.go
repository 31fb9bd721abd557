// Package storagetest is a conformance suite for storage.Driver
// implementations, in the manner of Distribution's driver testsuites: a
// driver package calls Run from one of its tests with a constructor, and
// every behaviour the registry relies on is checked against real data.
package storagetest
