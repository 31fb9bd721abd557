package migrations

// Version 28: the audit log, an append-only record of security-relevant
// actions: who (an account, a token's owner, a robot or the system),
// what, on which target, with what result, from which address and when.
// Entries name their namespace and repository as text, not as keys: the
// record of a deletion outlives what it deleted. Nothing updates a row;
// the only deletion is the retention sweep of entries past the kept
// period.
func init() {
	register(Migration{Version: 28, Name: "audit_log", SQL: []string{
		`CREATE TABLE audit_entries (
			id {{id}},
			at {{time}} NOT NULL,
			actor TEXT NOT NULL DEFAULT '',
			actor_kind TEXT NOT NULL,
			action TEXT NOT NULL,
			target TEXT NOT NULL DEFAULT '',
			namespace TEXT NOT NULL DEFAULT '',
			repository TEXT NOT NULL DEFAULT '',
			result TEXT NOT NULL,
			address TEXT NOT NULL DEFAULT '',
			detail TEXT NOT NULL DEFAULT '')`,
		`CREATE INDEX idx_audit_entries_at ON audit_entries (at)`,
		`CREATE INDEX idx_audit_entries_namespace ON audit_entries (namespace, id)`,
		`CREATE INDEX idx_audit_entries_repository ON audit_entries (repository, id)`,
		`CREATE INDEX idx_audit_entries_actor ON audit_entries (actor, id)`,
	}})
}
