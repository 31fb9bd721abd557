package web

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/auth"
	"github.com/wharfhub/wharf/server/bodylimit"
	"github.com/wharfhub/wharf/server/clientaddr"
	"github.com/wharfhub/wharf/server/hub"
	"github.com/wharfhub/wharf/server/mirror"
	"github.com/wharfhub/wharf/server/reqlog"
	"github.com/wharfhub/wharf/static"
	"github.com/wharfhub/wharf/templates"
)

// Config is what the pages need to know about the server.
type Config struct {
	BaseURL       string
	DataDir       string
	AllowSignup   bool
	RegistryHost  string // host[:port] shown in pull commands
	SessionKeyDir string
	// SearchEnabled shows the search box; it follows the hub's index.
	SearchEnabled bool
	// ClientAddr finds the address that login throttling counts against.
	ClientAddr *clientaddr.Resolver
	// Recovery redeems password reset links (none served if nil).
	Recovery *auth.Recovery
	// SSO signs people in through an OpenID Connect provider (none if
	// nil), SSOName is what its button says; PasswordsOff hides the
	// password form, but for a site administrators' way in.
	SSO          *auth.SSO
	SSOName      string
	PasswordsOff bool
	// Health looks at the server's parts for the admin console (none
	// shown if nil).
	Health HealthFunc
}

// Web is the hub UI: the routes (Register) over one page type per area,
// each holding only the services it uses, and a renderer they share.
type Web struct {
	*renderer
	account    *accountPages
	explore    *explorePages
	org        *orgPages
	repo       *repoPages
	search     *searchPages
	webhooks   *hookPages
	trust      *trustPages
	admin      *adminPages
	users      *adminUsers
	namespaces *adminNamespaces
	robotPages *robotPages
	teamPages  *teamPages
	scanner    *scannerPages
	audit      *auditPages
	retention  *retentionPages
	recovery   *recoveryPages
	sso        *ssoPages
}

// renderer is what every page shares: the templates, the session store
// with its flashes and CSRF tokens, and the one mapping of service errors
// to pages.
type renderer struct {
	cfg      Config
	log      *slog.Logger
	sessions *sessionStore
	pages    map[string]*template.Template
	// limitBody bounds every form before anything reads it.
	limitBody gin.HandlerFunc
}

// The pages of each area.
type (
	accountPages struct {
		*renderer
		accounts *auth.Accounts
		users    *models.UserStore
		orgs     *models.OrgStore
		// recovery verifies addresses (nil: none verified by mail).
		recovery *auth.Recovery
	}
	explorePages struct {
		*renderer
		discover   *hub.Discover
		repos      *hub.Repos
		social     *hub.Social
		namespaces *hub.Namespaces
		hooks      *hub.Webhooks
		trust      *hub.Trust
		// immutability lists a namespace's immutable tag rules.
		immutability *hub.Immutability
		// robots lists a namespace's robots, and shows a new one's secret.
		robots *robotPages
		// teams lists an organization's teams.
		teams *hub.Teams
		users *models.UserStore
		orgs  *models.OrgStore
	}
	orgPages struct {
		*renderer
		orgs *hub.Orgs
	}
	repoPages struct {
		*renderer
		repos     *hub.Repos
		social    *hub.Social
		hooks     *hub.Webhooks
		webhooks  *hookPages
		manifests *manifestPages
		trust     *trustPages
		// trustView reads the policy and keys the pages show.
		trustView *hub.Trust
		audit     *auditPages
		retention *retentionPages
	}
	searchPages struct {
		*renderer
		discover *hub.Discover
	}
	hookPages struct {
		*renderer
		hooks *hub.Webhooks
		// refusedRepo shows a repository's settings again with a
		// refused form (repoPages.refused).
		refusedRepo func(c *gin.Context, name, form, msg string)
	}
)

