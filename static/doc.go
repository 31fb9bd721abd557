// Package static holds the hub's stylesheet, script and logo, embedded in
// the binary so the UI works offline. FS holds them and package web serves
// it under /static/.
package static
