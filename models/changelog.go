package models

import (
	"context"
	"time"
)

// ChangeStore keeps the change log that every replica's search index
// follows.
type ChangeStore struct{ *conn }

// Change is one entry of the change log that every replica's search index
// follows: what happened, to which repository or namespace.
type Change struct {
	ID         int64 `gorm:"primaryKey"`
	Kind       string
	Repository string
	Namespace  string
	Detail     string
	CreatedAt  time.Time
}

// TableName implements gorm's Tabler.
func (Change) TableName() string { return "change_log" }

// Append adds entries to the change log.
func (s *ChangeStore) Append(ctx context.Context, cs []Change) error {
	if len(cs) == 0 {
		return nil
	}
	now := time.Now().UTC()
	for i := range cs {
		cs[i].ID = 0
		if cs[i].CreatedAt.IsZero() {
			cs[i].CreatedAt = now
		}
	}
	return s.write(ctx).CreateInBatches(cs, 200).Error
}

// After returns up to limit entries with ids above after, oldest
// first.
func (s *ChangeStore) After(ctx context.Context, after int64, limit int) ([]Change, error) {
	var cs []Change
	err := s.read(ctx).Where("id > ?", after).Order("id").Limit(limit).Find(&cs).Error
	return cs, err
}

// IDRange returns the lowest and highest ids in the log (0, 0 when
// it is empty).
func (s *ChangeStore) IDRange(ctx context.Context) (first, last int64, err error) {
	err = rowOf(s.read(ctx).Raw("SELECT COALESCE(MIN(id), 0), COALESCE(MAX(id), 0) FROM change_log")).Scan(&first, &last)
	return first, last, err
}

// Prune deletes entries older than before and returns how many.
func (s *ChangeStore) Prune(ctx context.Context, before time.Time) (int64, error) {
	res := s.write(ctx).Where("created_at < ?", before.UTC()).Delete(&Change{})
	return res.RowsAffected, res.Error
}
