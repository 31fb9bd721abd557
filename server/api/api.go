package api

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/apierr"
	"github.com/wharfhub/wharf/server/auth"
	"github.com/wharfhub/wharf/server/bodylimit"
	"github.com/wharfhub/wharf/server/clientaddr"
	"github.com/wharfhub/wharf/server/hub"
	"github.com/wharfhub/wharf/server/mirror"
	"github.com/wharfhub/wharf/server/reqlog"
)

// SessionIdentity finds the caller of a web session, if any; the web UI
// provides it so the API also works from the browser.
type SessionIdentity func(r *http.Request) *auth.Identity

// API is the /api/v1 handler set: the route table (routes.go) over one
// handler type per area, each holding only the service it uses.
type API struct {
	authn     authenticator
	users     *usersAPI
	orgs      *orgsAPI
	repos     *reposAPI
	social    *socialAPI
	hooks     *hooksAPI
	discover  *searchAPI
	mirrors   *mirrorsAPI
	trust     *trustAPI
	scans     *scansAPI
	immutable *immutableAPI
	retention *retentionAPI
	robots    *robotsAPI
	teams     *teamsAPI
	audit     *auditAPI
	replier
}

// New makes the API; addr finds each caller's address.
func New(h *hub.Service, accounts *auth.Accounts, recovery *auth.Recovery, db *models.DB, session SessionIdentity, addr *clientaddr.Resolver, log *slog.Logger,
	catalog *mirror.Catalog) *API {
	r := replier{log: log}
	return &API{
		authn:     authenticator{replier: r, accounts: accounts, session: session, addr: addr},
		users:     &usersAPI{replier: r, accounts: accounts, users: db.Users, addr: addr, recovery: recovery},
		orgs:      &orgsAPI{replier: r, orgs: h.Orgs, namespaces: h.Namespaces},
		repos:     &reposAPI{replier: r, repos: h.Repos, inspect: h.Inspect},
		social:    &socialAPI{replier: r, social: h.Social, repos: h.Repos},
		hooks:     &hooksAPI{replier: r, hooks: h.Webhooks},
		discover:  &searchAPI{replier: r, discover: h.Discover},
		mirrors:   &mirrorsAPI{replier: r, catalog: catalog, namespaces: h.Namespaces},
		trust:     &trustAPI{replier: r, trust: h.Trust},
		scans:     &scansAPI{replier: r, scans: h.Scans},
		immutable: &immutableAPI{replier: r, immutability: h.Immutability},
		retention: &retentionAPI{replier: r, retention: h.Retention},
		robots:    &robotsAPI{replier: r, robots: h.Robots},
		teams:     &teamsAPI{replier: r, teams: h.Teams},
		audit:     &auditAPI{replier: r, audit: h.Audit},
		replier:   r,
	}
}

// The handlers of each area.
type (
	usersAPI struct {
		replier
		accounts *auth.Accounts
		users    *models.UserStore
		addr     *clientaddr.Resolver
		recovery *auth.Recovery
	}
	orgsAPI struct {
		replier
		orgs       *hub.Orgs
		namespaces *hub.Namespaces
	}
	reposAPI struct {
		replier
		repos   *hub.Repos
		inspect *hub.Inspect
	}
	socialAPI struct {
		replier
		social *hub.Social
		repos  *hub.Repos
	}
	hooksAPI struct {
		replier
		hooks *hub.Webhooks
	}
	searchAPI struct {
		replier
		discover *hub.Discover
	}
	trustAPI struct {
		replier
		trust *hub.Trust
	}
	scansAPI struct {
		replier
		scans *hub.Scans
	}
	immutableAPI struct {
		replier
		immutability *hub.Immutability
	}
	retentionAPI struct {
		replier
		retention *hub.Retention
	}
	robotsAPI struct {
		replier
		robots *hub.Robots
	}
	teamsAPI struct {
		replier
		teams *hub.Teams
	}
	auditAPI struct {
		replier
		audit *hub.Audit
	}
)

