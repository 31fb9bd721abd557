// Package markdown turns user-written Markdown (READMEs, descriptions,
// comments) into HTML that is safe to put in a page: goldmark renders it
// without raw HTML, and bluemonday keeps only an allowlist of the result.
package markdown
