package migrations

// Version 3: stars and comments on repositories. repositories.star_count
// (version 2) is kept equal to the number of star rows by the store, in
// the transaction that adds or removes the row.
func init() {
	register(Migration{Version: 3, Name: "social", SQL: []string{
		`CREATE TABLE stars (
			user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
			repository_id BIGINT NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
			created_at {{time}} NOT NULL,
			PRIMARY KEY (user_id, repository_id))`,
		`CREATE INDEX idx_stars_repository ON stars (repository_id)`,
		`CREATE TABLE comments (
			id {{id}},
			repository_id BIGINT NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
			user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
			body TEXT NOT NULL,
			created_at {{time}} NOT NULL,
			updated_at {{time}} NOT NULL)`,
		`CREATE INDEX idx_comments_repository ON comments (repository_id, id)`,
		`CREATE INDEX idx_comments_user ON comments (user_id)`,
	}})
}
