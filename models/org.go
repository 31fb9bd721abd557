package models

import (
	"context"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// OrgStore keeps organizations and their members. Every change to
// membership keeps at least one owner.
type OrgStore struct{ *conn }

// Organization is a namespace shared by its members.
type Organization struct {
	ID          int64
	Name        string
	Description string
	// MemberPermission is what plain members may do with the
	// organization's repositories: read, write or admin.
	MemberPermission string
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// Organization roles.
const (
	RoleOwner  = "owner"
	RoleMember = "member"
)

// OrgMember is a user's membership of an organization.
type OrgMember struct {
	OrgID     int64 `gorm:"primaryKey"`
	UserID    int64 `gorm:"primaryKey"`
	Role      string
	CreatedAt time.Time
}

// Member is a membership with the member's name.
type Member struct {
	Username string
	Role     string
}

// Create creates an organization owned by ownerID; a taken name answers
// ErrConflict.
func (s *OrgStore) Create(ctx context.Context, o *Organization, ownerID int64) error {
	now := time.Now().UTC()
	o.CreatedAt, o.UpdatedAt = now, now
	if o.MemberPermission == "" {
		o.MemberPermission = "read"
	}
	return s.tx(ctx, func(tx *gorm.DB) error {
		if err := claimNamespace(tx, o.Name, NamespaceOrg, now); err != nil {
			return err
		}
		if err := tx.Create(o).Error; err != nil {
			return err
		}
		return tx.Create(&OrgMember{OrgID: o.ID, UserID: ownerID, Role: RoleOwner, CreatedAt: now}).Error
	})
}

// Get finds an organization by name.
func (s *OrgStore) Get(ctx context.Context, name string) (*Organization, error) {
	var o Organization
	if err := s.read(ctx).Where("name = ?", name).Take(&o).Error; err != nil {
		return nil, notFound(err)
	}
	return &o, nil
}

// Delete deletes an organization with its repositories, its members
// and its namespace, with everything the namespace owns.
func (s *OrgStore) Delete(ctx context.Context, orgID int64) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		var o Organization
		if err := tx.Where("id = ?", orgID).Take(&o).Error; err != nil {
			return notFound(err)
		}
		if err := tx.Exec("DELETE FROM organizations WHERE id = ?", orgID).Error; err != nil {
			return err
		}
		return dropNamespace(tx, o.Name)
	})
}

// Update changes an organization's description and member permission.
func (s *OrgStore) Update(ctx context.Context, o *Organization) error {
	return s.change(ctx, func(tx *gorm.DB) *gorm.DB {
		return tx.Model(&Organization{}).Where("id = ?", o.ID).Updates(map[string]any{
			"description": o.Description, "member_permission": o.MemberPermission, "updated_at": time.Now().UTC(),
		})
	}).Error
}

// Role is userID's role in orgID, or "" if not a member.
func (s *OrgStore) Role(ctx context.Context, orgID, userID int64) (string, error) {
	var roles []string
	err := s.read(ctx).Model(&OrgMember{}).Where("org_id = ? AND user_id = ?", orgID, userID).Pluck("role", &roles).Error
	if err != nil || len(roles) == 0 {
		return "", err
	}
	return roles[0], nil
}

// SetMember adds a member or changes a member's role. Demoting the last
// owner answers ErrLastOwner.
func (s *OrgStore) SetMember(ctx context.Context, orgID, userID int64, role string) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		if role != RoleOwner {
			if err := keepAnOwner(tx, orgID, userID); err != nil {
				return err
			}
		}
		return tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "org_id"}, {Name: "user_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"role"}),
		}).Create(&OrgMember{OrgID: orgID, UserID: userID, Role: role, CreatedAt: time.Now().UTC()}).Error
	})
}

// RemoveMember removes a member; removing the last owner answers
// ErrLastOwner, a non-member ErrNotFound.
func (s *OrgStore) RemoveMember(ctx context.Context, orgID, userID int64) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		if err := keepAnOwner(tx, orgID, userID); err != nil {
			return err
		}
		res := tx.Where("org_id = ? AND user_id = ?", orgID, userID).Delete(&OrgMember{})
		if res.Error == nil && res.RowsAffected == 0 {
			return ErrNotFound
		}
		if res.Error != nil {
			return res.Error
		}
		return leaveTeams(tx, orgID, userID)
	})
}

// keepAnOwner fails if userID is orgID's only owner.
func keepAnOwner(tx *gorm.DB, orgID, userID int64) error {
	var others int64
	if err := tx.Model(&OrgMember{}).Where("org_id = ? AND role = ? AND user_id <> ?", orgID, RoleOwner, userID).
		Count(&others).Error; err != nil {
		return err
	}
	var self int64
	if err := tx.Model(&OrgMember{}).Where("org_id = ? AND role = ? AND user_id = ?", orgID, RoleOwner, userID).
		Count(&self).Error; err != nil {
		return err
	}
	if self > 0 && others == 0 {
		return ErrLastOwner
	}
	return nil
}

// Members lists an organization's members by name.
func (s *OrgStore) Members(ctx context.Context, orgID int64) ([]Member, error) {
	var ms []Member
	err := s.read(ctx).Table("org_members m").Select("u.username, m.role").
		Joins("JOIN users u ON u.id = m.user_id").Where("m.org_id = ?", orgID).Order("u.username").Scan(&ms).Error
	return ms, err
}

// OfUser lists the organizations userID belongs to, with the role.
func (s *OrgStore) OfUser(ctx context.Context, userID int64) ([]Member, error) {
	var ms []Member
	err := s.read(ctx).Table("org_members m").Select("o.name AS username, m.role").
		Joins("JOIN organizations o ON o.id = m.org_id").Where("m.user_id = ?", userID).Order("o.name").Scan(&ms).Error
	return ms, err
}
