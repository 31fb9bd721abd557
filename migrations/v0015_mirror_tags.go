package migrations

// Version 15: tags.checked_at is when the upstream last confirmed a
// mirrored tag's digest; a mirror trusts the tag for --mirror-ttl after.
func init() {
	register(Migration{Version: 15, Name: "mirror_tags", SQL: []string{
		`ALTER TABLE tags ADD COLUMN checked_at {{time}}`,
	}})
}
