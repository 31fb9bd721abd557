// Package search will hold the repository search index (Bleve) behind an
// interface; it is empty until full-text search is built.
package search
