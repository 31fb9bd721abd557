package models

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// NamespaceStore keeps the names users and organizations share, with
// what each namespace stores (usage.go) and its quota and the upload bytes
// reserved against it (reservation.go).
type NamespaceStore struct{ *conn }

// Namespace kinds: a namespace belongs to a user or an organization, and
// the names of both share one table so they stay unique together.
const (
	NamespaceUser = "user"
	NamespaceOrg  = "org"
	// NamespaceMirror is a pull-through cache of an upstream registry:
	// its name is taken so that no account or organization shadows it.
	NamespaceMirror = "mirror"
)

// Namespace is a name that repositories live under.
type Namespace struct {
	Name string `gorm:"primaryKey"`
	Kind string
	// Policy is what a pull of its repositories' manifests must pass.
	Policy    Policy `gorm:"embedded"`
	CreatedAt time.Time
}

// claimNamespace takes a name for a new user or organization. A name that
// still has repositories (left by a site administrator's push to a name
// nobody owned) is taken too: a new owner never inherits what it did not
// create.
func claimNamespace(tx *gorm.DB, name, kind string, now time.Time) error {
	var left int64
	if err := tx.Raw("SELECT COUNT(*) FROM repositories WHERE namespace = ?", name).Scan(&left).Error; err != nil {
		return err
	}
	if left > 0 {
		return ErrConflict
	}
	err := tx.Create(&Namespace{Name: name, Kind: kind, CreatedAt: now}).Error
	if err != nil && isUniqueViolation(err) {
		return ErrConflict
	}
	return err
}

// dropNamespace deletes a namespace with its repositories; what else it
// owns (webhooks, its quota) references its row and goes with it.
func dropNamespace(tx *gorm.DB, name string) error {
	for _, q := range []string{
		"DELETE FROM repositories WHERE namespace = ?",
		"DELETE FROM namespaces WHERE name = ?",
	} {
		if err := tx.Exec(q, name).Error; err != nil {
			return err
		}
	}
	return nil
}

// ClaimMirror takes name for a mirror (again, after a restart: a mirror
// keeps its namespace and what it cached). A user's or an organization's
// name is ErrConflict.
func (s *NamespaceStore) ClaimMirror(ctx context.Context, name string) error {
	w := s.write(ctx)
	if err := w.Exec(`INSERT INTO namespaces (name, kind, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING`,
		name, NamespaceMirror, time.Now().UTC()).Error; err != nil {
		return err
	}
	var n Namespace
	if err := w.Where("name = ?", name).Take(&n).Error; err != nil {
		return notFound(err)
	}
	if n.Kind != NamespaceMirror {
		return ErrConflict
	}
	return nil
}

// Get finds a namespace by name.
func (s *NamespaceStore) Get(ctx context.Context, name string) (*Namespace, error) {
	var n Namespace
	if err := s.read(ctx).Where("name = ?", name).Take(&n).Error; err != nil {
		return nil, notFound(err)
	}
	return &n, nil
}

// List lists every user and organization name.
func (s *NamespaceStore) List(ctx context.Context) ([]Namespace, error) {
	var out []Namespace
	err := s.read(ctx).Order("name").Find(&out).Error
	return out, err
}
