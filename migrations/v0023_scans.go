package migrations

// Version 23: what scanning found. scans holds, per manifest of a
// repository, the state of its vulnerability scan and the counts by
// severity; scan_findings each finding of the last scan, replaced when
// the manifest is scanned again. scanner_databases records the Trivy
// database bundles imported (the bundle's bytes are a blob in the blob
// store, kept while its row is): the newest is the one scans use, and
// importing one rescans everything. A scan's sbom_digest names the SBOM
// Wharf attached to the manifest as a referrer.
func init() {
	register(Migration{Version: 23, Name: "scans", SQL: []string{
		`CREATE TABLE scans (
			repository_id BIGINT NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
			digest TEXT NOT NULL,
			status TEXT NOT NULL,
			reason TEXT NOT NULL DEFAULT '',
			scanner TEXT NOT NULL DEFAULT '',
			database_digest TEXT NOT NULL DEFAULT '',
			critical INTEGER NOT NULL DEFAULT 0,
			high INTEGER NOT NULL DEFAULT 0,
			medium INTEGER NOT NULL DEFAULT 0,
			low INTEGER NOT NULL DEFAULT 0,
			unknown INTEGER NOT NULL DEFAULT 0,
			sbom_digest TEXT NOT NULL DEFAULT '',
			scanned_at {{time}},
			updated_at {{time}} NOT NULL,
			PRIMARY KEY (repository_id, digest))`,
		`CREATE INDEX idx_scans_due ON scans (status, updated_at)`,
		`CREATE TABLE scan_findings (
			id {{id}},
			repository_id BIGINT NOT NULL,
			digest TEXT NOT NULL,
			vulnerability_id TEXT NOT NULL,
			package TEXT NOT NULL,
			installed TEXT NOT NULL DEFAULT '',
			fixed TEXT NOT NULL DEFAULT '',
			severity TEXT NOT NULL,
			title TEXT NOT NULL DEFAULT '',
			url TEXT NOT NULL DEFAULT '',
			target TEXT NOT NULL DEFAULT '',
			FOREIGN KEY (repository_id, digest) REFERENCES scans(repository_id, digest) ON DELETE CASCADE)`,
		`CREATE INDEX idx_scan_findings_scan ON scan_findings (repository_id, digest)`,
		`CREATE TABLE scanner_databases (
			id {{id}},
			digest TEXT NOT NULL UNIQUE,
			size BIGINT NOT NULL,
			version INTEGER NOT NULL,
			updated_at {{time}} NOT NULL,
			next_update {{time}},
			imported_by TEXT NOT NULL DEFAULT '',
			imported_at {{time}} NOT NULL)`,
	}})
}