// New loads the templates and the session keys.
func New(cfg Config, h *hub.Service, accounts *auth.Accounts, mirrors *mirror.Catalog, db *models.DB, log *slog.Logger) (*Web, error) {
	secure := strings.HasPrefix(cfg.BaseURL, "https://")
	ss, err := newSessionStore(cfg.SessionKeyDir, secure, db, accounts)
	if err != nil {
		return nil, err
	}
	cfg.SearchEnabled = h.Discover.HasSearch()
	r := &renderer{cfg: cfg, log: log, sessions: ss}
	r.limitBody = bodylimit.Middleware(formLimit, r.tooLarge)
	if err := r.loadTemplates(); err != nil {
		return nil, err
	}
	hooks := &hookPages{renderer: r, hooks: h.Webhooks}
	trust := &trustPages{renderer: r, trust: h.Trust, immutability: h.Immutability}
	repo := &repoPages{renderer: r, repos: h.Repos, social: h.Social, hooks: h.Webhooks, webhooks: hooks,
		manifests: &manifestPages{renderer: r, repos: h.Repos, inspect: h.Inspect, scans: h.Scans}, trust: trust, trustView: h.Trust}
	hooks.refusedRepo, trust.refusedRepo = repo.refused, repo.refused
	admin := &adminPages{renderer: r, namespaces: h.Namespaces, catalog: mirrors}
	users := &adminUsers{adminPages: admin, accounts: accounts, users: db.Users, recovery: cfg.Recovery}
	namespaces := &adminNamespaces{adminPages: admin, orgs: h.Orgs}
	audit := &auditPages{renderer: r, audit: h.Audit}
	repo.audit = audit
	retention := &retentionPages{renderer: r, retention: h.Retention}
	repo.retention = retention
	robots := &robotPages{renderer: r, robots: h.Robots}
	return &Web{
		renderer: r,
		account:  &accountPages{renderer: r, accounts: accounts, users: db.Users, orgs: db.Orgs, recovery: cfg.Recovery},
		explore: &explorePages{renderer: r, discover: h.Discover, repos: h.Repos, social: h.Social,
			namespaces: h.Namespaces, hooks: h.Webhooks, trust: h.Trust, immutability: h.Immutability, robots: robots, teams: h.Teams, users: db.Users, orgs: db.Orgs},
		org:        &orgPages{renderer: r, orgs: h.Orgs},
		repo:       repo,
		search:     &searchPages{renderer: r, discover: h.Discover},
		webhooks:   hooks,
		trust:      trust,
		admin:      admin,
		users:      users,
		namespaces: namespaces,
		scanner:    &scannerPages{adminPages: admin, scans: h.Scans},
		robotPages: robots,
		teamPages:  &teamPages{renderer: r, teams: h.Teams},
		audit:      audit,
		retention:  retention,
		recovery:   &recoveryPages{renderer: r, recovery: cfg.Recovery},
		sso:        &ssoPages{renderer: r, sso: cfg.SSO},
	}, nil
}

func (w *renderer) loadTemplates() error {
	w.pages = map[string]*template.Template{}
	names, err := fs.Glob(templates.FS, "*.html")
	if err != nil {
		return err
	}
	for _, n := range names {
		if n == "layout.html" || n == "partials.html" {
			continue
		}
		t, err := template.New(n).Funcs(funcs(w)).ParseFS(templates.FS, "layout.html", "partials.html", n)
		if err != nil {
			return err
		}
		w.pages[n] = t
	}
	return nil
}

// Identity finds the signed-in user of a request, for the JSON API.
func (w *Web) Identity(r *http.Request) *auth.Identity {
	id, _ := w.sessions.current(r)
	return id
}

// Run sweeps expired sessions until ctx ends.
func (w *Web) Run(ctx context.Context) { w.sessions.sweep(ctx) }

// pageCtx is what every page knows about its request.
type pageCtx struct {
	User    *auth.Identity
	session *models.Session
	CSRF    string
	Flashes []flash
	Path    string
	Query   string // the search box's text
	Title   string
}

type flash struct {
	Kind string // "ok" or "error"
	Text string
}

// view is what a template gets: the page context and the page's data.
type view struct {
	*pageCtx
	Data any
	Site Config
}

const ctxKey = "wharf.page"

