package models

import (
	"fmt"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// OpenPostgres opens a PostgreSQL database (a postgres:// URL). Readers
// and the writer share one pool: PostgreSQL takes concurrent writers.
func OpenPostgres(dsn string, opts ...Options) (*DB, error) {
	g, err := gorm.Open(postgres.Open(dsn), &gorm.Config{SkipDefaultTransaction: true, Logger: logger.Discard})
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	s, err := g.DB()
	if err != nil {
		return nil, err
	}
	s.SetMaxOpenConns(16)
	s.SetMaxIdleConns(16)
	return newDB(g, g, optionsOf(opts)), nil
}
