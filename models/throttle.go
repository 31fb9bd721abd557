package models

import (
	"context"
	"math/rand/v2"
	"time"
)

// LoginFailure is one failed login, counted against one key of the login
// throttle (a name from an address, or an address). Rows older than the
// throttle's window are pruned as failures are recorded.
type LoginFailure struct {
	ID          int64 `gorm:"primaryKey"`
	ThrottleKey string
	FailedAt    time.Time
}

// LoginFailures counts the failures of key since since, and returns the
// oldest of them.
func (s *SessionStore) LoginFailures(ctx context.Context, key string, since time.Time) (int64, time.Time, error) {
	var n int64
	q := s.read(ctx).Model(&LoginFailure{}).Where("throttle_key = ? AND failed_at > ?", key, since.UTC())
	if err := q.Count(&n).Error; err != nil || n == 0 {
		return n, time.Time{}, err
	}
	var oldest LoginFailure
	err := s.read(ctx).Where("throttle_key = ? AND failed_at > ?", key, since.UTC()).Order("failed_at").Take(&oldest).Error
	return n, oldest.FailedAt, err
}

// RecordLoginFailure records a failure against each key, and now and then
// forgets failures older than keep.
func (s *SessionStore) RecordLoginFailure(ctx context.Context, keys []string, at time.Time, keep time.Duration) error {
	rows := make([]LoginFailure, len(keys))
	for i, k := range keys {
		rows[i] = LoginFailure{ThrottleKey: k, FailedAt: at.UTC()}
	}
	if err := s.write(ctx).Create(&rows).Error; err != nil {
		return err
	}
	if rand.IntN(100) == 0 {
		return s.write(ctx).Where("failed_at < ?", at.Add(-keep).UTC()).Delete(&LoginFailure{}).Error
	}
	return nil
}
