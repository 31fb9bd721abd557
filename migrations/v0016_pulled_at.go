package migrations

// Version 16: repositories.pulled_at is when a repository was last
// pulled; a mirror's retention (--mirror-retention) evicts what nobody
// pulled for that long.
func init() {
	register(Migration{Version: 16, Name: "pulled_at", SQL: []string{
		`ALTER TABLE repositories ADD COLUMN pulled_at {{time}}`,
	}})
}
