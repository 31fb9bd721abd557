package templates

import "embed"

// FS is every template file.
//
//go:embed *.html
var FS embed.FS
