package migrations

// Version 2: organizations, a namespace table that keeps user and
// organization names unique together, repository visibility and hub
// fields, collaborators, personal access tokens, and what the tags API
// shows about a manifest.
func init() {
	register(Migration{Version: 2, Name: "accounts", SQL: []string{
		`ALTER TABLE users ADD COLUMN disabled {{bool}} NOT NULL DEFAULT FALSE`,
		`CREATE TABLE namespaces (
			name TEXT PRIMARY KEY,
			kind TEXT NOT NULL,
			created_at {{time}} NOT NULL)`,
		`INSERT INTO namespaces (name, kind, created_at) SELECT username, 'user', created_at FROM users`,
		`CREATE TABLE organizations (
			id {{id}},
			name TEXT NOT NULL UNIQUE REFERENCES namespaces(name),
			description TEXT NOT NULL DEFAULT '',
			member_permission TEXT NOT NULL DEFAULT 'read',
			created_at {{time}} NOT NULL,
			updated_at {{time}} NOT NULL)`,
		`CREATE TABLE org_members (
			org_id BIGINT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
			user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
			role TEXT NOT NULL,
			created_at {{time}} NOT NULL,
			PRIMARY KEY (org_id, user_id))`,
		`CREATE INDEX idx_org_members_user ON org_members (user_id)`,
		`ALTER TABLE repositories ADD COLUMN visibility TEXT NOT NULL DEFAULT 'public'`,
		`ALTER TABLE repositories ADD COLUMN description TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE repositories ADD COLUMN readme TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE repositories ADD COLUMN star_count BIGINT NOT NULL DEFAULT 0`,
		`ALTER TABLE repositories ADD COLUMN pull_count BIGINT NOT NULL DEFAULT 0`,
		`CREATE TABLE collaborators (
			repository_id BIGINT NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
			user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
			permission TEXT NOT NULL,
			created_at {{time}} NOT NULL,
			PRIMARY KEY (repository_id, user_id))`,
		`CREATE INDEX idx_collaborators_user ON collaborators (user_id)`,
		`CREATE TABLE access_tokens (
			id {{id}},
			user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
			name TEXT NOT NULL,
			token_hash TEXT NOT NULL UNIQUE,
			scopes TEXT NOT NULL,
			repositories TEXT NOT NULL DEFAULT '',
			expires_at {{time}},
			last_used_at {{time}},
			created_at {{time}} NOT NULL)`,
		`CREATE INDEX idx_access_tokens_user ON access_tokens (user_id)`,
		`ALTER TABLE tags ADD COLUMN pusher TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE manifests ADD COLUMN content_size BIGINT NOT NULL DEFAULT 0`,
		`ALTER TABLE manifests ADD COLUMN platforms TEXT NOT NULL DEFAULT ''`,
	}})
}
