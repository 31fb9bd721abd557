package models

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
)

// RetentionStore keeps the retention policies of repositories and
// namespaces, what their runs removed, and what the rules weigh: each
// tag's push and pull times and the untagged manifests. The removal
// itself is TagStore.Prune.
type RetentionStore struct{ *conn }

// RetentionPolicy is a repository's, or a namespace's, retention policy.
// Rules is a JSON list the retention service reads and writes; the store
// keeps it as it is given.
type RetentionPolicy struct {
	ID           int64
	RepositoryID *int64
	Namespace    *string `gorm:"column:namespace_owner"`
	Rules        string
	// UntaggedDays is after how many days an untagged manifest goes (0:
	// untagged manifests stay).
	UntaggedDays int
	UpdatedBy    string
	UpdatedAt    time.Time
}

// RetentionRun is what one run of a policy did in one repository.
type RetentionRun struct {
	ID           int64
	RepositoryID int64
	Namespace    string
	Repository   string
	// Policy is whose policy ran: "repository" or "namespace".
	Policy string
	// Cause is "schedule" or "manual"; Actor who asked for a manual run.
	Cause           string
	Actor           string
	StartedAt       time.Time
	FinishedAt      time.Time
	Status          string // RunOK or RunFailed
	Error           string
	TagCount        int
	ManifestCount   int
	Bytes           int64
	Tags, Manifests string // JSON lists of names and digests (at most maxRunListed each)
}

// Run outcomes.
const (
	RunOK     = "ok"
	RunFailed = "failed"
)

// maxRunsKept is how many runs a repository keeps; older ones go as new
// ones are recorded.
const maxRunsKept = 50

// ForRepository loads a repository's own policy.
func (s *RetentionStore) ForRepository(ctx context.Context, repoID int64) (*RetentionPolicy, error) {
	var p RetentionPolicy
	if err := s.read(ctx).Where("repository_id = ?", repoID).Take(&p).Error; err != nil {
		return nil, notFound(err)
	}
	return &p, nil
}

// ForNamespace loads a namespace's policy.
func (s *RetentionStore) ForNamespace(ctx context.Context, ns string) (*RetentionPolicy, error) {
	var p RetentionPolicy
	if err := s.read(ctx).Where("namespace_owner = ?", ns).Take(&p).Error; err != nil {
		return nil, notFound(err)
	}
	return &p, nil
}

// Effective is the policy that holds in repository repoID of namespace
// ns: its own, else its namespace's (ErrNotFound if neither has one).
func (s *RetentionStore) Effective(ctx context.Context, repoID int64, ns string) (*RetentionPolicy, error) {
	p, err := s.ForRepository(ctx, repoID)
	if errors.Is(err, ErrNotFound) {
		return s.ForNamespace(ctx, ns)
	}
	return p, err
}

// Put stores p as its owner's policy, replacing the one it had; a
// missing owner is ErrNotFound.
func (s *RetentionStore) Put(ctx context.Context, p *RetentionPolicy) error {
	p.UpdatedAt = time.Now().UTC()
	return s.tx(ctx, func(tx *gorm.DB) error {
		q := tx.Where("repository_id = ?", p.RepositoryID)
		if p.RepositoryID == nil {
			q = tx.Where("repository_id IS NULL AND namespace_owner = ?", p.Namespace)
		}
		if err := q.Delete(&RetentionPolicy{}).Error; err != nil {
			return err
		}
		p.ID = 0
		if err := tx.Create(p).Error; err != nil {
			if isForeignKeyViolation(err) {
				return ErrNotFound
			}
			return err
		}
		return nil
	})
}

// DeleteForRepository removes a repository's own policy (its namespace's
// holds again, if it has one); ErrNotFound if it had none.
func (s *RetentionStore) DeleteForRepository(ctx context.Context, repoID int64) error {
	return s.remove(ctx, "repository_id = ?", repoID)
}

// DeleteForNamespace removes a namespace's policy; ErrNotFound if it had
// none.
func (s *RetentionStore) DeleteForNamespace(ctx context.Context, ns string) error {
	return s.remove(ctx, "repository_id IS NULL AND namespace_owner = ?", ns)
}

func (s *RetentionStore) remove(ctx context.Context, where string, arg any) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Where(where, arg).Delete(&RetentionPolicy{})
		if res.Error == nil && res.RowsAffected == 0 {
			return ErrNotFound
		}
		return res.Error
	})
}

// GovernedRepository is a repository that a policy governs.
type GovernedRepository struct {
	ID   int64
	Name string
}

// Governed lists, by id after afterID, up to limit repositories that a
// policy governs: their own, or their namespace's. With ns set, only
// that namespace's repositories.
func (s *RetentionStore) Governed(ctx context.Context, ns string, afterID int64, limit int) ([]GovernedRepository, error) {
	var out []GovernedRepository
	q := s.read(ctx).Table("repositories r").Select("r.id, r.name").
		Where(`r.id > ? AND (EXISTS (SELECT 1 FROM retention_policies p WHERE p.repository_id = r.id)
			OR EXISTS (SELECT 1 FROM retention_policies p WHERE p.namespace_owner = r.namespace))`, afterID)
	if ns != "" {
		q = q.Where("r.namespace = ?", ns)
	}
	err := q.Order("r.id").Limit(limit).Scan(&out).Error
	return out, err
}

