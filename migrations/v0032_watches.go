package migrations

// Version 32: watching a repository, to be mailed when a tag of it is
// pushed. A watch goes with its account and its repository.
func init() {
	register(Migration{Version: 32, Name: "watches", SQL: []string{
		`CREATE TABLE watches (
			user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
			repository_id BIGINT NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
			created_at {{time}} NOT NULL,
			PRIMARY KEY (user_id, repository_id))`,
		`CREATE INDEX idx_watches_repository ON watches (repository_id)`,
	}})
}
