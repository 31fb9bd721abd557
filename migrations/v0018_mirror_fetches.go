package migrations

// Version 18: mirror_fetches holds which replica is fetching a blob from
// a mirror's upstream, until when: the others wait for it rather than
// fetch the blob again.
func init() {
	register(Migration{Version: 18, Name: "mirror_fetches", SQL: []string{
		`CREATE TABLE mirror_fetches (
			key TEXT PRIMARY KEY,
			holder TEXT NOT NULL,
			expires_at {{time}} NOT NULL)`,
	}})
}