// RetentionTag is a tag as the rules weigh it.
type RetentionTag struct {
	Name       string
	ManifestID int64
	Digest     string
	// PushedAt is when the tag was last pushed (moved to its manifest).
	PushedAt time.Time
	// PulledAt is when its manifest, or one of an index's children, was
	// last pulled (nil: never).
	PulledAt *time.Time
}

// Tags lists the tags of repository repoID with their push and pull
// times, newest push first.
func (s *RetentionStore) Tags(ctx context.Context, repoID int64) ([]RetentionTag, error) {
	var out []RetentionTag
	err := s.read(ctx).Table("tags t").Joins("JOIN manifests m ON m.id = t.manifest_id").
		Select("t.name, t.manifest_id, m.digest, t.updated_at AS pushed_at, m.pulled_at").
		Where("t.repository_id = ?", repoID).Order("t.updated_at DESC, t.name").Scan(&out).Error
	if err != nil || len(out) == 0 {
		return out, err
	}
	// An index counts as pulled when a client pulled one of its
	// platforms by digest, as docker does after reading the index.
	byManifest := map[int64][]int{}
	for i, t := range out {
		byManifest[t.ManifestID] = append(byManifest[t.ManifestID], i)
	}
	for _, chunk := range chunks(keys(byManifest), 500) {
		var pulls []struct {
			ManifestID int64
			PulledAt   time.Time
		}
		err := s.read(ctx).Raw(`SELECT r.manifest_id, c.pulled_at FROM manifest_references r
			JOIN manifests c ON c.repository_id = ? AND c.digest = r.digest
			WHERE r.manifest_id IN ? AND r.kind = 'manifest' AND c.pulled_at IS NOT NULL`, repoID, chunk).Scan(&pulls).Error
		if err != nil {
			return nil, err
		}
		for _, p := range pulls {
			for _, i := range byManifest[p.ManifestID] {
				if out[i].PulledAt == nil || p.PulledAt.After(*out[i].PulledAt) {
					at := p.PulledAt
					out[i].PulledAt = &at
				}
			}
		}
	}
	return out, nil
}

// Untagged lists the digests of repository repoID's manifests that no
// tag points at and that nothing has pushed or relied on since before,
// oldest first, at most maxDeletedManifests. Children of indexes and
// referrers are among them: Prune keeps those whose parent or subject
// stays.
func (s *RetentionStore) Untagged(ctx context.Context, repoID int64, before time.Time) ([]string, error) {
	var out []string
	err := s.read(ctx).Table("manifests m").
		Where(`m.repository_id = ? AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.manifest_id = m.id)
			AND COALESCE(m.used_at, m.created_at) < ?`, repoID, before.UTC()).
		Order("m.created_at, m.id").Limit(maxDeletedManifests).Pluck("m.digest", &out).Error
	return out, err
}

// Record stores what a run did, dropping the repository's oldest runs
// past the last maxRunsKept.
func (s *RetentionStore) Record(ctx context.Context, r *RetentionRun) error {
	return s.tx(ctx, func(tx *gorm.DB) error { return insertRun(tx, r) })
}

func insertRun(tx *gorm.DB, r *RetentionRun) error {
	r.ID = 0
	if r.Tags == "" {
		r.Tags = "[]"
	}
	if r.Manifests == "" {
		r.Manifests = "[]"
	}
	if err := tx.Create(r).Error; err != nil {
		return err
	}
	var ids []int64
	err := tx.Table("retention_runs").Where("repository_id = ?", r.RepositoryID).Order("id DESC").
		Offset(maxRunsKept).Limit(1).Pluck("id", &ids).Error
	if err != nil || len(ids) == 0 {
		return err
	}
	return tx.Exec(`DELETE FROM retention_runs WHERE repository_id = ? AND id <= ?`, r.RepositoryID, ids[0]).Error
}

// RunFilter selects runs: of one repository, or of every repository of
// a namespace, older than Before (an id; 0 for the newest).
type RunFilter struct {
	RepositoryID int64
	Namespace    string
	Before       int64
}

// Runs lists up to limit runs, newest first.
func (s *RetentionStore) Runs(ctx context.Context, f RunFilter, limit int) ([]RetentionRun, error) {
	q := s.read(ctx).Model(&RetentionRun{})
	if f.RepositoryID != 0 {
		q = q.Where("repository_id = ?", f.RepositoryID)
	} else {
		q = q.Where("namespace = ?", f.Namespace)
	}
	if f.Before > 0 {
		q = q.Where("id < ?", f.Before)
	}
	var out []RetentionRun
	err := q.Order("id DESC").Limit(limit).Find(&out).Error
	return out, err
}
