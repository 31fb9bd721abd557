package migrations

// Version 30: single sign-on. An account may be linked to an identity at
// an OpenID Connect provider (its issuer and subject, which never change
// for the person, unlike a name or an address); the link goes with the
// account. A team membership a provider's group gave is marked, so that
// the next sign-in takes it away once the group is gone.
func init() {
	register(Migration{Version: 30, Name: "oidc_identities", SQL: []string{
		`CREATE TABLE oidc_identities (
			id {{id}},
			user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
			issuer TEXT NOT NULL,
			subject TEXT NOT NULL,
			created_at {{time}} NOT NULL,
			UNIQUE (issuer, subject))`,
		`CREATE INDEX idx_oidc_identities_user ON oidc_identities (user_id)`,
		`ALTER TABLE team_members ADD COLUMN via_sso {{bool}} NOT NULL DEFAULT false`,
	}})
}
