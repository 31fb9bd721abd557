package migrations

// Version 1: accounts and the registry's content metadata.
func init() {
	register(Migration{Version: 1, Name: "registry", SQL: []string{
		`CREATE TABLE users (
			id {{id}},
			username TEXT NOT NULL UNIQUE,
			email TEXT NOT NULL,
			password_hash TEXT NOT NULL,
			is_admin {{bool}} NOT NULL DEFAULT FALSE,
			created_at {{time}} NOT NULL,
			updated_at {{time}} NOT NULL)`,
		`CREATE TABLE repositories (
			id {{id}},
			name TEXT NOT NULL UNIQUE,
			namespace TEXT NOT NULL,
			created_at {{time}} NOT NULL,
			updated_at {{time}} NOT NULL)`,
		`CREATE INDEX idx_repositories_namespace ON repositories (namespace)`,
		`CREATE TABLE blobs (
			digest TEXT PRIMARY KEY,
			size BIGINT NOT NULL,
			created_at {{time}} NOT NULL)`,
		`CREATE TABLE repository_blobs (
			repository_id BIGINT NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
			digest TEXT NOT NULL REFERENCES blobs(digest),
			created_at {{time}} NOT NULL,
			PRIMARY KEY (repository_id, digest))`,
		`CREATE INDEX idx_repository_blobs_digest ON repository_blobs (digest)`,
		`CREATE TABLE manifests (
			id {{id}},
			repository_id BIGINT NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
			digest TEXT NOT NULL,
			media_type TEXT NOT NULL,
			size BIGINT NOT NULL,
			artifact_type TEXT NOT NULL DEFAULT '',
			subject_digest TEXT NOT NULL DEFAULT '',
			config_digest TEXT NOT NULL DEFAULT '',
			annotations TEXT NOT NULL DEFAULT '',
			payload {{bytes}} NOT NULL,
			created_at {{time}} NOT NULL,
			UNIQUE (repository_id, digest))`,
		`CREATE INDEX idx_manifests_subject ON manifests (repository_id, subject_digest)`,
		`CREATE TABLE manifest_references (
			manifest_id BIGINT NOT NULL REFERENCES manifests(id) ON DELETE CASCADE,
			digest TEXT NOT NULL,
			kind TEXT NOT NULL,
			PRIMARY KEY (manifest_id, digest))`,
		`CREATE INDEX idx_manifest_references_digest ON manifest_references (digest)`,
		`CREATE TABLE tags (
			id {{id}},
			repository_id BIGINT NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
			name TEXT NOT NULL,
			manifest_id BIGINT NOT NULL REFERENCES manifests(id) ON DELETE CASCADE,
			created_at {{time}} NOT NULL,
			updated_at {{time}} NOT NULL,
			UNIQUE (repository_id, name))`,
		`CREATE INDEX idx_tags_manifest ON tags (manifest_id)`,
		`CREATE TABLE uploads (
			id TEXT PRIMARY KEY,
			repository TEXT NOT NULL,
			user_id BIGINT,
			size BIGINT NOT NULL DEFAULT 0,
			hash_state {{bytes}},
			started_at {{time}},
			updated_at {{time}} NOT NULL)`,
		`CREATE INDEX idx_uploads_updated ON uploads (updated_at)`,
	}})
}
