package models

import (
	"context"
	"strings"
	"time"

	"gorm.io/gorm"
)

// StarStore keeps users' stars on repositories and each repository's star
// count with them.
type StarStore struct{ *conn }

// Star is a user's star on a repository. repositories.star_count is kept
// equal to the number of these rows: Add and Remove change both in one
// immediate write transaction.
type Star struct {
	UserID       int64 `gorm:"primaryKey"`
	RepositoryID int64 `gorm:"primaryKey"`
	CreatedAt    time.Time
}

// Add stars repository repoID as userID and returns the repository's star
// count. Starring twice changes nothing. A missing user or repository is
// ErrNotFound.
func (s *StarStore) Add(ctx context.Context, userID, repoID int64) (int64, error) {
	var count int64
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := lockRepository(tx, repoID); err != nil {
			return err
		}
		res := tx.Exec("INSERT INTO stars (user_id, repository_id, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
			userID, repoID, time.Now().UTC())
		if res.Error != nil {
			return res.Error
		}
		return setStarCount(tx, repoID, res.RowsAffected > 0, &count)
	})
	if err != nil && isForeignKeyViolation(err) {
		return 0, ErrNotFound
	}
	return count, err
}

// Remove removes userID's star from repository repoID, if there is one, and
// returns the repository's star count.
func (s *StarStore) Remove(ctx context.Context, userID, repoID int64) (int64, error) {
	var count int64
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := lockRepository(tx, repoID); err != nil {
			return err
		}
		res := tx.Exec("DELETE FROM stars WHERE user_id = ? AND repository_id = ?", userID, repoID)
		if res.Error != nil {
			return res.Error
		}
		return setStarCount(tx, repoID, res.RowsAffected > 0, &count)
	})
	return count, err
}

// lockRepository takes the repository's row lock for the transaction, so
// that concurrent star changes recount one after the other (SQLite's one
// writer does this anyway; PostgreSQL needs it under READ COMMITTED).
func lockRepository(tx *gorm.DB, repoID int64) error {
	res := tx.Exec("UPDATE repositories SET star_count = star_count WHERE id = ?", repoID)
	if res.Error == nil && res.RowsAffected == 0 {
		return ErrNotFound
	}
	return res.Error
}

// setStarCount recounts a repository's stars when they changed (a recount,
// not an increment, so a count that drifted heals on the next change) and
// reads the count into count. A missing repository is ErrNotFound.
func setStarCount(tx *gorm.DB, repoID int64, changed bool, count *int64) error {
	if changed {
		err := tx.Exec("UPDATE repositories SET star_count = (SELECT COUNT(*) FROM stars WHERE repository_id = ?) WHERE id = ?",
			repoID, repoID).Error
		if err != nil {
			return err
		}
	}
	var counts []int64
	if err := tx.Raw("SELECT star_count FROM repositories WHERE id = ?", repoID).Scan(&counts).Error; err != nil {
		return err
	}
	if len(counts) == 0 {
		return ErrNotFound
	}
	*count = counts[0]
	return nil
}

// Has reports whether userID starred repository repoID.
func (s *StarStore) Has(ctx context.Context, userID, repoID int64) (bool, error) {
	var n int64
	err := s.read(ctx).Model(&Star{}).Where("user_id = ? AND repository_id = ?", userID, repoID).Count(&n).Error
	return n > 0, err
}

// Stargazers lists the names of the users who starred repository
// repoID, the most recent first.
func (s *StarStore) Stargazers(ctx context.Context, repoID int64, limit, offset int) ([]string, error) {
	names := []string{}
	err := s.read(ctx).Table("stars s").Joins("JOIN users u ON u.id = s.user_id").
		Where("s.repository_id = ?", repoID).Order("s.created_at DESC, s.user_id DESC").
		Limit(limit).Offset(offset).Pluck("u.username", &names).Error
	return names, err
}

// OfUser lists the repositories userID starred, the most
// recently starred first, whoever may see them: callers filter.
func (s *StarStore) OfUser(ctx context.Context, userID int64, limit, offset int) ([]Repository, error) {
	repos := []Repository{}
	err := s.read(ctx).Table("stars s").Select("r.*").Joins("JOIN repositories r ON r.id = s.repository_id").
		Where("s.user_id = ?", userID).Order("s.created_at DESC, s.repository_id DESC").
		Limit(limit).Offset(offset).Find(&repos).Error
	return repos, err
}

func isForeignKeyViolation(err error) bool {
	s := err.Error()
	return strings.Contains(s, "FOREIGN KEY constraint failed") || strings.Contains(s, "violates foreign key constraint")
}
