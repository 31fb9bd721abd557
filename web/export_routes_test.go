package web

// The /r/ router, for the route tests.
var (
	RepoURL   = repoURL
	SplitRepo = splitRepo
)
