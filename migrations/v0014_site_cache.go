package migrations

// Version 14: site_cache holds what every replica must share and may
// rewrite, by name: the ACME account key and certificates when
// --acme-cache is "database".
func init() {
	register(Migration{Version: 14, Name: "site_cache", SQL: []string{
		`CREATE TABLE site_cache (
			name TEXT PRIMARY KEY,
			value {{bytes}} NOT NULL,
			updated_at {{time}} NOT NULL)`,
	}})
}
