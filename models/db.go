package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// ErrNotFound is returned when a looked-up row does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned when a row would duplicate a unique value.
var ErrConflict = errors.New("already exists")

// DB is the metadata store. Writes go through one connection in immediate
// transactions (SQLite allows one writer; queuing in Go beats SQLITE_BUSY),
// reads go through a pool.
type DB struct {
	w *gorm.DB
	r *gorm.DB
	// visibility of repositories created by a push
	visibility string
}

// SetDefaultVisibility sets the visibility of repositories that a push
// creates.
func (db *DB) SetDefaultVisibility(v string) { db.visibility = v }

func (db *DB) defaultVisibility() string {
	if db.visibility == "" {
		return VisibilityPublic
	}
	return db.visibility
}

// Writer exposes the write handle, for migrations.
func (db *DB) Writer() *gorm.DB { return db.w }

// OpenSQLite opens (creating if needed) the SQLite database at path with
// WAL, synchronous=NORMAL, a busy timeout and foreign keys.
func OpenSQLite(path string) (*DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "NORMAL")
	q.Set("_busy_timeout", "10000")
	q.Set("_foreign_keys", "on")
	q.Set("_txlock", "immediate")
	cfg := &gorm.Config{
		SkipDefaultTransaction: true,
		Logger:                 logger.Discard,
	}
	w, err := gorm.Open(sqlite.Open("file:"+abs+"?"+q.Encode()), cfg)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	wsql, err := w.DB()
	if err != nil {
		return nil, err
	}
	wsql.SetMaxOpenConns(1)
	wsql.SetMaxIdleConns(1)
	wsql.SetConnMaxLifetime(0)

	q.Set("_txlock", "deferred")
	q.Set("_query_only", "true")
	rcfg := *cfg
	rcfg.PrepareStmt = true
	r, err := gorm.Open(sqlite.Open("file:"+abs+"?"+q.Encode()), &rcfg)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	rsql, err := r.DB()
	if err != nil {
		return nil, err
	}
	rsql.SetMaxOpenConns(8)
	rsql.SetMaxIdleConns(8)
	rsql.SetConnMaxLifetime(0)
	return &DB{w: w, r: r}, nil
}

// Close closes both handles.
func (db *DB) Close() error {
	var errs []error
	handles := []*gorm.DB{db.w, db.r}
	if db.w == db.r {
		handles = handles[:1]
	}
	for _, g := range handles {
		if s, err := g.DB(); err == nil {
			errs = append(errs, s.Close())
		}
	}
	return errors.Join(errs...)
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	s, err := db.r.DB()
	if err != nil {
		return err
	}
	return s.PingContext(ctx)
}

func (db *DB) read(ctx context.Context) *gorm.DB  { return db.r.WithContext(ctx) }
func (db *DB) write(ctx context.Context) *gorm.DB { return db.w.WithContext(ctx) }

// tx runs fn in one write transaction.
func (db *DB) tx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return db.w.WithContext(ctx).Transaction(fn)
}

func notFound(err error) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return ErrNotFound
	}
	return err
}

// ErrLastOwner is returned when a change would leave an organization
// without an owner.
var ErrLastOwner = errors.New("an organization needs at least one owner")

// OnQuery calls fn after every query either handle runs (reads, raw rows
// and writes' reads): tests count queries with it to catch work that
// grows with the data.
func (db *DB) OnQuery(fn func()) {
	handles := []*gorm.DB{db.r}
	if db.w != db.r {
		handles = append(handles, db.w)
	}
	for i, g := range handles {
		name := fmt.Sprintf("wharf:on_query_%p_%d", fn, i)
		_ = g.Callback().Query().After("gorm:query").Register(name, func(*gorm.DB) { fn() })
		_ = g.Callback().Row().After("gorm:row").Register(name, func(*gorm.DB) { fn() })
	}
}

// row is the one row a query answers. Unlike gorm's Row, which hands back
// a nil *sql.Row (and so a panic on Scan) when the query cannot run, for
// example once the database is closed, it returns the query's error.
type row struct{ q *gorm.DB }

func rowOf(q *gorm.DB) row { return row{q} }

// Scan reads the row into dest; no row is sql.ErrNoRows.
func (r row) Scan(dest ...any) error {
	rows, err := r.q.Rows()
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	if err := rows.Scan(dest...); err != nil {
		return err
	}
	return rows.Close()
}
