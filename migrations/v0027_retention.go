package migrations

// Version 27: retention. A policy of a repository, or of every repository
// of a namespace (the repository's own wins), says which tags to keep
// (rules, a JSON list) and after how many days an untagged manifest goes
// (0: never). A run, one row per repository evaluated, reports what it
// removed and the bytes that garbage collection can reclaim. Manifests
// learn when they were last pulled, for the rules that keep what is
// pulled.
func init() {
	register(Migration{Version: 27, Name: "retention", SQL: []string{
		`CREATE TABLE retention_policies (
			id {{id}},
			repository_id BIGINT UNIQUE REFERENCES repositories(id) ON DELETE CASCADE,
			namespace_owner TEXT UNIQUE REFERENCES namespaces(name) ON DELETE CASCADE,
			rules TEXT NOT NULL,
			untagged_days INTEGER NOT NULL DEFAULT 0,
			updated_by TEXT NOT NULL DEFAULT '',
			updated_at {{time}} NOT NULL)`,
		`CREATE TABLE retention_runs (
			id {{id}},
			repository_id BIGINT NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
			namespace TEXT NOT NULL,
			repository TEXT NOT NULL,
			policy TEXT NOT NULL,
			cause TEXT NOT NULL,
			actor TEXT NOT NULL DEFAULT '',
			started_at {{time}} NOT NULL,
			finished_at {{time}} NOT NULL,
			status TEXT NOT NULL,
			error TEXT NOT NULL DEFAULT '',
			tag_count INTEGER NOT NULL DEFAULT 0,
			manifest_count INTEGER NOT NULL DEFAULT 0,
			bytes BIGINT NOT NULL DEFAULT 0,
			tags TEXT NOT NULL DEFAULT '[]',
			manifests TEXT NOT NULL DEFAULT '[]')`,
		`CREATE INDEX idx_retention_runs_repository ON retention_runs (repository_id, id)`,
		`CREATE INDEX idx_retention_runs_namespace ON retention_runs (namespace, id)`,
		`ALTER TABLE manifests ADD COLUMN pulled_at {{time}}`,
	}})
}
