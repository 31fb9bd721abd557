package migrations

// Version 17: mirrors defined through the API (site admins), beside those
// of the flags. The password is sealed (AES-GCM) with a site secret; the
// row goes with its namespace.
func init() {
	register(Migration{Version: 17, Name: "mirrors", SQL: []string{
		`CREATE TABLE mirrors (
			name TEXT PRIMARY KEY REFERENCES namespaces(name) ON DELETE CASCADE,
			url TEXT NOT NULL,
			username TEXT NOT NULL DEFAULT '',
			sealed_password {{bytes}},
			created_at {{time}} NOT NULL)`,
	}})
}
