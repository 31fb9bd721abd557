package migrations

// Version 5: indexes for the hub's repository listings (explore, home,
// profiles), which sort by stars, pulls or last update.
func init() {
	register(Migration{Version: 5, Name: "listing indexes", SQL: []string{
		`CREATE INDEX idx_repositories_stars ON repositories (star_count DESC, pull_count DESC, name)`,
		`CREATE INDEX idx_repositories_pulls ON repositories (pull_count DESC, star_count DESC, name)`,
		`CREATE INDEX idx_repositories_updated ON repositories (updated_at DESC, name)`,
		`CREATE INDEX idx_tags_repo_updated ON tags (repository_id, updated_at DESC)`,
	}})
}
