// Package repopath splits a hub or API path into a repository name and
// the resource under it, for the UI and the API alike, and builds such
// paths: a lone "-" segment, which no repository name can contain,
// separates the two, as GitLab's "/-/" does.
package repopath
