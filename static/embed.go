package static

import "embed"

// FS is every static file.
//
//go:embed *.css *.js *.svg
var FS embed.FS
