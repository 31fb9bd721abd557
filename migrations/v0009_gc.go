package migrations

// Version 9: what garbage collection coordinates on. blobs.used_at is
// touched by every writer that is about to rely on a blob (an upload
// commit, a mount, a manifest that references it) and deleting_at is GC's
// mark; manifests.used_at does the same for untagged-manifest cleanup.
// blob_leases protects a blob while an upload commits it to the store.
func init() {
	register(Migration{Version: 9, Name: "gc", SQL: []string{
		`ALTER TABLE blobs ADD COLUMN used_at {{time}}`,
		`ALTER TABLE blobs ADD COLUMN deleting_at {{time}}`,
		`UPDATE blobs SET used_at = created_at`,
		`ALTER TABLE manifests ADD COLUMN used_at {{time}}`,
		`UPDATE manifests SET used_at = created_at`,
		`CREATE TABLE blob_leases (
			id TEXT PRIMARY KEY,
			digest TEXT NOT NULL,
			expires_at {{time}} NOT NULL)`,
		`CREATE INDEX idx_blob_leases_digest ON blob_leases (digest)`,
	}})
}
