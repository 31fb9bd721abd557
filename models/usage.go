package models

import (
	"context"
	"database/sql"
	"errors"

	"gorm.io/gorm"
)

// The NamespaceStore methods here add up what a namespace stores and keep
// its quota; reservation.go spends the quota as uploads stream in.

// Usage is what a namespace stores: each blob counted once however many
// of its repositories link it, plus its manifests.
type Usage struct {
	Bytes        int64
	Blobs        int64
	Repositories int64
	QuotaBytes   int64 // 0: no quota
}

// Usage adds up a namespace's storage.
func (s *NamespaceStore) Usage(ctx context.Context, ns string) (*Usage, error) {
	return scanUsage(rowOf(s.read(ctx).Raw("SELECT"+usageColumns, usageArgs(ns)...)))
}

// usageColumns adds up a namespace's committed content: blob bytes (each
// blob once), blob count, manifest bytes, repositories and the quota. Its
// placeholders all take the namespace.
const usageColumns = `
	COALESCE((SELECT SUM(b.size) FROM blobs b WHERE b.digest IN (
		SELECT rb.digest FROM repository_blobs rb JOIN repositories r ON r.id = rb.repository_id WHERE r.namespace = ?)), 0),
	COALESCE((SELECT COUNT(DISTINCT rb.digest) FROM repository_blobs rb JOIN repositories r ON r.id = rb.repository_id WHERE r.namespace = ?), 0),
	COALESCE((SELECT SUM(m.size) FROM manifests m JOIN repositories r ON r.id = m.repository_id WHERE r.namespace = ?), 0),
	COALESCE((SELECT COUNT(*) FROM repositories WHERE namespace = ?), 0),
	COALESCE((SELECT quota_bytes FROM namespaces WHERE name = ?), 0)`

func usageArgs(ns string) []any { return []any{ns, ns, ns, ns, ns} }

// scanUsage reads usageColumns, then any further columns into more.
func scanUsage(row interface{ Scan(...any) error }, more ...any) (*Usage, error) {
	u := &Usage{}
	var manifests int64
	if err := row.Scan(append([]any{&u.Bytes, &u.Blobs, &manifests, &u.Repositories, &u.QuotaBytes}, more...)...); err != nil {
		return nil, err
	}
	u.Bytes += manifests
	return u, nil
}

// HasBlob reports whether any repository of ns links digest
// (then linking it again costs the namespace nothing).
func (s *NamespaceStore) HasBlob(ctx context.Context, ns, digest string) (bool, error) {
	var n int64
	err := s.read(ctx).Table("repository_blobs rb").Joins("JOIN repositories r ON r.id = rb.repository_id").
		Where("r.namespace = ? AND rb.digest = ?", ns, digest).Limit(1).Count(&n).Error
	return n > 0, err
}

// SetQuota sets a namespace's quota in bytes (0 for none).
func (s *NamespaceStore) SetQuota(ctx context.Context, ns string, bytes int64) error {
	res := s.change(ctx, func(tx *gorm.DB) *gorm.DB {
		return tx.Table("namespaces").Where("name = ?", ns).Update("quota_bytes", bytes)
	})
	if res.Error == nil && res.RowsAffected == 0 {
		return ErrNotFound
	}
	return res.Error
}

// Quota returns a namespace's quota in bytes (0: none, or no such
// namespace).
func (s *NamespaceStore) Quota(ctx context.Context, ns string) (int64, error) {
	var q int64
	err := rowOf(s.read(ctx).Raw("SELECT quota_bytes FROM namespaces WHERE name = ?", ns)).Scan(&q)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return q, err
}

// NamespaceUsage is a namespace with what it stores.
type NamespaceUsage struct {
	Namespace
	Usage
}

// Page lists, by name, up to limit namespaces from offset whose name
// contains q (all for ""), with their usage, and how many match.
func (s *NamespaceStore) Page(ctx context.Context, q string, offset, limit int) ([]NamespaceUsage, int64, error) {
	db := s.read(ctx).Model(&Namespace{})
	if q != "" {
		db = db.Where(`name LIKE ? ESCAPE '\'`, "%"+likeEscape(q)+"%")
	}
	var total int64
	if err := db.Count(&total).Error; err != nil {
		return nil, 0, err
	}
	var ns []Namespace
	if err := db.Order("name").Offset(offset).Limit(limit).Find(&ns).Error; err != nil {
		return nil, 0, err
	}
	out := make([]NamespaceUsage, 0, len(ns))
	for _, n := range ns {
		u, err := s.Usage(ctx, n.Name)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, NamespaceUsage{Namespace: n, Usage: *u})
	}
	return out, total, nil
}
