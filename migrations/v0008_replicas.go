package migrations

// Version 8: what replicas share through the database: the secrets that
// sign tokens and cookies, the log of changes each replica's search index
// follows, and failed logins, so the login throttle counts across replicas.
func init() {
	register(Migration{Version: 8, Name: "replicas", SQL: []string{
		`CREATE TABLE site_secrets (
			name TEXT PRIMARY KEY,
			value {{bytes}} NOT NULL,
			created_at {{time}} NOT NULL)`,
		`CREATE TABLE change_log (
			id {{id}},
			kind TEXT NOT NULL,
			repository TEXT NOT NULL DEFAULT '',
			namespace TEXT NOT NULL DEFAULT '',
			detail TEXT NOT NULL DEFAULT '',
			created_at {{time}} NOT NULL)`,
		`CREATE INDEX idx_change_log_created ON change_log (created_at)`,
		`CREATE TABLE login_failures (
			id {{id}},
			throttle_key TEXT NOT NULL,
			failed_at {{time}} NOT NULL)`,
		`CREATE INDEX idx_login_failures_key ON login_failures (throttle_key, failed_at)`,
	}})
}
