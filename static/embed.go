// Package static holds the hub's stylesheet, script and icons, embedded in
// the binary so the UI works offline.
package static

import "embed"

// FS is every static file.
//
//go:embed *.css *.js *.svg
var FS embed.FS
