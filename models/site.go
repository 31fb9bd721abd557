package models

import (
	"context"
	"time"

	"gorm.io/gorm/clause"
)

// SiteStore coordinates replicas: secrets they must share, and turns at
// periodic jobs that one of them should run at a time.
type SiteStore struct{ *conn }

// SiteSecret is a secret every replica must share, such as the token
// signing key.
type SiteSecret struct {
	Name      string `gorm:"primaryKey"`
	Value     []byte
	CreatedAt time.Time
}

// Secret returns the secret called name, storing the result of generate
// when there is none yet. Replicas starting together agree on one value:
// the first insert wins and everyone reads it back.
func (s *SiteStore) Secret(ctx context.Context, name string, generate func() ([]byte, error)) ([]byte, error) {
	var sec SiteSecret
	err := s.write(ctx).Where("name = ?", name).Take(&sec).Error
	if err == nil {
		return sec.Value, nil
	}
	if err := notFound(err); err != ErrNotFound {
		return nil, err
	}
	v, err := generate()
	if err != nil {
		return nil, err
	}
	if err := s.write(ctx).Clauses(clause.OnConflict{DoNothing: true}).
		Create(&SiteSecret{Name: name, Value: v, CreatedAt: time.Now().UTC()}).Error; err != nil {
		return nil, err
	}
	if err := s.write(ctx).Where("name = ?", name).Take(&sec).Error; err != nil {
		return nil, err
	}
	return sec.Value, nil
}

// TakeTurn claims the periodic job name for holder until until, unless
// another holder's claim is still running at now. It reports whether the
// turn is holder's; of replicas asking at once, one gets it.
func (s *SiteStore) TakeTurn(ctx context.Context, name, holder string, now, until time.Time) (bool, error) {
	res := s.write(ctx).Exec(`INSERT INTO turns (name, holder, until_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until_at = excluded.until_at
		WHERE turns.until_at <= ? OR turns.holder = excluded.holder`,
		name, holder, until.UTC(), now.UTC())
	return res.RowsAffected == 1, res.Error
}

// SiteCacheEntry is one value of the shared cache.
type SiteCacheEntry struct {
	Name      string `gorm:"primaryKey"`
	Value     []byte
	UpdatedAt time.Time
}

// TableName is the cache's table.
func (SiteCacheEntry) TableName() string { return "site_cache" }

// CacheGet returns the cached value called name, or ErrNotFound.
func (s *SiteStore) CacheGet(ctx context.Context, name string) ([]byte, error) {
	var e SiteCacheEntry
	if err := s.write(ctx).Where("name = ?", name).Take(&e).Error; err != nil {
		return nil, notFound(err)
	}
	return e.Value, nil
}

// CachePut stores value under name, replacing what was there.
func (s *SiteStore) CachePut(ctx context.Context, name string, value []byte) error {
	return s.write(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "name"}},
		DoUpdates: clause.AssignmentColumns([]string{"value", "updated_at"}),
	}).Create(&SiteCacheEntry{Name: name, Value: value, UpdatedAt: time.Now().UTC()}).Error
}

// CacheDelete removes the value called name, if any.
func (s *SiteStore) CacheDelete(ctx context.Context, name string) error {
	return s.write(ctx).Where("name = ?", name).Delete(&SiteCacheEntry{}).Error
}
