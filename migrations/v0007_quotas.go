package migrations

// Version 7: an optional storage quota per namespace (0: none).
func init() {
	register(Migration{Version: 7, Name: "quotas", SQL: []string{
		`ALTER TABLE namespaces ADD COLUMN quota_bytes BIGINT NOT NULL DEFAULT 0`,
	}})
}
