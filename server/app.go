package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/wharfhub/wharf/migrations"
	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/search"
	"github.com/wharfhub/wharf/server/auth"
	"github.com/wharfhub/wharf/server/clientaddr"
	"github.com/wharfhub/wharf/server/config"
	"github.com/wharfhub/wharf/server/content"
	"github.com/wharfhub/wharf/server/events"
	"github.com/wharfhub/wharf/server/gc"
	"github.com/wharfhub/wharf/server/hub"
	"github.com/wharfhub/wharf/server/indexer"
	"github.com/wharfhub/wharf/server/metrics"
	"github.com/wharfhub/wharf/server/storage"
	"github.com/wharfhub/wharf/server/webhook"
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
	Events   *events.Bus
	Indexer  *indexer.Indexer
	Webhooks *webhook.Worker
	// Throttle refuses logins after repeated failures.
	Throttle *auth.Throttle
	// ClientAddr is the one answer to "which address is calling", for
	// throttling and logs alike.
	ClientAddr *clientaddr.Resolver
	// GC collects garbage in the blob store (see gc.go in this package).
	GC *gc.Collector

	gcMetrics *metrics.GC

	searchIndex search.Index
	guard       *webhook.Guard

	web *web.Web
}

// Open opens the data directory (creating it), migrates the database and
// wires the services.
func Open(ctx context.Context, cfg *config.Config, log *slog.Logger) (*App, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	var db *models.DB
	var err error
	if cfg.Database != "" {
		db, err = models.OpenPostgres(cfg.Database)
	} else {
		db, err = models.OpenSQLite(filepath.Join(cfg.DataDir, "wharf.db"))
	}
	if err != nil {
		return nil, err
	}
	if err := migrations.Run(ctx, db.Writer()); err != nil {
		db.Close()
		return nil, err
	}
	clientAddr, err := clientaddr.Parse(cfg.TrustedProxies)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("trusted-proxies: %w", err)
	}
	store, err := openStore(ctx, cfg)
	if err != nil {
		db.Close()
		return nil, err
	}
	db.SetDefaultVisibility(cfg.DefaultVisibility)
	c := content.New(db, store, log)
	if cfg.UploadTTL > 0 {
		c.UploadTTL = cfg.UploadTTL
	}
	if cfg.MaxOpenUploads > 0 {
		c.MaxOpenUploads = cfg.MaxOpenUploads
	}
	policy := auth.NewPolicy(db)
	bus := events.New()
	c.Events = bus
	throttle := auth.NewThrottle(10, 15*time.Minute)
	if cfg.Database != "" {
		// PostgreSQL may serve several replicas: count failures there.
		throttle.Shared = db.Sessions
	}
	accounts := auth.NewAccounts(db, throttle)
	accounts.Events = bus
	a := &App{
		Config:   cfg,
		Log:      log,
		DB:       db,
		Store:    store,
		Content:  c,
		Accounts: accounts,
		Events:   bus,
		Policy:   policy,
		Hub:      hub.New(db, policy, bus),
	}
	a.Throttle, a.ClientAddr = throttle, clientAddr
	a.GC, a.gcMetrics = a.newGC()
	guard, err := webhook.ParseAllowList(cfg.WebhookAllowedHosts)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("webhook-allowed-hosts: %w", err)
	}
	a.Hub.SetWebhookURLCheck(func(ctx context.Context, raw string) error {
		// Refuse targets the guard refuses; a name that does not resolve
		// yet is accepted, since every delivery is checked when it dials.
		ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		if err := guard.CheckURL(ctx, raw); errors.Is(err, webhook.ErrRefused) {
			return err
		}
		return nil
	})
	a.guard = guard
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
	a.Tokens, err = auth.LoadTokens(context.Background(), a.DB.Site, filepath.Join(a.Config.DataDir, "auth"), a.Config.BaseURL, u.Host, a.Policy)
	return err
}

// Close releases the search index and the database.
func (a *App) Close() error {
	if a.searchIndex != nil {
		_ = a.searchIndex.Close()
	}
	return a.DB.Close()
}

// StartWebhooks starts the delivery worker; a push wakes it at once, and
// deliveries pending from before a restart go out too. tune, if given,
// adjusts the worker before it starts (tests poll faster).
func (a *App) StartWebhooks(ctx context.Context, tune ...func(*webhook.Worker)) {
	a.Webhooks = webhook.NewWorker(a.DB, webhook.NewClient(a.guard, 15*time.Second), a.Config.BaseURL, a.Log)
	for _, f := range tune {
		f(a.Webhooks)
	}
	a.Events.Subscribe(func(e events.Event) {
		switch e.Kind {
		case events.Push, events.TagDeleted, events.ManifestDeleted, events.RepositoryDeleted:
			a.Webhooks.Wake()
		}
	})
	go a.Webhooks.Run(ctx)
}

// searchDir is where the Bleve index lives.
func (a *App) searchDir() string { return filepath.Join(a.Config.DataDir, "search.bleve") }

// StartSearch opens (or creates, or replaces a corrupt) search index,
// subscribes it to events and keeps it up to date until ctx ends. A new
// index is rebuilt from the database in the background while serving.
func (a *App) StartSearch(ctx context.Context) error {
	ix, idx, err := indexer.Open(ctx, a.searchDir(), a.DB, a.Events, a.Log)
	if err != nil {
		return err
	}
	a.Indexer, a.searchIndex = ix, idx
	a.Hub.SetSearch(idx)
	go ix.Run(ctx)
	return nil
}

// Reindex rebuilds the search index from the database, from scratch.
func (a *App) Reindex(ctx context.Context) (int, error) {
	// Opening first fails fast if a running server holds the index.
	if old, _, err := search.OpenBleve(a.searchDir()); err == nil {
		old.Close()
	} else if !errors.Is(err, search.ErrCorrupt) {
		return 0, err
	}
	if err := search.RemoveBleve(a.searchDir()); err != nil {
		return 0, err
	}
	idx, _, err := search.OpenBleve(a.searchDir())
	if err != nil {
		return 0, err
	}
	a.searchIndex = idx
	ix := indexer.New(a.DB, idx, nil, a.Log)
	ix.PersistCursor(a.searchDir())
	return ix.Rebuild(ctx)
}
