package migrations

// Version 29: password reset links. A link is single-use and short-lived;
// only a hash of its secret is stored. It goes with its account.
func init() {
	register(Migration{Version: 29, Name: "password_resets", SQL: []string{
		`CREATE TABLE password_resets (
			id {{id}},
			user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
			token_hash TEXT NOT NULL UNIQUE,
			created_by TEXT NOT NULL DEFAULT '',
			created_at {{time}} NOT NULL,
			expires_at {{time}} NOT NULL)`,
		`CREATE INDEX idx_password_resets_user ON password_resets (user_id)`,
	}})
}
