package migrations

// Version 10: turns that replicas take for periodic work, so that one
// replica, not each, runs the online garbage collection in an interval.
func init() {
	register(Migration{Version: 10, Name: "turns", SQL: []string{
		`CREATE TABLE turns (
			name TEXT PRIMARY KEY,
			holder TEXT NOT NULL,
			until_at {{time}} NOT NULL)`,
	}})
}