// Register adds the pages and static files.
func (w *Web) Register(r *gin.Engine) {
	staticFS := http.FS(static.FS)
	r.GET("/static/*file", func(c *gin.Context) {
		c.Header("Cache-Control", "public, max-age=3600")
		c.FileFromFS(strings.TrimPrefix(c.Param("file"), "/"), staticFS)
	})
	g := r.Group("/", w.limitBody, w.page)
	g.GET("/", w.explore.home)
	g.GET("/explore", w.explore.explore)
	g.GET("/search", w.search.searchPage)
	g.GET("/search/suggest", w.search.suggest)
	g.GET("/signup", w.account.signupForm)
	g.POST("/signup", w.account.signup)
	g.GET("/signin", w.account.signinForm)
	if w.sso.sso != nil {
		g.GET("/signin/sso", w.sso.start)
		g.GET("/signin/sso/callback", w.sso.callback)
	}
	if w.recovery.recovery != nil {
		g.GET(auth.ResetPath, w.recovery.resetPage)
		g.POST(auth.ResetPath, w.recovery.reset)
		if w.recovery.recovery.MailEnabled() {
			g.GET(auth.VerifyPath, w.account.verifyPage)
			g.GET("/forgot-password", w.recovery.forgotPage)
			g.POST("/forgot-password", w.recovery.forgot)
		}
	}
	g.POST("/signin", w.account.signin)
	g.POST("/signout", w.account.signout)
	g.GET("/new", w.explore.newRepoForm)
	g.POST("/new", w.explore.newRepo)
	g.GET("/settings", w.account.accountSettings)
	g.POST("/settings/password", w.account.changePassword)
	g.POST("/settings/email", w.account.changeEmail)
	g.POST("/settings/delete", w.account.deleteAccount)
	g.POST("/settings/tokens", w.account.createToken)
	g.POST("/settings/tokens/:id/revoke", w.account.revokeToken)
	g.POST("/settings/tokens/revoke-all", w.account.revokeAllTokens)
	g.POST("/settings/orgs", w.org.createOrg)
	g.GET("/admin/users", w.users.list)
	g.POST("/admin/users/:name/:action", w.users.act)
	g.GET("/admin/health", w.admin.health)
	g.GET("/admin/namespaces", w.namespaces.list)
	g.POST("/admin/namespaces/:name/:action", w.namespaces.act)
	g.GET("/admin/mirrors", w.admin.mirrors)
	g.POST("/admin/mirrors", w.admin.addMirror)
	g.POST("/admin/mirrors/:name/remove", w.admin.removeMirror)
	g.GET("/admin/scanner", w.scanner.scanner)
	g.GET("/admin/audit", w.audit.siteLog)
	g.GET("/u/:name/audit", w.audit.namespaceLog)
	g.Any("/u/:name/retention", w.retention.namespacePolicy)
	g.Any("/u/:name/retention/*rest", w.retention.namespacePolicy)
	g.POST(databaseUploadPath, w.scanner.uploadDatabase)
	g.GET("/u/:name", w.explore.namespacePage)
	g.GET("/u/:name/starred", w.explore.starredPage)
	g.POST("/u/:name/members", w.org.setMember)
	g.POST("/u/:name/members/:user/remove", w.org.removeMember)
	g.POST("/u/:name/settings", w.org.orgSettings)
	g.POST("/u/:name/delete", w.org.deleteOrg)
	g.Any("/u/:name/webhooks", w.webhooks.namespaceWebhooks)
	g.Any("/u/:name/webhooks/*rest", w.webhooks.namespaceWebhooks)
	g.POST("/u/:name/signing-keys", w.trust.namespaceTrust)
	g.POST("/u/:name/signing-keys/:id/delete", w.trust.namespaceTrust)
	g.POST("/u/:name/policy", w.trust.namespaceTrust)
	g.POST("/u/:name/teams", w.teamPages.create)
	g.POST("/u/:name/teams/:team", w.teamPages.save)
	g.POST("/u/:name/teams/:team/delete", w.teamPages.remove)
	g.POST("/u/:name/robots", w.robotPages.create)
	g.POST("/u/:name/robots/:id", w.robotPages.setPermissions)
	g.POST("/u/:name/robots/:id/delete", w.robotPages.remove)
	g.POST("/u/:name/immutable-tags", w.trust.namespaceTrust)
	g.POST("/u/:name/immutable-tags/:id/delete", w.trust.namespaceTrust)
	g.Any("/r/*path", w.repo.repoRoute)
}

// page prepares the page context, and refuses state changes without the
// right CSRF token.
func (w *renderer) page(c *gin.Context) {
	id, sess := w.sessions.current(c.Request)
	pc := &pageCtx{User: id, session: sess, Path: c.Request.URL.Path}
	pc.CSRF = w.csrfToken(c.Writer, c.Request, pc)
	pc.Flashes = w.takeFlashes(c)
	c.Set(ctxKey, pc)
	c.Header("X-Frame-Options", "DENY")
	c.Header("X-Content-Type-Options", "nosniff")
	c.Header("Referrer-Policy", "same-origin")
	c.Header("Content-Security-Policy", "default-src 'self'; img-src 'self' https: data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'")
	if c.Request.Method == http.MethodPost && c.Request.URL.Path == databaseUploadPath {
		// The one streamed form: its CSRF field comes first, and is
		// checked here like every other form's; the rest is the
		// handler's to read.
		mr, token := streamedForm(c.Request)
		if !w.checkCSRFToken(c.Request, pc, token) {
			w.renderError(c, http.StatusForbidden, "This form has expired or did not come from this site. Go back, reload the page and try again.")
			c.Abort()
			return
		}
		c.Set(streamedFormKey, mr)
	} else if c.Request.Method == http.MethodPost {
		// Parse the form here, where a body over its limit can be told
		// from a missing token (PostFormValue would hide the error, and
		// ParseMultipartForm hides ParseForm's behind ErrNotMultipart).
		err := c.Request.ParseForm()
		if ct := c.Request.Header.Get("Content-Type"); err == nil && strings.HasPrefix(ct, "multipart/form-data") {
			err = c.Request.ParseMultipartForm(formLimit(c))
		}
		if bodylimit.TooLarge(err) {
			c.Header("Connection", "close")
			w.tooLarge(c, formLimit(c))
			c.Abort()
			return
		}
		if !w.checkCSRF(c.Request, pc) {
			w.renderError(c, http.StatusForbidden, "This form has expired or did not come from this site. Go back, reload the page and try again.")
			c.Abort()
			return
		}
	}
	c.Next()
}

