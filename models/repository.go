package models

import (
	"context"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// RepositoryStore keeps repositories and their hub fields, their
// collaborators, and the listings filtered by who may read them
// (access.go).
type RepositoryStore struct{ *conn }

// Repository is a named collection of blobs, manifests and tags.
type Repository struct {
	ID        int64
	Name      string // full name, e.g. "library/nginx"
	Namespace string // first path component
	// Visibility is VisibilityPublic or VisibilityPrivate.
	Visibility  string
	Description string
	Readme      string
	StarCount   int64
	PullCount   int64
	// PulledAt is when it was last pulled (nil: never).
	PulledAt *time.Time
	// Implicit marks a repository only blob uploads made: listings leave
	// it out until a manifest lands in it (or it is created by name).
	Implicit bool
	// Policy is what a pull of its manifests must pass (with the
	// namespace's).
	Policy    Policy `gorm:"embedded"`
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Get finds a repository by its full name.
func (s *RepositoryStore) Get(ctx context.Context, name string) (*Repository, error) {
	var r Repository
	err := s.read(ctx).Where("name = ?", name).Take(&r).Error
	if err != nil {
		return nil, notFound(err)
	}
	return &r, nil
}

// Repository visibilities.
const (
	VisibilityPublic  = "public"
	VisibilityPrivate = "private"
)

// NamespaceOf is the namespace part of a repository name.
func NamespaceOf(name string) string {
	ns, _, _ := strings.Cut(name, "/")
	return ns
}

// ensureRepository returns the id of repository name, creating it for a
// blob: implicit, with the store's default visibility.
func (c *conn) ensureRepository(tx *gorm.DB, name string) (int64, error) {
	return c.ensureRepositoryAs(tx, name, c.defaultVisibility(), true)
}

// ensureRepositoryAs is ensureRepository, creating it with visibility,
// implicit or not. A repository that is not implicit (a manifest's)
// makes an implicit one listed.
func (c *conn) ensureRepositoryAs(tx *gorm.DB, name, visibility string, implicit bool) (int64, error) {
	now := time.Now().UTC()
	r := Repository{Name: name, Namespace: NamespaceOf(name), Visibility: visibility, Implicit: implicit, CreatedAt: now, UpdatedAt: now}
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&r).Error; err != nil {
		return 0, err
	}
	if r.ID != 0 {
		return r.ID, nil
	}
	if err := tx.Model(&Repository{}).Where("name = ?", name).Select("id").Take(&r.ID).Error; err != nil {
		return 0, err
	}
	if !implicit {
		if err := tx.Exec("UPDATE repositories SET implicit = ? WHERE id = ? AND implicit", false, r.ID).Error; err != nil {
			return 0, err
		}
	}
	return r.ID, nil
}

// touchRepository records that a repository changed.
func touchRepository(tx *gorm.DB, id int64) error {
	return tx.Model(&Repository{}).Where("id = ?", id).Update("updated_at", time.Now().UTC()).Error
}

// List lists repository names after last in lexical order, at
// most n of them.
func (s *RepositoryStore) List(ctx context.Context, last string, n int) ([]string, error) {
	var names []string
	err := s.read(ctx).Model(&Repository{}).Where("name > ?", last).
		Order("name").Limit(n).Pluck("name", &names).Error
	return names, err
}

// Create creates an empty repository; an existing name answers
// ErrConflict, unless only blob uploads made it (implicit): it becomes
// the repository r describes.
func (s *RepositoryStore) Create(ctx context.Context, r *Repository) error {
	now := time.Now().UTC()
	r.CreatedAt, r.UpdatedAt = now, now
	r.Namespace = NamespaceOf(r.Name)
	r.Implicit = false
	err := s.change(ctx, func(tx *gorm.DB) *gorm.DB { return tx.Create(r) }).Error
	if err == nil || !isUniqueViolation(err) {
		return err
	}
	res := s.change(ctx, func(tx *gorm.DB) *gorm.DB {
		return tx.Model(&Repository{}).Where("name = ? AND implicit", r.Name).Updates(map[string]any{
			"implicit": false, "visibility": r.Visibility, "description": r.Description, "created_at": now, "updated_at": now})
	})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return ErrConflict
	}
	return s.write(ctx).Model(&Repository{}).Where("name = ?", r.Name).Select("id").Take(&r.ID).Error
}

// Update saves the given hub fields of a repository.
func (s *RepositoryStore) Update(ctx context.Context, id int64, fields map[string]any) error {
	fields["updated_at"] = time.Now().UTC()
	return s.change(ctx, func(tx *gorm.DB) *gorm.DB { return tx.Model(&Repository{}).Where("id = ?", id).Updates(fields) }).Error
}

// Delete deletes a repository with its tags, manifests,
// collaborators, webhooks and blob links. Its namespace's webhooks get a
// delete event, naming actor (may be "") as who deleted it; its own go
// with it.
func (s *RepositoryStore) Delete(ctx context.Context, id int64, actor string) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		var r Repository
		if err := tx.Where("id = ?", id).Take(&r).Error; err != nil {
			return notFound(err)
		}
		if err := enqueue(tx, id, outboxEvent{Event: "delete", Action: "repository_deleted", Repository: r.Name, Actor: actor}, true); err != nil {
			return err
		}
		return tx.Exec("DELETE FROM repositories WHERE id = ?", id).Error
	})
}

// AddPulls adds pull counts to repositories by name, and marks the
// manifests pulled (by repository name, the digests), in one
// transaction.
func (s *RepositoryStore) AddPulls(ctx context.Context, counts map[string]int64, manifests map[string]map[string]bool) error {
	now := time.Now().UTC()
	return s.tx(ctx, func(tx *gorm.DB) error {
		for name, n := range counts {
			if err := tx.Exec("UPDATE repositories SET pull_count = pull_count + ?, pulled_at = ? WHERE name = ?", n, now, name).Error; err != nil {
				return err
			}
		}
		for name, set := range manifests {
			digests := make([]string, 0, len(set))
			for d := range set {
				digests = append(digests, d)
			}
			for _, chunk := range chunks(digests, 500) {
				err := tx.Exec(`UPDATE manifests SET pulled_at = ? WHERE digest IN ?
					AND repository_id = (SELECT id FROM repositories WHERE name = ?)`, now, chunk, name).Error
				if err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// SearchDoc is what the search index needs of a repository.
type SearchDoc struct {
	Repository
	Tags          []string
	Collaborators []int64
}

// SearchDocs loads the search documents of the named repositories that
// exist (at most 100 tag names each).
func (s *RepositoryStore) SearchDocs(ctx context.Context, names []string) ([]SearchDoc, error) {
	var repos []Repository
	if err := s.read(ctx).Where("name IN ?", names).Find(&repos).Error; err != nil {
		return nil, err
	}
	out := make([]SearchDoc, 0, len(repos))
	for _, r := range repos {
		d := SearchDoc{Repository: r}
		if err := s.read(ctx).Table("tags").Where("repository_id = ?", r.ID).Order("updated_at DESC").
			Limit(100).Pluck("name", &d.Tags).Error; err != nil {
			return nil, err
		}
		if err := s.read(ctx).Table("collaborators").Where("repository_id = ?", r.ID).
			Pluck("user_id", &d.Collaborators).Error; err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}
