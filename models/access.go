package models

import (
	"context"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Collaborator grants a user a permission on one repository.
type Collaborator struct {
	RepositoryID int64 `gorm:"primaryKey"`
	UserID       int64 `gorm:"primaryKey"`
	Permission   string
	CreatedAt    time.Time
}

// CollaboratorName is a collaborator with the user's name.
type CollaboratorName struct {
	Username   string
	Permission string
}

// SetCollaborator adds a collaborator or changes their permission.
func (s *RepositoryStore) SetCollaborator(ctx context.Context, repoID, userID int64, permission string) error {
	return s.change(ctx, func(tx *gorm.DB) *gorm.DB {
		return tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "repository_id"}, {Name: "user_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"permission"}),
		}).Create(&Collaborator{RepositoryID: repoID, UserID: userID, Permission: permission, CreatedAt: time.Now().UTC()})
	}).Error
}

// RemoveCollaborator removes a collaborator; ErrNotFound if there was none.
func (s *RepositoryStore) RemoveCollaborator(ctx context.Context, repoID, userID int64) error {
	res := s.change(ctx, func(tx *gorm.DB) *gorm.DB {
		return tx.Where("repository_id = ? AND user_id = ?", repoID, userID).Delete(&Collaborator{})
	})
	if res.Error == nil && res.RowsAffected == 0 {
		return ErrNotFound
	}
	return res.Error
}

// Collaborators lists a repository's collaborators by name.
func (s *RepositoryStore) Collaborators(ctx context.Context, repoID int64) ([]CollaboratorName, error) {
	var cs []CollaboratorName
	err := s.read(ctx).Table("collaborators c").Select("u.username, c.permission").
		Joins("JOIN users u ON u.id = c.user_id").Where("c.repository_id = ?", repoID).Order("u.username").Scan(&cs).Error
	return cs, err
}

// AccessFacts is everything the authorization policy needs to know about a
// user and a repository, read in one place.
type AccessFacts struct {
	RepoExists    bool
	RepoID        int64
	Visibility    string
	NamespaceKind string // "", NamespaceUser or NamespaceOrg
	OrgRole       string // the user's role in the namespace's organization
	OrgMemberPerm string // the organization's member permission
	Collaborator  string // the user's collaborator permission
	// Team is the highest permission a team of the user in the
	// namespace's organization holds on the repository: on it, or on all
	// of the organization's ("" for none).
	Team string
}

// teamLevel ranks team permissions in SQL, and names the rank back.
const teamLevel = `CASE t.permission WHEN 'admin' THEN 3 WHEN 'write' THEN 2 WHEN 'read' THEN 1 ELSE 0 END`

var teamLevels = [...]string{"", "read", "write", "admin"}

// AccessFacts reads what decides userID's access to repository name
// (userID 0 for anonymous).
func (s *RepositoryStore) AccessFacts(ctx context.Context, name string, userID int64) (*AccessFacts, error) {
	f := &AccessFacts{}
	ns := NamespaceOf(name)
	row := rowOf(s.read(ctx).Raw(`SELECT
		COALESCE((SELECT id FROM repositories WHERE name = ?), 0),
		COALESCE((SELECT visibility FROM repositories WHERE name = ?), ''),
		COALESCE((SELECT kind FROM namespaces WHERE name = ?), ''),
		COALESCE((SELECT m.role FROM org_members m JOIN organizations o ON o.id = m.org_id WHERE o.name = ? AND m.user_id = ?), ''),
		COALESCE((SELECT member_permission FROM organizations WHERE name = ?), ''),
		COALESCE((SELECT c.permission FROM collaborators c JOIN repositories r ON r.id = c.repository_id WHERE r.name = ? AND c.user_id = ?), ''),
		COALESCE((SELECT MAX(`+teamLevel+`) FROM teams t JOIN team_members tm ON tm.team_id = t.id
			JOIN organizations o ON o.id = t.org_id
			WHERE o.name = ? AND tm.user_id = ? AND (t.all_repositories OR t.id IN
				(SELECT tr.team_id FROM team_repositories tr JOIN repositories r ON r.id = tr.repository_id WHERE r.name = ?))), 0)`,
		name, name, ns, ns, userID, ns, name, userID, ns, userID, name))
	var team int
	if err := row.Scan(&f.RepoID, &f.Visibility, &f.NamespaceKind, &f.OrgRole, &f.OrgMemberPerm, &f.Collaborator, &team); err != nil {
		return nil, err
	}
	if team >= 0 && team < len(teamLevels) {
		f.Team = teamLevels[team]
	}
	f.RepoExists = f.RepoID != 0
	return f, nil
}

