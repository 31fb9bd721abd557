package migrations

// Version 13: what a quota counts while bytes arrive, before any commit.
// uploads.namespace lets the bytes of a namespace's open sessions be added
// up; upload_reservations holds the bytes a request streaming into an
// upload has been allowed to receive under its namespace's quota, until it
// records them (or, should its replica die, until expires_at). The index on
// uploads.user_id serves the cap on open sessions per account.
func init() {
	register(Migration{Version: 13, Name: "upload_accounting", SQL: []string{
		`ALTER TABLE uploads ADD COLUMN namespace TEXT NOT NULL DEFAULT ''`,
		// A namespace name holds no '/', so at most one matches.
		`UPDATE uploads SET namespace = COALESCE((SELECT n.name FROM namespaces n
			WHERE substr(uploads.repository, 1, length(n.name) + 1) = n.name || '/'), '')`,
		`CREATE INDEX idx_uploads_namespace ON uploads (namespace)`,
		`CREATE INDEX idx_uploads_user ON uploads (user_id)`,
		`CREATE TABLE upload_reservations (
			id TEXT PRIMARY KEY,
			namespace TEXT NOT NULL,
			bytes BIGINT NOT NULL,
			expires_at {{time}} NOT NULL)`,
		`CREATE INDEX idx_upload_reservations_namespace ON upload_reservations (namespace, expires_at)`,
	}})
}
