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

// DB is the metadata store: the connection, and one store per aggregate
// over it. Writes go through one connection in immediate transactions
// (SQLite allows one writer; queuing in Go beats SQLITE_BUSY), reads go
// through a pool.
type DB struct {
	c *conn

	// Who: accounts, their tokens and sessions, organizations, and the
	// namespaces both own (with quotas).
	Users      *UserStore
	Tokens     *TokenStore
	Sessions   *SessionStore
	Resets     *ResetStore
	Orgs       *OrgStore
	Namespaces *NamespaceStore

	// What the registry serves: repositories and their content.
	Repositories *RepositoryStore
	Tags         *TagStore
	Manifests    *ManifestStore
	Blobs        *BlobStore
	Uploads      *UploadStore
	GC           *GCStore

	// What the hub adds.
	Stars    *StarStore
	Watches  *WatchStore
	Comments *CommentStore
	Readmes  *ReadmeStore

	// Who hears of changes: webhooks and their outbox, the search
	// index's change log, and what replicas agree on.
	Webhooks   *WebhookStore
	Deliveries *DeliveryStore
	Changes    *ChangeStore
	Site       *SiteStore
	Mirrors    *MirrorStore

	// What to trust: signing keys, what verifying signatures found, the
	// policies pulls must pass, and the queue of that work.
	SigningKeys *SigningKeyStore
	Signatures  *SignatureStore
	Policies    *PolicyStore
	Jobs        *JobStore
	// Scans are what scanning found; ScannerDBs the vulnerability
	// databases it uses.
	Scans      *ScanStore
	ScannerDBs *ScannerDBStore
	// Immutables are the rules that keep tags from moving or going.
	Immutables *ImmutableStore
	// Retention are the policies that prune tags and untagged
	// manifests, with their runs.
	Retention *RetentionStore
	// Robots are the namespaces' machine accounts.
	Robots *RobotStore
	// Teams are the organizations' teams.
	Teams *TeamStore
	// Audit is the audit log.
	Audit *AuditStore
}

// conn is what every store shares: the write and read handles and the
// visibility of repositories that a push creates.
type conn struct {
	w *gorm.DB
	r *gorm.DB
	// visibility of repositories created by a push
	visibility string
}

// Options are a database's settings beyond its address.
type Options struct {
	// DefaultVisibility is the visibility of repositories that a push
	// creates: public (the default) or private.
	DefaultVisibility string
}

func optionsOf(opts []Options) Options {
	if len(opts) == 0 {
		return Options{}
	}
	return opts[0]
}

// newDB makes the stores over one connection.
func newDB(w, r *gorm.DB, opts Options) *DB {
	c := &conn{w: w, r: r, visibility: opts.DefaultVisibility}
	// Only a duplicate name fails, and these names are this package's.
	_ = registerAuditCallbacks(w)
	return &DB{
		c:            c,
		Users:        &UserStore{c},
		Tokens:       &TokenStore{c},
		Resets:       &ResetStore{c},
		Sessions:     &SessionStore{c},
		Orgs:         &OrgStore{c},
		Namespaces:   &NamespaceStore{c},
		Repositories: &RepositoryStore{c},
		Tags:         &TagStore{c},
		Manifests:    &ManifestStore{c},
		Blobs:        &BlobStore{c},
		Uploads:      &UploadStore{c},
		GC:           &GCStore{c},
		Watches:      &WatchStore{c},
		Stars:        &StarStore{c},
		Comments:     &CommentStore{c},
		Readmes:      &ReadmeStore{c},
		Webhooks:     &WebhookStore{c},
		Deliveries:   &DeliveryStore{c},
		Changes:      &ChangeStore{c},
		Site:         &SiteStore{c},
		Mirrors:      &MirrorStore{c},
		SigningKeys:  &SigningKeyStore{c},
		Signatures:   &SignatureStore{c},
		Policies:     &PolicyStore{c},
		Jobs:         &JobStore{c},
		Scans:        &ScanStore{c},
		ScannerDBs:   &ScannerDBStore{c},
		Immutables:   &ImmutableStore{c},
		Retention:    &RetentionStore{c},
		Robots:       &RobotStore{c},
		Teams:        &TeamStore{c},
		Audit:        &AuditStore{c},
	}
}

func (c *conn) defaultVisibility() string {
	if c.visibility == "" {
		return VisibilityPublic
	}
	return c.visibility
}

// Writer exposes the write handle, for migrations.
func (db *DB) Writer() *gorm.DB { return db.c.w }

// OpenSQLite opens (creating if needed) the SQLite database at path with
// WAL, synchronous=NORMAL, a busy timeout and foreign keys.
func OpenSQLite(path string, opts ...Options) (*DB, error) {
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
	return newDB(w, r, optionsOf(opts)), nil
}

// Close closes both handles.
func (db *DB) Close() error {
	var errs []error
	handles := []*gorm.DB{db.c.w, db.c.r}
	if db.c.w == db.c.r {
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
	s, err := db.c.r.DB()
	if err != nil {
		return err
	}
	return s.PingContext(ctx)
}

func (c *conn) read(ctx context.Context) *gorm.DB  { return c.r.WithContext(ctx) }
func (c *conn) write(ctx context.Context) *gorm.DB { return c.w.WithContext(ctx) }

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
	handles := []*gorm.DB{db.c.r}
	if db.c.w != db.c.r {
		handles = append(handles, db.c.w)
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
