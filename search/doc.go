// Package search is the full-text index of repositories and namespaces,
// behind the Index interface; Bleve is its one implementation. Privacy is
// part of every query: each document lists the principals that may read
// it, and a query names the caller's.
package search
