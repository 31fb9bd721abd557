package migrations

// Version 12: Markdown is rendered once, when it is saved, not on every
// view. A comment keeps its sanitized HTML beside its body, with the
// version of the renderer that made it (0: none yet, so the first view
// renders and stores it). A README's HTML has a table of its own, so that
// the many reads and writes of a repository row (every authorization,
// pull count and star) do not carry it; source_sha256 ties it to the
// README it was rendered from.
func init() {
	register(Migration{Version: 12, Name: "rendered_markdown", SQL: []string{
		`ALTER TABLE comments ADD COLUMN body_html TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE comments ADD COLUMN body_html_version INTEGER NOT NULL DEFAULT 0`,
		`CREATE TABLE readme_html (
			repository_id BIGINT PRIMARY KEY REFERENCES repositories(id) ON DELETE CASCADE,
			source_sha256 TEXT NOT NULL,
			html TEXT NOT NULL,
			version INTEGER NOT NULL)`,
	}})
}
