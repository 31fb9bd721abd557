// Package templates holds the hub's HTML templates, embedded in the binary.
// FS is every .html file. Package web parses each page with layout.html,
// the frame every page shares, and partials.html, the fragments several
// pages use; a page defines the "content" the layout shows.
package templates
