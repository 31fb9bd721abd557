package migrations

// Version 11: what a namespace owns references the namespace's row and
// goes with it. A namespace's webhooks were found by the namespace's name,
// so a deleted account's webhooks passed to the next owner of the name;
// they now hang off namespace_owner, a foreign key that cascades. (The old
// namespace column cannot take a foreign key in SQLite and is left unused.)
// Webhooks orphaned by earlier deletions are purged here.
func init() {
	register(Migration{Version: 11, Name: "namespace_ownership", SQL: []string{
		`DELETE FROM webhooks WHERE repository_id IS NULL
			AND (namespace = '' OR namespace NOT IN (SELECT name FROM namespaces))`,
		`ALTER TABLE webhooks ADD COLUMN namespace_owner TEXT REFERENCES namespaces(name) ON DELETE CASCADE`,
		`UPDATE webhooks SET namespace_owner = namespace WHERE repository_id IS NULL`,
		`UPDATE webhooks SET namespace = ''`,
		`DROP INDEX idx_webhooks_namespace`,
		`CREATE INDEX idx_webhooks_namespace_owner ON webhooks (namespace_owner)`,
	}})
}
