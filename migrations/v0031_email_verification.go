package migrations

// Version 31: e-mail verification. An account's address is verified, or
// waits for the link mailed to it; accounts from before count as
// verified. A verification holds the address it verifies (a change of
// address takes effect only when the new one is verified), a hash of the
// link's secret and its end.
func init() {
	register(Migration{Version: 31, Name: "email_verification", SQL: []string{
		`ALTER TABLE users ADD COLUMN email_verified {{bool}} NOT NULL DEFAULT true`,
		`CREATE TABLE email_verifications (
			id {{id}},
			user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
			email TEXT NOT NULL,
			token_hash TEXT NOT NULL UNIQUE,
			created_at {{time}} NOT NULL,
			expires_at {{time}} NOT NULL)`,
		`CREATE INDEX idx_email_verifications_user ON email_verifications (user_id)`,
	}})
}
