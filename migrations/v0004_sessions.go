package migrations

// Version 4: web sessions, kept on the server so that logging out ends a
// session for good (a replayed cookie finds nothing).
func init() {
	register(Migration{Version: 4, Name: "sessions", SQL: []string{
		`CREATE TABLE sessions (
			id_hash TEXT PRIMARY KEY,
			user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
			csrf_token TEXT NOT NULL,
			created_at {{time}} NOT NULL,
			expires_at {{time}} NOT NULL)`,
		`CREATE INDEX idx_sessions_user ON sessions (user_id)`,
		`CREATE INDEX idx_sessions_expires ON sessions (expires_at)`,
	}})
}