// Viewer is who lists repositories: its id and name (0 and "" for
// anonymous) and whether it is a site administrator.
type Viewer struct {
	UserID   int64
	Username string
	Admin    bool
	// RobotID is set for a robot account (UserID 0): it sees what is
	// public and what it has a permission on.
	RobotID int64
}

// visibleTo restricts a query on repositories aliased r to those viewer may
// read. It is the SQL form of the policy's read rule (server/auth
// Policy.Level): public repositories, the viewer's namespace, its
// organizations' (all of them to owners; to members, unless the member
// permission is none), those its teams hold a permission on, and those it
// collaborates on; administrators see all.
func visibleTo(q *gorm.DB, v Viewer) *gorm.DB {
	if v.Admin {
		return q
	}
	if v.RobotID != 0 {
		return q.Where("r.visibility = ? OR r.id IN (SELECT p.repository_id FROM robot_permissions p WHERE p.robot_id = ?)",
			VisibilityPublic, v.RobotID)
	}
	if v.UserID == 0 {
		return q.Where("r.visibility = ?", VisibilityPublic)
	}
	return q.Where(`r.visibility = ? OR r.namespace = ?
		OR r.namespace IN (SELECT o.name FROM organizations o JOIN org_members m ON m.org_id = o.id
			WHERE m.user_id = ? AND (m.role = ? OR o.member_permission <> ?))
		OR r.namespace IN (SELECT o.name FROM organizations o JOIN teams t ON t.org_id = o.id
			JOIN team_members tm ON tm.team_id = t.id WHERE tm.user_id = ? AND t.all_repositories)
		OR r.id IN (SELECT tr.repository_id FROM team_repositories tr JOIN team_members tm ON tm.team_id = tr.team_id
			WHERE tm.user_id = ?)
		OR r.id IN (SELECT c.repository_id FROM collaborators c WHERE c.user_id = ?)`,
		VisibilityPublic, v.Username, v.UserID, RoleOwner, MemberPermissionNone, v.UserID, v.UserID, v.UserID)
}

// listed leaves out implicit repositories (see Repository.Implicit).
func listed(q *gorm.DB) *gorm.DB { return q.Where("NOT r.implicit") }

// ReadableNames lists, in lexical order after last, at most n names of
// repositories viewer may read: the registry catalog, filtered in SQL.
// Only, if not nil, restricts the list to those names.
func (s *RepositoryStore) ReadableNames(ctx context.Context, v Viewer, only []string, last string, n int) ([]string, error) {
	var names []string
	q := listed(visibleTo(s.read(ctx).Table("repositories r"), v)).Where("r.name > ?", last)
	if only != nil {
		q = q.Where("r.name IN ?", only)
	}
	err := q.Order("r.name").Limit(n).Pluck("r.name", &names).Error
	return names, err
}

// RepoOrder names the orders a repository listing may take; anything else
// is refused rather than passed to SQL.
var RepoOrder = map[string]string{
	"stars":   "r.star_count DESC, r.pull_count DESC, r.name",
	"pulls":   "r.pull_count DESC, r.star_count DESC, r.name",
	"updated": "r.updated_at DESC, r.name",
	"name":    "r.name",
}

// RepoFilter selects repositories for a listing.
type RepoFilter struct {
	Namespace string   // only this namespace
	Names     []string // only these names
	Mine      bool     // only those the viewer may write to or was given
	Order     string   // a key of RepoOrder
	Limit     int
	Offset    int
}

// ListVisible lists the repositories viewer may read, and how
// many there are in all.
func (s *RepositoryStore) ListVisible(ctx context.Context, v Viewer, f RepoFilter) ([]Repository, int64, error) {
	q := listed(visibleTo(s.read(ctx).Table("repositories r"), v))
	if f.Namespace != "" {
		q = q.Where("r.namespace = ?", f.Namespace)
	}
	if f.Names != nil {
		q = q.Where("r.name IN ?", f.Names)
	}
	if f.Mine {
		q = q.Where(`r.namespace = ?
			OR r.namespace IN (SELECT o.name FROM organizations o JOIN org_members m ON m.org_id = o.id WHERE m.user_id = ?)
			OR r.id IN (SELECT c.repository_id FROM collaborators c WHERE c.user_id = ?)`, v.Username, v.UserID, v.UserID)
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, err
	}
	order, ok := RepoOrder[f.Order]
	if !ok {
		order = RepoOrder["updated"]
	}
	var out []Repository
	err := q.Select("r.*").Order(order).Limit(f.Limit).Offset(f.Offset).Find(&out).Error
	return out, total, err
}