// formLimit is the body limit of a UI request: bodylimit.Default,
// bodylimit.Readme for the repository settings form, which carries the
// README, and bodylimit.ScannerDatabase for the upload of the scanner's
// database, which is streamed.
func formLimit(c *gin.Context) int64 {
	if c.Request.URL.Path == databaseUploadPath && c.Request.Method == http.MethodPost {
		return bodylimit.ScannerDatabase
	}
	if p, ok := strings.CutPrefix(c.Request.URL.Path, "/r/"); ok && c.Request.Method == http.MethodPost {
		if _, rest := splitRepo(p); len(rest) == 1 && rest[0] == "settings" {
			return bodylimit.Readme
		}
	}
	return bodylimit.Default
}

// tooLarge answers a form over its limit.
func (w *renderer) tooLarge(c *gin.Context, limit int64) {
	w.renderError(c, http.StatusRequestEntityTooLarge,
		fmt.Sprintf("This form is larger than %d KiB, the most this page takes. Shorten it and try again.", limit>>10))
}

func pc(c *gin.Context) *pageCtx {
	v, _ := c.Get(ctxKey)
	p, _ := v.(*pageCtx)
	if p == nil {
		p = &pageCtx{}
	}
	return p
}

// render executes a page into a buffer first, so a template error becomes
// a clean 500 page instead of half a page.
func (w *renderer) render(c *gin.Context, status int, page, title string, data any) {
	p := pc(c)
	p.Title = title
	t, ok := w.pages[page]
	if !ok {
		reqlog.From(c.Request.Context(), w.log).Error("no such template", "page", page)
		c.String(http.StatusInternalServerError, "internal server error")
		return
	}
	var buf bytes.Buffer
	site := w.cfg
	if err := t.ExecuteTemplate(&buf, "layout", view{pageCtx: p, Data: data, Site: site}); err != nil {
		reqlog.From(c.Request.Context(), w.log).Error("render", "page", page, "err", err)
		if page != "error.html" {
			w.renderError(c, http.StatusInternalServerError, "Something went wrong on our side.")
		}
		return
	}
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

type errorData struct {
	Status  int
	Heading string
	Message string
}

func (w *renderer) renderError(c *gin.Context, status int, msg string) {
	heading := http.StatusText(status)
	if status == http.StatusNotFound {
		heading = "Page not found"
	}
	w.render(c, status, "error.html", heading, errorData{Status: status, Heading: heading, Message: msg})
}

// ServerError renders the 500 page (after a recovered panic).
func (w *Web) ServerError(c *gin.Context) {
	w.renderError(c, http.StatusInternalServerError, "Something went wrong on our side. Please try again.")
}

// NotFound renders the 404 page (for the router's NoRoute).
func (w *Web) NotFound(c *gin.Context) {
	if w.limitBody(c); c.IsAborted() {
		return
	}
	w.page(c)
	if !c.IsAborted() {
		w.renderError(c, http.StatusNotFound, "There is nothing here, or it is private.")
	}
}

// requireUser sends anonymous visitors to sign in.
func (w *renderer) requireUser(c *gin.Context) *auth.Identity {
	id := pc(c).User
	if id == nil {
		c.Redirect(http.StatusSeeOther, "/signin?next="+url.QueryEscape(c.Request.URL.RequestURI()))
	}
	return id
}

// addFlash queues a message for the next page.
func (w *renderer) addFlash(c *gin.Context, kind, text string) {
	sess, _ := w.sessions.cookies.Get(c.Request, "wharf_flash")
	sess.AddFlash(kind + "\x00" + text)
	sess.Options.MaxAge = 300
	_ = sess.Save(c.Request, c.Writer)
}

func (w *renderer) takeFlashes(c *gin.Context) []flash {
	sess, err := w.sessions.cookies.Get(c.Request, "wharf_flash")
	if err != nil {
		return nil
	}
	raw := sess.Flashes()
	if len(raw) == 0 {
		return nil
	}
	_ = sess.Save(c.Request, c.Writer)
	var out []flash
	for _, f := range raw {
		s, _ := f.(string)
		kind, text, _ := strings.Cut(s, "\x00")
		out = append(out, flash{Kind: kind, Text: text})
	}
	return out
}

// redirectBack sends the browser to a local path after a form post.
func redirectTo(c *gin.Context, path string) {
	if !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "//") || strings.HasPrefix(path, "/\\") {
		path = "/"
	}
	c.Redirect(http.StatusSeeOther, path)
}
