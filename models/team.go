package models

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// MemberPermissionNone is the member permission of an organization whose
// members reach its private repositories only through teams.
const MemberPermissionNone = "none"

// TeamStore keeps the teams of organizations.
type TeamStore struct{ *conn }

// Team is a group of an organization's members with a permission on
// some of its repositories (or all of them).
type Team struct {
	ID              int64
	OrgID           int64
	Name            string
	Description     string
	Permission      string // read, write or admin
	AllRepositories bool
	CreatedAt       time.Time
	// Members and Repositories are filled by the reads (usernames, and
	// repository names).
	Members      []string `gorm:"-"`
	Repositories []string `gorm:"-"`
}

// TeamMember makes a user a member of a team.
type TeamMember struct {
	TeamID int64 `gorm:"primaryKey"`
	UserID int64 `gorm:"primaryKey"`
	// ViaSSO marks a membership a provider's group gave (SyncGroups).
	ViaSSO bool `gorm:"column:via_sso"`
}

// TeamRepository gives a team its permission on a repository.
type TeamRepository struct {
	TeamID       int64 `gorm:"primaryKey"`
	RepositoryID int64 `gorm:"primaryKey"`
}

// ErrNotMember refuses a team member who is no member of the team's
// organization.
type ErrNotMember struct{ Username string }

func (e *ErrNotMember) Error() string { return e.Username + " is no member of the organization" }

// Create stores a team with its members (usernames, each a member of the
// organization) and repositories (full names, each of the organization);
// a team of the same name is ErrConflict.
func (s *TeamStore) Create(ctx context.Context, t *Team, org string) error {
	t.CreatedAt = time.Now().UTC()
	return s.tx(ctx, func(tx *gorm.DB) error {
		var dup int64
		if err := tx.Model(&Team{}).Where("org_id = ? AND name = ?", t.OrgID, t.Name).Count(&dup).Error; err != nil {
			return err
		}
		if dup > 0 {
			return ErrConflict
		}
		if err := tx.Omit("Members", "Repositories").Create(t).Error; err != nil {
			return err
		}
		return setTeam(tx, t, org)
	})
}

// Update saves a team's description, permission, scope, members and
// repositories.
func (s *TeamStore) Update(ctx context.Context, t *Team, org string) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&Team{}).Where("id = ?", t.ID).Updates(map[string]any{
			"description": t.Description, "permission": t.Permission, "all_repositories": t.AllRepositories})
		if res.Error == nil && res.RowsAffected == 0 {
			return ErrNotFound
		}
		if res.Error != nil {
			return res.Error
		}
		return setTeam(tx, t, org)
	})
}

// setTeam replaces t's members and repositories inside tx.
func setTeam(tx *gorm.DB, t *Team, org string) error {
	for _, q := range []string{"DELETE FROM team_members WHERE team_id = ?", "DELETE FROM team_repositories WHERE team_id = ?"} {
		if err := tx.Exec(q, t.ID).Error; err != nil {
			return err
		}
	}
	for _, name := range t.Members {
		var ids []int64
		if err := tx.Raw(`SELECT u.id FROM users u JOIN org_members m ON m.user_id = u.id
			WHERE u.username = ? AND m.org_id = ?`, name, t.OrgID).Scan(&ids).Error; err != nil {
			return err
		}
		if len(ids) != 1 {
			return &ErrNotMember{Username: name}
		}
		if err := tx.Create(&TeamMember{TeamID: t.ID, UserID: ids[0]}).Error; err != nil {
			return err
		}
	}
	if t.AllRepositories {
		return nil
	}
	for _, name := range t.Repositories {
		var ids []int64
		if NamespaceOf(name) == org {
			if err := tx.Table("repositories").Where("name = ?", name).Pluck("id", &ids).Error; err != nil {
				return err
			}
		}
		if len(ids) != 1 {
			return &MissingRepositoryError{Name: name}
		}
		if err := tx.Create(&TeamRepository{TeamID: t.ID, RepositoryID: ids[0]}).Error; err != nil {
			return err
		}
	}
	return nil
}

// fill loads the members and repositories of ts.
func (s *TeamStore) fill(ctx context.Context, ts []Team) error {
	for i := range ts {
		t := &ts[i]
		if err := s.read(ctx).Raw(`SELECT u.username FROM team_members tm JOIN users u ON u.id = tm.user_id
			WHERE tm.team_id = ? ORDER BY u.username`, t.ID).Scan(&t.Members).Error; err != nil {
			return err
		}
		if err := s.read(ctx).Raw(`SELECT r.name FROM team_repositories tr JOIN repositories r ON r.id = tr.repository_id
			WHERE tr.team_id = ? ORDER BY r.name`, t.ID).Scan(&t.Repositories).Error; err != nil {
			return err
		}
		if t.Members == nil {
			t.Members = []string{}
		}
		if t.Repositories == nil {
			t.Repositories = []string{}
		}
	}
	return nil
}

// List lists an organization's teams, by name.
func (s *TeamStore) List(ctx context.Context, orgID int64) ([]Team, error) {
	var ts []Team
	if err := s.read(ctx).Where("org_id = ?", orgID).Order("name").Find(&ts).Error; err != nil {
		return nil, err
	}
	return ts, s.fill(ctx, ts)
}

// Get finds a team of an organization by name.
func (s *TeamStore) Get(ctx context.Context, orgID int64, name string) (*Team, error) {
	var t Team
	if err := s.read(ctx).Where("org_id = ? AND name = ?", orgID, name).Take(&t).Error; err != nil {
		return nil, notFound(err)
	}
	ts := []Team{t}
	if err := s.fill(ctx, ts); err != nil {
		return nil, err
	}
	return &ts[0], nil
}

// Delete removes a team: its members keep what the organization gives
// them otherwise.
func (s *TeamStore) Delete(ctx context.Context, id int64) error {
	return s.change(ctx, func(tx *gorm.DB) *gorm.DB { return tx.Where("id = ?", id).Delete(&Team{}) }).Error
}

// leaveTeams drops userID from the teams of orgID, inside the
// transaction that removes them from the organization.
func leaveTeams(tx *gorm.DB, orgID, userID int64) error {
	return tx.Exec("DELETE FROM team_members WHERE user_id = ? AND team_id IN (SELECT id FROM teams WHERE org_id = ?)",
		userID, orgID).Error
}
