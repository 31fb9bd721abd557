package migrations

// Version 22: what Wharf is told to trust and what it found. Signing keys
// (cosign public keys) belong to a repository or to a namespace, and go
// with it. signatures holds, per signed manifest, every signature and
// attestation found for it and what verifying it said: it is rewritten
// whenever a signature or a key arrives or goes. jobs is the durable queue
// of that work (and of scans): one row per piece of work and target,
// re-armed (gen moves on) when new work arrives while it runs, so that a
// crash loses nothing and a finished job is not done twice. A repository
// and a namespace each keep a policy: require a verified signature, and
// refuse manifests with findings at or above a severity.
func init() {
	register(Migration{Version: 22, Name: "trust", SQL: []string{
		`CREATE TABLE signing_keys (
			id {{id}},
			repository_id BIGINT REFERENCES repositories(id) ON DELETE CASCADE,
			namespace_owner TEXT REFERENCES namespaces(name) ON DELETE CASCADE,
			name TEXT NOT NULL,
			public_key TEXT NOT NULL,
			fingerprint TEXT NOT NULL,
			created_by TEXT NOT NULL DEFAULT '',
			created_at {{time}} NOT NULL)`,
		`CREATE INDEX idx_signing_keys_repository ON signing_keys (repository_id)`,
		`CREATE INDEX idx_signing_keys_namespace ON signing_keys (namespace_owner)`,
		`CREATE TABLE signatures (
			repository_id BIGINT NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
			subject_digest TEXT NOT NULL,
			signature_digest TEXT NOT NULL,
			layer INTEGER NOT NULL,
			kind TEXT NOT NULL,
			status TEXT NOT NULL,
			key_id BIGINT,
			key_name TEXT NOT NULL DEFAULT '',
			identity TEXT NOT NULL DEFAULT '',
			predicate_type TEXT NOT NULL DEFAULT '',
			reason TEXT NOT NULL DEFAULT '',
			signed_at {{time}} NOT NULL,
			checked_at {{time}} NOT NULL,
			PRIMARY KEY (repository_id, subject_digest, signature_digest, layer))`,
		`CREATE INDEX idx_signatures_signature ON signatures (repository_id, signature_digest)`,
		`CREATE TABLE jobs (
			id {{id}},
			kind TEXT NOT NULL,
			repository_id BIGINT NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
			digest TEXT NOT NULL DEFAULT '',
			state TEXT NOT NULL,
			gen INTEGER NOT NULL DEFAULT 1,
			attempts INTEGER NOT NULL DEFAULT 0,
			run_after {{time}} NOT NULL,
			error TEXT NOT NULL DEFAULT '',
			created_at {{time}} NOT NULL,
			updated_at {{time}} NOT NULL)`,
		`CREATE UNIQUE INDEX idx_jobs_target ON jobs (kind, repository_id, digest)`,
		`CREATE INDEX idx_jobs_due ON jobs (state, run_after)`,
		`ALTER TABLE repositories ADD COLUMN require_signature {{bool}} NOT NULL DEFAULT FALSE`,
		`ALTER TABLE repositories ADD COLUMN block_severity TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE namespaces ADD COLUMN require_signature {{bool}} NOT NULL DEFAULT FALSE`,
		`ALTER TABLE namespaces ADD COLUMN block_severity TEXT NOT NULL DEFAULT ''`,
	}})
}
