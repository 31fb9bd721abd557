package migrations

// Version 24: immutable tags. A rule protects the tags that match its
// pattern (path.Match syntax, such as v* or release-*) in a repository,
// or in every repository of a namespace, and goes with its owner: a push
// may not move such a tag once it exists, and nothing may delete it.
func init() {
	register(Migration{Version: 24, Name: "immutable_tags", SQL: []string{
		`CREATE TABLE immutable_rules (
			id {{id}},
			repository_id BIGINT REFERENCES repositories(id) ON DELETE CASCADE,
			namespace_owner TEXT REFERENCES namespaces(name) ON DELETE CASCADE,
			pattern TEXT NOT NULL,
			created_by TEXT NOT NULL DEFAULT '',
			created_at {{time}} NOT NULL)`,
		`CREATE INDEX idx_immutable_rules_repository ON immutable_rules (repository_id)`,
		`CREATE INDEX idx_immutable_rules_namespace ON immutable_rules (namespace_owner)`,
	}})
}
