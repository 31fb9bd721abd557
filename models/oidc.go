package models

import (
	"context"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
)

// OIDCIdentity links an account to a person at an OpenID Connect
// provider: the provider's issuer and the person's subject there.
type OIDCIdentity struct {
	ID        int64
	UserID    int64
	Issuer    string
	Subject   string
	CreatedAt time.Time
}

// TableName is the identities' table.
func (OIDCIdentity) TableName() string { return "oidc_identities" }

// ByIdentity finds the account linked to subject at issuer.
func (s *UserStore) ByIdentity(ctx context.Context, issuer, subject string) (*User, error) {
	var u User
	err := s.read(ctx).Table("users u").Select("u.*").Joins("JOIN oidc_identities i ON i.user_id = u.id").
		Where("i.issuer = ? AND i.subject = ?", issuer, subject).Take(&u).Error
	if err != nil {
		return nil, notFound(err)
	}
	return &u, nil
}

// CreateLinked creates u, as Create does, linked to subject at issuer,
// in one transaction: a taken name is ErrConflict, a taken address
// ErrEmailTaken, an identity linked already ErrConflict.
func (s *UserStore) CreateLinked(ctx context.Context, u *User, issuer, subject string) error {
	now := time.Now().UTC()
	u.CreatedAt, u.UpdatedAt = now, now
	return s.tx(ctx, func(tx *gorm.DB) error {
		if err := createUser(tx, u, now); err != nil {
			return err
		}
		err := tx.Create(&OIDCIdentity{UserID: u.ID, Issuer: issuer, Subject: subject, CreatedAt: now}).Error
		if err != nil && isUniqueViolation(err) {
			return ErrConflict
		}
		return err
	})
}

// Linked reports whether an account has an identity at a provider.
func (s *UserStore) Linked(ctx context.Context, userID int64) (bool, error) {
	var n int64
	err := s.read(ctx).Model(&OIDCIdentity{}).Where("user_id = ?", userID).Count(&n).Error
	return n > 0, err
}

// SyncGroups makes the teams a provider's groups name ("org/team") the
// teams userID is in through single sign-on, in one transaction: it
// joins those it is not in (and their organizations, as a member, if it
// is in none), and leaves those a group gave it that no group names any
// more. Memberships given by hand stay. Groups that name no team are
// left out; it returns the teams it is in through groups.
func (s *TeamStore) SyncGroups(ctx context.Context, userID int64, groups []string) ([]string, error) {
	var in []string
	err := s.tx(ctx, func(tx *gorm.DB) error {
		in = nil
		want := map[int64]string{}
		for _, g := range groups {
			org, team, ok := strings.Cut(g, "/")
			if !ok || org == "" || team == "" || strings.Contains(team, "/") {
				continue
			}
			var rows []struct {
				TeamID, OrgID int64
			}
			if err := tx.Raw(`SELECT t.id AS team_id, o.id AS org_id FROM teams t JOIN organizations o ON o.id = t.org_id
				WHERE o.name = ? AND t.name = ?`, org, team).Scan(&rows).Error; err != nil {
				return err
			}
			if len(rows) != 1 {
				continue
			}
			want[rows[0].TeamID] = g
			var role int64
			if err := tx.Table("org_members").Where("org_id = ? AND user_id = ?", rows[0].OrgID, userID).Count(&role).Error; err != nil {
				return err
			}
			if role == 0 {
				if err := tx.Exec("INSERT INTO org_members (org_id, user_id, role, created_at) VALUES (?, ?, ?, ?)",
					rows[0].OrgID, userID, RoleMember, time.Now().UTC()).Error; err != nil {
					return err
				}
			}
		}
		var have []TeamMember
		if err := tx.Where("user_id = ?", userID).Find(&have).Error; err != nil {
			return err
		}
		member := map[int64]bool{}
		for _, m := range have {
			member[m.TeamID] = true
			if _, ok := want[m.TeamID]; !ok && m.ViaSSO {
				if err := tx.Where("team_id = ? AND user_id = ?", m.TeamID, userID).Delete(&TeamMember{}).Error; err != nil {
					return err
				}
			}
		}
		for id, g := range want {
			if !member[id] {
				if err := tx.Create(&TeamMember{TeamID: id, UserID: userID, ViaSSO: true}).Error; err != nil {
					return err
				}
			}
			in = append(in, g)
		}
		return nil
	})
	slices.Sort(in)
	return in, err
}
