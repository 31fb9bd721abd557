package server

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/wharfhub/wharf/migrations"
	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/auth"
	"github.com/wharfhub/wharf/server/config"
	"github.com/wharfhub/wharf/server/content"
	"github.com/wharfhub/wharf/server/storage"
	"github.com/wharfhub/wharf/server/storage/filesystem"
)

// App is Wharf's services, wired.
type App struct {
	Config   *config.Config
	Log      *slog.Logger
	DB       *models.DB
	Store    storage.Driver
	Content  *content.Service
	Accounts *auth.Accounts
	Policy   *auth.Policy
}

// Open opens the data directory (creating it), migrates the database and
// wires the services.
func Open(ctx context.Context, cfg *config.Config, log *slog.Logger) (*App, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	db, err := models.OpenSQLite(filepath.Join(cfg.DataDir, "wharf.db"))
	if err != nil {
		return nil, err
	}
	if err := migrations.Run(ctx, db.Writer()); err != nil {
		db.Close()
		return nil, err
	}
	store, err := filesystem.New(cfg.DataDir)
	if err != nil {
		db.Close()
		return nil, err
	}
	c := content.New(db, store, log)
	if cfg.UploadTTL > 0 {
		c.UploadTTL = cfg.UploadTTL
	}
	return &App{
		Config:   cfg,
		Log:      log,
		DB:       db,
		Store:    store,
		Content:  c,
		Accounts: auth.NewAccounts(db),
		Policy:   auth.NewPolicy(),
	}, nil
}

// Close releases the database.
func (a *App) Close() error { return a.DB.Close() }
