package migrations

// Version 21: a repository that only a blob upload created (a push that
// never got as far as a manifest, say one the quota refused) is implicit:
// the hub and the catalog do not list it until a manifest lands in it or
// someone creates it by name. Repositories from before are all listed.
func init() {
	register(Migration{Version: 21, Name: "implicit_repositories", SQL: []string{
		`ALTER TABLE repositories ADD COLUMN implicit {{bool}} NOT NULL DEFAULT FALSE`,
	}})
}
