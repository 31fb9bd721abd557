package models

import (
	"context"
	"strings"
	"time"

	"gorm.io/gorm"
)

// RobotStore keeps robot accounts: machine identities of a namespace,
// with a permission on some of its repositories each.
type RobotStore struct{ *conn }

// Robot is a robot account; it signs in as Namespace+Name.
type Robot struct {
	ID          int64
	Namespace   string `gorm:"column:namespace_owner"`
	Name        string
	SecretHash  string
	Description string
	ExpiresAt   *time.Time
	LastUsedAt  *time.Time
	CreatedBy   string
	CreatedAt   time.Time
	// Permissions are filled by the queries that list robots.
	Permissions []RobotPermission `gorm:"-"`
}

// FullName is the name the robot signs in with: namespace+name.
func (r *Robot) FullName() string { return r.Namespace + "+" + r.Name }

// RobotPermission is what a robot may do on one repository.
type RobotPermission struct {
	RobotID      int64  `gorm:"primaryKey"`
	RepositoryID int64  `gorm:"primaryKey"`
	Level        string // read, write or admin
	// Repository is the repository's name (filled on reads).
	Repository string `gorm:"-"`
}

// SplitRobotName splits NAMESPACE+NAME; ok is false for any other name.
func SplitRobotName(full string) (ns, name string, ok bool) {
	ns, name, ok = strings.Cut(full, "+")
	return ns, name, ok && ns != "" && name != ""
}

// Create stores a robot with its permissions (by repository name, each a
// repository of its namespace: ErrNotFound otherwise); a robot of the
// same name in the namespace is ErrConflict.
func (s *RobotStore) Create(ctx context.Context, r *Robot, perms map[string]string) error {
	r.CreatedAt = time.Now().UTC()
	return s.tx(ctx, func(tx *gorm.DB) error {
		var dup int64
		if err := tx.Model(&Robot{}).Where("namespace_owner = ? AND name = ?", r.Namespace, r.Name).Count(&dup).Error; err != nil {
			return err
		}
		if dup > 0 {
			return ErrConflict
		}
		if err := tx.Create(r).Error; err != nil {
			if isForeignKeyViolation(err) {
				return ErrNotFound
			}
			return err
		}
		return setRobotPermissions(tx, r, perms)
	})
}

// setRobotPermissions replaces r's permissions inside tx.
func setRobotPermissions(tx *gorm.DB, r *Robot, perms map[string]string) error {
	if err := tx.Where("robot_id = ?", r.ID).Delete(&RobotPermission{}).Error; err != nil {
		return err
	}
	for name, level := range perms {
		if NamespaceOf(name) != r.Namespace {
			return ErrNotFound
		}
		var ids []int64
		if err := tx.Table("repositories").Where("name = ?", name).Pluck("id", &ids).Error; err != nil {
			return err
		}
		if len(ids) != 1 {
			return &MissingRepositoryError{Name: name}
		}
		if err := tx.Create(&RobotPermission{RobotID: r.ID, RepositoryID: ids[0], Level: level}).Error; err != nil {
			return err
		}
	}
	return nil
}

// MissingRepositoryError names a repository a robot was to be given a
// permission on, which does not exist.
type MissingRepositoryError struct{ Name string }

func (e *MissingRepositoryError) Error() string { return "no repository " + e.Name }

// SetPermissions replaces robot id's permissions.
func (s *RobotStore) SetPermissions(ctx context.Context, r *Robot, perms map[string]string) error {
	return s.tx(ctx, func(tx *gorm.DB) error { return setRobotPermissions(tx, r, perms) })
}

// permissionsOf fills the permissions of robots.
func (s *RobotStore) permissionsOf(ctx context.Context, robots []Robot) error {
	if len(robots) == 0 {
		return nil
	}
	ids := make([]int64, len(robots))
	at := map[int64]int{}
	for i, r := range robots {
		ids[i], at[r.ID] = r.ID, i
	}
	var rows []struct {
		RobotID, RepositoryID int64
		Level, Name           string
	}
	if err := s.read(ctx).Table("robot_permissions p").Select("p.robot_id, p.repository_id, p.level, r.name").
		Joins("JOIN repositories r ON r.id = p.repository_id").Where("p.robot_id IN ?", ids).Order("r.name").
		Scan(&rows).Error; err != nil {
		return err
	}
	for _, row := range rows {
		r := &robots[at[row.RobotID]]
		r.Permissions = append(r.Permissions, RobotPermission{RobotID: row.RobotID, RepositoryID: row.RepositoryID,
			Level: row.Level, Repository: row.Name})
	}
	return nil
}

// List lists namespace ns's robots with their permissions.
func (s *RobotStore) List(ctx context.Context, ns string) ([]Robot, error) {
	var rs []Robot
	if err := s.read(ctx).Where("namespace_owner = ?", ns).Order("name").Find(&rs).Error; err != nil {
		return nil, err
	}
	return rs, s.permissionsOf(ctx, rs)
}

// Get finds robot id with its permissions.
func (s *RobotStore) Get(ctx context.Context, id int64) (*Robot, error) {
	var r Robot
	if err := s.read(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return nil, notFound(err)
	}
	rs := []Robot{r}
	if err := s.permissionsOf(ctx, rs); err != nil {
		return nil, err
	}
	return &rs[0], nil
}

// ByName finds the robot that signs in as full (NAMESPACE+NAME), with
// its permissions.
func (s *RobotStore) ByName(ctx context.Context, full string) (*Robot, error) {
	ns, name, ok := SplitRobotName(full)
	if !ok {
		return nil, ErrNotFound
	}
	var r Robot
	if err := s.read(ctx).Where("namespace_owner = ? AND name = ?", ns, name).Take(&r).Error; err != nil {
		return nil, notFound(err)
	}
	rs := []Robot{r}
	if err := s.permissionsOf(ctx, rs); err != nil {
		return nil, err
	}
	return &rs[0], nil
}

// Delete removes a robot: its secret stops working at once.
func (s *RobotStore) Delete(ctx context.Context, id int64) error {
	return s.change(ctx, func(tx *gorm.DB) *gorm.DB { return tx.Where("id = ?", id).Delete(&Robot{}) }).Error
}

// Touch records a robot's last use.
func (s *RobotStore) Touch(ctx context.Context, id int64, at time.Time) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		return tx.Model(&Robot{}).Where("id = ?", id).Update("last_used_at", at).Error
	})
}
