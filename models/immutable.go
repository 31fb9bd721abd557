package models

import (
	"context"
	"fmt"
	"path"
	"time"

	"gorm.io/gorm"
)

// ImmutableStore keeps the immutability rules of repositories and
// namespaces. The rules are enforced where tags are written and deleted
// (putManifest, TagStore, ManifestStore.Delete), in the same transaction.
type ImmutableStore struct{ *conn }

// ImmutableRule protects the tags matching Pattern (path.Match syntax) of
// a repository, or of every repository of a namespace.
type ImmutableRule struct {
	ID           int64
	RepositoryID *int64
	Namespace    *string `gorm:"column:namespace_owner"`
	Pattern      string
	CreatedBy    string
	CreatedAt    time.Time
}

// owner names the rule's owner as a message says it: the namespace's
// name, or the repository's (given, since the row holds only its id).
func (r ImmutableRule) owner(repository string) string {
	if r.Namespace != nil {
		return *r.Namespace
	}
	return repository
}

// ImmutableError refuses moving or deleting a tag a rule protects.
type ImmutableError struct {
	Tag, Rule, Owner string
	// Delete is set for a deletion, clear for a push that moves the tag.
	Delete bool
}

func (e *ImmutableError) Error() string {
	what := "moved to another manifest"
	if e.Delete {
		what = "deleted"
	}
	return fmt.Sprintf("tag %s is immutable (rule %q of %s) and cannot be %s", e.Tag, e.Rule, e.Owner, what)
}

// ValidImmutablePattern reports whether p is a pattern a rule may have.
func ValidImmutablePattern(p string) bool {
	if p == "" || len(p) > 128 {
		return false
	}
	_, err := path.Match(p, "")
	return err == nil
}

// rulesOf loads the rules that hold in repository repoID (of namespace
// ns), inside tx.
func rulesOf(tx *gorm.DB, repoID int64, ns string) ([]ImmutableRule, error) {
	var rs []ImmutableRule
	err := tx.Where("repository_id = ? OR namespace_owner = ?", repoID, ns).Order("id").Find(&rs).Error
	return rs, err
}

// protects returns the first rule of rs that tag matches, if any.
func protects(rs []ImmutableRule, tag string) *ImmutableRule {
	for i := range rs {
		if ok, _ := path.Match(rs[i].Pattern, tag); ok {
			return &rs[i]
		}
	}
	return nil
}

// checkDeletable refuses deleting any of tags of repository repoID (named
// name) that a rule protects.
func checkDeletable(tx *gorm.DB, repoID int64, name string, tags []string) error {
	if len(tags) == 0 {
		return nil
	}
	rs, err := rulesOf(tx, repoID, NamespaceOf(name))
	if err != nil || len(rs) == 0 {
		return err
	}
	for _, t := range tags {
		if r := protects(rs, t); r != nil {
			return &ImmutableError{Tag: t, Rule: r.Pattern, Owner: r.owner(name), Delete: true}
		}
	}
	return nil
}

// Create stores a rule; an owner with a rule of the same pattern is
// ErrConflict, a missing owner ErrNotFound.
func (s *ImmutableStore) Create(ctx context.Context, r *ImmutableRule) error {
	r.CreatedAt = time.Now().UTC()
	return s.tx(ctx, func(tx *gorm.DB) error {
		var dup int64
		q := tx.Model(&ImmutableRule{}).Where("pattern = ?", r.Pattern)
		if r.RepositoryID != nil {
			q = q.Where("repository_id = ?", *r.RepositoryID)
		} else {
			q = q.Where("repository_id IS NULL AND namespace_owner = ?", *r.Namespace)
		}
		if err := q.Count(&dup).Error; err != nil {
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
		return nil
	})
}

// ListForRepository lists a repository's own rules.
func (s *ImmutableStore) ListForRepository(ctx context.Context, repoID int64) ([]ImmutableRule, error) {
	var rs []ImmutableRule
	err := s.read(ctx).Where("repository_id = ?", repoID).Order("id").Find(&rs).Error
	return rs, err
}

// ListForNamespace lists a namespace's rules.
func (s *ImmutableStore) ListForNamespace(ctx context.Context, ns string) ([]ImmutableRule, error) {
	var rs []ImmutableRule
	err := s.read(ctx).Where("repository_id IS NULL AND namespace_owner = ?", ns).Order("id").Find(&rs).Error
	return rs, err
}

// Get finds a rule by id.
func (s *ImmutableStore) Get(ctx context.Context, id int64) (*ImmutableRule, error) {
	var r ImmutableRule
	if err := s.read(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return nil, notFound(err)
	}
	return &r, nil
}

// Delete removes a rule.
func (s *ImmutableStore) Delete(ctx context.Context, id int64) error {
	return s.change(ctx, func(tx *gorm.DB) *gorm.DB { return tx.Where("id = ?", id).Delete(&ImmutableRule{}) }).Error
}
