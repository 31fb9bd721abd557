package models

import (
	"context"
	"time"

	"gorm.io/gorm/clause"
)

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
func (db *DB) Secret(ctx context.Context, name string, generate func() ([]byte, error)) ([]byte, error) {
	var s SiteSecret
	err := db.write(ctx).Where("name = ?", name).Take(&s).Error
	if err == nil {
		return s.Value, nil
	}
	if err := notFound(err); err != ErrNotFound {
		return nil, err
	}
	v, err := generate()
	if err != nil {
		return nil, err
	}
	if err := db.write(ctx).Clauses(clause.OnConflict{DoNothing: true}).
		Create(&SiteSecret{Name: name, Value: v, CreatedAt: time.Now().UTC()}).Error; err != nil {
		return nil, err
	}
	if err := db.write(ctx).Where("name = ?", name).Take(&s).Error; err != nil {
		return nil, err
	}
	return s.Value, nil
}
