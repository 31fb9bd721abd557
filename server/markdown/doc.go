// Package markdown turns user-written Markdown (READMEs, comments) into
// HTML that is safe to put in a page, in time and space linear in the text:
// a bounded goldmark renders it without raw HTML, bluemonday keeps an allowlist.
package markdown
