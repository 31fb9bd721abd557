package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/opencontainers/go-digest"

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
	"github.com/wharfhub/wharf/server/mail"
	"github.com/wharfhub/wharf/server/metrics"
	"github.com/wharfhub/wharf/server/mirror"
	"github.com/wharfhub/wharf/server/retention"
	"github.com/wharfhub/wharf/server/scan"
	"github.com/wharfhub/wharf/server/storage"
	"github.com/wharfhub/wharf/server/trust"
	"github.com/wharfhub/wharf/server/webhook"
	"github.com/wharfhub/wharf/web"
)

// App is Wharf's services, wired once by Open and read-only after: Run
// runs its background workers, Serve serves it, Close releases it.
type App struct {
	Config   *config.Config
	Log      *slog.Logger
	DB       *models.DB
	Store    storage.Driver
	Content  *content.Service
	Accounts *auth.Accounts
	Policy   *auth.Policy
	// Tokens is nil when no base URL is known (the admin commands).
	Tokens *auth.Tokens
	Hub    *hub.Service
	Events *events.Bus
	// Indexer is nil unless Options.Search opened the index.
	Indexer  *indexer.Indexer
	Webhooks *webhook.Worker
	// Throttle refuses logins after repeated failures.
	Throttle *auth.Throttle
	// ClientAddr is the one answer to "which address is calling", for
	// throttling and logs alike.
	ClientAddr *clientaddr.Resolver
	// GC collects garbage in the blob store (see gc.go in this package).
	GC *gc.Collector
	// Mirrors serve the mirror namespaces; MirrorCatalog defines them
	// (--mirror, and the API).
	Mirrors       *mirror.Service
	MirrorCatalog *mirror.Catalog
	// Gate holds pulls to their repository's policy; Jobs runs the work
	// queued off the request path (verifying signatures).
	Gate *trust.Gate
	Jobs *trust.Worker
	// Recovery issues and redeems password reset links.
	Recovery *auth.Recovery
	// gcLast is this replica's last garbage collection, for the health
	// page.
	gcLast lastGC
	// SSO signs people in through --oidc-issuer (nil without it).
	SSO *auth.SSO
	// pushNotices mail watchers the tags pushed (nil without mail).
	pushNotices *hub.PushNotices
	// Mail sends mail through --smtp-addr (nil without it).
	Mail *mail.Queue
	// Retention runs the retention policies.
	Retention *retention.Runner
	// Scan scans images for vulnerabilities (its Enabled is false without
	// a scanner) and imports the scanner's database.
	Scan *scan.Service

	gcMetrics   *metrics.GC
	searchIndex search.Index
	listener    net.Listener
	// serving is the address Serve listens on (a net.Addr), for the
	// scanner to pull from.
	serving atomic.Value
	// tls is nil unless HTTPS is served.
	tls *serverTLS
	// web is nil when no base URL is known.
	web *web.Web
}

// Options are what a caller of Open chooses besides the configuration.
type Options struct {
	// Search opens the search index, which Run then keeps up to date.
	// The admin commands leave it closed, so that they run beside a
	// server that holds it.
	Search bool
	// Listener, if set, is where Serve accepts connections; with no
	// configured base URL, its address makes one.
	Listener net.Listener
	// Webhooks tune the delivery worker (tests poll faster).
	Webhooks webhook.WorkerOptions
	// WebhookTimeout bounds one delivery attempt (15s).
	WebhookTimeout time.Duration
	// LoginLimit is how many failed logins a name may have in 15 minutes
	// before logins are refused (10; an address may have ten times as
	// many).
	LoginLimit int
	// ACMEClient, if set, talks to the ACME server (tests trust their
	// test server's root with it).
	ACMEClient *http.Client
	// Jobs tune the job worker (tests poll faster).
	Jobs trust.WorkerOptions
	// Scan looks for the scanner (--scanner-trivy, or trivy on PATH), so
	// that pushed images are scanned. The admin commands leave it off.
	Scan bool
}

