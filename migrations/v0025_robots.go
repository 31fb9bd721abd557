package migrations

// Version 25: robot accounts. A robot belongs to a namespace (a user's
// or an organization's) and goes with it, not with the person who made
// it; it signs in as NAMESPACE+NAME with a secret stored as a hash, and
// may do on each repository of its namespace what its permission there
// says, until it expires.
func init() {
	register(Migration{Version: 25, Name: "robots", SQL: []string{
		`CREATE TABLE robots (
			id {{id}},
			namespace_owner TEXT NOT NULL REFERENCES namespaces(name) ON DELETE CASCADE,
			name TEXT NOT NULL,
			secret_hash TEXT NOT NULL,
			description TEXT NOT NULL DEFAULT '',
			expires_at {{time}},
			last_used_at {{time}},
			created_by TEXT NOT NULL DEFAULT '',
			created_at {{time}} NOT NULL)`,
		`CREATE UNIQUE INDEX idx_robots_name ON robots (namespace_owner, name)`,
		`CREATE UNIQUE INDEX idx_robots_secret ON robots (secret_hash)`,
		`CREATE TABLE robot_permissions (
			robot_id BIGINT NOT NULL REFERENCES robots(id) ON DELETE CASCADE,
			repository_id BIGINT NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
			level TEXT NOT NULL,
			PRIMARY KEY (robot_id, repository_id))`,
		`CREATE INDEX idx_robot_permissions_repository ON robot_permissions (repository_id)`,
	}})
}
