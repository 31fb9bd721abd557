package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/wharfhub/wharf/migrations"
	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/auth"
	"github.com/wharfhub/wharf/server/config"
	"github.com/wharfhub/wharf/server/content"
	"github.com/wharfhub/wharf/server/hub"
	"github.com/wharfhub/wharf/server/storage"
	"github.com/wharfhub/wharf/server/storage/filesystem"
	"github.com/wharfhub/wharf/web"
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
	Tokens   *auth.Tokens
	Hub      *hub.Service

	web *web.Web
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
	db.SetDefaultVisibility(cfg.DefaultVisibility)
	c := content.New(db, store, log)
	if cfg.UploadTTL > 0 {
		c.UploadTTL = cfg.UploadTTL
	}
	policy := auth.NewPolicy(db)
	a := &App{
		Config:   cfg,
		Log:      log,
		DB:       db,
		Store:    store,
		Content:  c,
		Accounts: auth.NewAccounts(db, auth.NewThrottle(10, 15*time.Minute)),
		Policy:   policy,
		Hub:      hub.New(db, policy),
	}
	if cfg.BaseURL != "" {
		if err := a.loadTokens(); err != nil {
			db.Close()
			return nil, err
		}
	}
	return a, nil
}

// loadTokens sets up the token service for the configured base URL, whose
// host is the token audience.
func (a *App) loadTokens() error {
	u, err := url.Parse(a.Config.BaseURL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("base-url %q is not an absolute http(s) URL", a.Config.BaseURL)
	}
	a.Tokens, err = auth.LoadTokens(filepath.Join(a.Config.DataDir, "auth"), a.Config.BaseURL, u.Host, a.Policy)
	return err
}

// Close releases the database.
func (a *App) Close() error { return a.DB.Close() }