// Open opens the data directory (creating it), migrates the database and
// wires the services. Nothing runs until Run or Serve.
func Open(ctx context.Context, cfg *config.Config, log *slog.Logger, opts Options) (_ *App, err error) {
	cfg = new(*cfg) // Open fills in the base URL; the caller's copy stays
	if cfg.BaseURL == "" {
		cfg.BaseURL = defaultBaseURL(cfg.TLS, opts.Listener)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	var db *models.DB
	if cfg.Database != "" {
		db, err = models.OpenPostgres(cfg.Database, models.Options{DefaultVisibility: cfg.DefaultVisibility})
	} else {
		db, err = models.OpenSQLite(filepath.Join(cfg.DataDir, "wharf.db"), models.Options{DefaultVisibility: cfg.DefaultVisibility})
	}
	if err != nil {
		return nil, err
	}
	a := &App{Config: cfg, Log: log, DB: db, listener: opts.Listener}
	defer func() {
		if err != nil {
			_ = a.Close()
		}
	}()
	if err := a.openTLS(opts); err != nil {
		return nil, err
	}
	if err := migrations.Run(ctx, db.Writer()); err != nil {
		return nil, err
	}
	if a.ClientAddr, err = clientaddr.Parse(cfg.TrustedProxies); err != nil {
		return nil, fmt.Errorf("trusted-proxies: %w", err)
	}
	if a.Store, err = openStore(ctx, cfg); err != nil {
		return nil, err
	}
	guard, err := webhook.ParseAllowList(cfg.WebhookAllowedHosts)
	if err != nil {
		return nil, fmt.Errorf("webhook-allowed-hosts: %w", err)
	}

	var scanner scan.Scanner
	if opts.Scan {
		if scanner, err = findScanner(ctx, cfg, log); err != nil {
			return nil, err
		}
	}
	a.Events = events.New()
	a.Content = content.New(db, a.Store, log, content.Options{
		UploadTTL: cfg.UploadTTL, MaxOpenUploads: cfg.MaxOpenUploads, Events: a.Events, Scan: scanner != nil,
	})
	a.Scan = newScan(a, scanner)
	a.Policy = auth.NewPolicy(db, auth.PolicyOptions{RootMirror: cfg.RegistryMirror,
		IsMirror: func(ns string) bool { return a.Mirrors != nil && a.Mirrors.IsNamespace(ns) }})
	if err := a.openMirrors(ctx); err != nil {
		return nil, err
	}
	var shared auth.FailureStore
	if cfg.Database != "" {
		// PostgreSQL may serve several replicas: count failures there.
		shared = db.Sessions
	}
	a.Throttle = auth.NewThrottle(cmp.Or(opts.LoginLimit, 10), 15*time.Minute, shared)
	a.Accounts = auth.NewAccounts(db, a.Throttle, a.Events)
	a.Recovery = auth.NewRecovery(a.Accounts, cfg.BaseURL, 0)
	if o := cfg.OIDC; o.Issuer != "" {
		a.SSO = auth.NewSSO(a.Accounts, auth.SSOConfig{Issuer: o.Issuer, ClientID: o.ClientID, ClientSecret: o.ClientSecret,
			RedirectURL: strings.TrimRight(cfg.BaseURL, "/") + "/signin/sso/callback", Scopes: o.Scopes,
			UsernameClaim: o.UsernameClaim, GroupsClaim: o.GroupsClaim, RequireVerifiedEmail: o.RequireVerifiedEmail})
		a.Accounts.PasswordsForAdminsOnly = o.Only
	}
	if cfg.SMTP.Addr != "" {
		a.Mail = mail.NewQueue(&mail.SMTP{Addr: cfg.SMTP.Addr, From: cfg.SMTP.From, Username: cfg.SMTP.Username,
			Password: cfg.SMTP.Password, TLS: cfg.SMTP.TLS}, log, 1000)
		send := func(to, subject, body string) bool {
			return a.Mail.Enqueue(mail.Message{To: to, Subject: subject, Body: body})
		}
		a.Recovery.WithMail(send)
		a.Accounts.Notices = auth.NewNotices(send, strings.TrimRight(cfg.BaseURL, "/"))
		a.pushNotices = hub.NewPushNotices(db, a.Policy, send, strings.TrimRight(cfg.BaseURL, "/"), log)
		a.Events.Subscribe(a.pushNotices.Offer)
	}
	a.GC, a.gcMetrics = a.newGC()
	if opts.Search {
		if a.Indexer, a.searchIndex, err = indexer.Open(ctx, a.searchDir(), db, a.Events, log); err != nil {
			return nil, err
		}
	}
	a.Retention = retention.New(db, log, nil)
	a.Hub = hub.New(db, a.Policy, a.Events, hub.Options{Search: a.searchIndex, CheckWebhookURL: webhookURLCheck(guard),
		Mirrors: a.Mirrors, RootMirror: cfg.RegistryMirror, Scanner: a.Scan, Retention: a.Retention,
		Blobs: func(ctx context.Context, name string, d digest.Digest) (io.ReadCloser, error) {
			return a.Content.Blobs.Open(ctx, name, d)
		}})
	a.Webhooks = a.newWebhooks(guard, opts)
	a.Gate, a.Jobs = a.newTrust(opts)
	if cfg.BaseURL != "" {
		if err := a.openSite(); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// webhookURLCheck refuses targets the guard refuses; a name that does not
// resolve yet is accepted, since every delivery is checked when it dials.
func webhookURLCheck(guard *webhook.Guard) func(ctx context.Context, raw string) error {
	return func(ctx context.Context, raw string) error {
		ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		if err := guard.CheckURL(ctx, raw); errors.Is(err, webhook.ErrRefused) {
			return err
		}
		return nil
	}
}

// newWebhooks makes the delivery worker; a push wakes it at once, and
// deliveries pending from before a restart go out when it runs.
func (a *App) newWebhooks(guard *webhook.Guard, opts Options) *webhook.Worker {
	timeout := opts.WebhookTimeout
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	w := webhook.NewWorker(a.DB, webhook.NewClient(guard, timeout), a.Config.BaseURL, a.Log, opts.Webhooks)
	a.Events.Subscribe(func(e events.Event) {
		switch e.Kind {
		case events.Push, events.TagDeleted, events.ManifestDeleted, events.RepositoryDeleted:
			w.Wake()
		}
	})
	return w
}

// newTrust makes the policy gate and the job worker with the signature
// jobs; a push or a change of keys or policy wakes the worker, and a
// change of a repository's (or a namespace's) keys or policy makes the
// gate read its policy again.
func (a *App) newTrust(opts Options) (*trust.Gate, *trust.Worker) {
	gate := trust.NewGate(a.DB, a.Log)
	w := trust.NewWorker(a.DB, a.Log, opts.Jobs)
	v := trust.NewVerifier(a.DB, func(ctx context.Context, name string, d digest.Digest) (io.ReadCloser, error) {
		return a.Content.Blobs.Open(ctx, name, d)
	})
	for kind, h := range v.Handlers(a.Log) {
		w.Handle(kind, h)
	}
	if a.Scan.Enabled() {
		w.Handle(models.JobScan, a.Scan.Handle)
	}
	a.Events.Subscribe(func(e events.Event) {
		switch e.Kind {
		case events.Push:
			w.Wake()
		case events.TrustChanged:
			gate.Forget(e.Repository) // all, for a namespace's
			w.Wake()
		}
	})
	return gate, w
}

// openSite sets up what serving needs to know the public URL for: the
// token service (whose audience is the URL's host) and the web UI.
func (a *App) openSite() error {
	u, err := url.Parse(a.Config.BaseURL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("base-url %q is not an absolute http(s) URL", a.Config.BaseURL)
	}
	keys := filepath.Join(a.Config.DataDir, "auth")
	if a.Tokens, err = auth.LoadTokens(context.Background(), a.DB.Site, keys, a.Config.BaseURL, u.Host, a.Policy); err != nil {
		return err
	}
	a.web, err = web.New(web.Config{
		BaseURL: a.Config.BaseURL, AllowSignup: a.Config.AllowSignup && !a.Config.OIDC.Only, RegistryHost: u.Host,
		SessionKeyDir: keys, ClientAddr: a.ClientAddr, Recovery: a.Recovery,
		SSO: a.SSO, SSOName: a.Config.OIDC.Name, PasswordsOff: a.Config.OIDC.Only, Health: healthChecks(a),
	}, a.Hub, a.Accounts, a.MirrorCatalog, a.DB, a.Log)
	return err
}

// Close releases the search index and then the database. Call it only
// once Run (or Serve) has returned: nothing may use them after.
func (a *App) Close() error {
	var errs []error
	if a.searchIndex != nil {
		errs = append(errs, a.searchIndex.Close())
	}
	if a.listener != nil {
		_ = a.listener.Close() // Serve closed it already, if it ran
	}
	errs = append(errs, a.DB.Close())
	return errors.Join(errs...)
}

// searchDir is where the Bleve index lives.
func (a *App) searchDir() string { return filepath.Join(a.Config.DataDir, "search.bleve") }

// Reindex rebuilds the search index from the database, from scratch.
func (a *App) Reindex(ctx context.Context) (int, error) {
	if a.searchIndex != nil {
		return 0, errors.New("reindex: the app holds the index open")
	}
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
