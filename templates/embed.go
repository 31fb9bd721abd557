// Package templates holds the hub's HTML templates, embedded in the binary.
package templates

import "embed"

// FS is every template file.
//
//go:embed *.html
var FS embed.FS