const identityKey = "wharf.identity"

// authenticator finds the caller of every route.
type authenticator struct {
	replier
	accounts *auth.Accounts
	session  SessionIdentity
	// addr finds the address that login throttling counts against.
	addr *clientaddr.Resolver
}

// authenticate finds the caller: a personal access token as Bearer, Basic
// credentials, or a web session. Bad credentials are refused outright.
func (a authenticator) authenticate(c *gin.Context) {
	r := c.Request
	ip := a.addr.IP(r)
	authz := r.Header.Get("Authorization")
	var id *auth.Identity
	var err error
	switch scheme, cred, _ := strings.Cut(authz, " "); {
	case authz == "":
		if a.session != nil {
			id = a.session(r)
		}
		if id == nil {
			id, err = a.accounts.CertificateIdentity(r.Context())
		}
	case strings.EqualFold(scheme, "Bearer"):
		id, err = a.accounts.AuthenticateToken(r.Context(), ip, cred)
	default:
		user, pass, ok := r.BasicAuth()
		if !ok {
			err = auth.ErrBadCredentials
		} else {
			id, err = a.accounts.Authenticate(r.Context(), ip, user, pass)
		}
	}
	if err != nil {
		a.error(c, err)
		c.Abort()
		return
	}
	c.Set(identityKey, id)
}

func identity(c *gin.Context) *auth.Identity {
	id, _ := c.Get(identityKey)
	i, _ := id.(*auth.Identity)
	return i
}

// fail writes the API's error JSON for code; an empty msg is the code's
// own message.
func fail(c *gin.Context, code apierr.Code, msg string) {
	if msg == "" {
		msg = code.Message
	}
	if code == apierr.Unauthorized {
		c.Header("WWW-Authenticate", `Basic realm="Wharf"`)
	}
	c.AbortWithStatusJSON(code.Status, gin.H{"error": gin.H{"code": code.Name, "message": msg}})
}

// replier writes a service's error as the API's error JSON, by the one
// mapping (apierr.Of); it logs what the mapping does not know.
type replier struct{ log *slog.Logger }

func (r replier) error(c *gin.Context, err error) {
	e := apierr.Of(err)
	switch e.Code {
	case apierr.TooManyRequests:
		c.Header("Retry-After", strconv.Itoa(e.RetryAfterSeconds()))
	case apierr.Internal:
		reqlog.From(c.Request.Context(), r.log).Error("api request failed", "method", c.Request.Method, "path", c.Request.URL.Path, "err", err)
	}
	fail(c, e.Code, e.Message)
}

// decode reads a JSON body of type t, bounded by limit, for the route's
// handler. The body must be UTF-8, as JSON is (encoding/json would
// quietly turn invalid bytes into U+FFFD instead).
func decode(t reflect.Type, limit int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		b, err := io.ReadAll(c.Request.Body)
		switch {
		case bodylimit.TooLarge(err):
			c.Header("Connection", "close")
			tooLarge(c, limit)
			return
		case err != nil:
			fail(c, apierr.InvalidJSON, "the body could not be read: "+err.Error())
			return
		case !utf8.Valid(b):
			fail(c, apierr.Invalid, "the body must be UTF-8 text")
			return
		}
		v := reflect.New(t).Interface()
		if err := json.Unmarshal(b, v); err != nil {
			fail(c, apierr.InvalidJSON, "the body must be a JSON object: "+err.Error())
			return
		}
		c.Set(bodyKey, v)
	}
}

// requireUser answers 401 for anonymous callers.
func requireUser(c *gin.Context) *auth.Identity {
	id := identity(c)
	if id == nil {
		c.Header("WWW-Authenticate", `Basic realm="Wharf"`)
		fail(c, apierr.Unauthorized, "authentication required")
	}
	return id
}
