package migrations

// Version 26: teams. A team of an organization has members (the
// organization's), a permission (read, write or admin) and the
// repositories it holds it on: chosen ones, or all of the organization's.
// A team goes with its organization; its members and repositories go
// with their rows, and a member who leaves the organization leaves its
// teams.
func init() {
	register(Migration{Version: 26, Name: "teams", SQL: []string{
		`CREATE TABLE teams (
			id {{id}},
			org_id BIGINT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
			name TEXT NOT NULL,
			description TEXT NOT NULL DEFAULT '',
			permission TEXT NOT NULL,
			all_repositories {{bool}} NOT NULL DEFAULT FALSE,
			created_at {{time}} NOT NULL)`,
		`CREATE UNIQUE INDEX idx_teams_name ON teams (org_id, name)`,
		`CREATE TABLE team_members (
			team_id BIGINT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
			user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
			PRIMARY KEY (team_id, user_id))`,
		`CREATE INDEX idx_team_members_user ON team_members (user_id)`,
		`CREATE TABLE team_repositories (
			team_id BIGINT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
			repository_id BIGINT NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
			PRIMARY KEY (team_id, repository_id))`,
		`CREATE INDEX idx_team_repositories_repository ON team_repositories (repository_id)`,
	}})
}
