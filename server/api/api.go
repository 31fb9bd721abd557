package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/auth"
	"github.com/wharfhub/wharf/server/clientaddr"
	"github.com/wharfhub/wharf/server/hub"
)

// SessionIdentity finds the caller of a web session, if any; the web UI
// provides it so the API also works from the browser.
type SessionIdentity func(r *http.Request) *auth.Identity

// API is the /api/v1 handler set.
type API struct {
	hub      *hub.Service
	accounts *auth.Accounts
	db       *models.DB
	session  SessionIdentity
	log      *slog.Logger
	// clientAddr finds the address that login throttling counts against.
	clientAddr *clientaddr.Resolver
}

// New makes the API; addr finds each caller's address.
func New(h *hub.Service, accounts *auth.Accounts, db *models.DB, session SessionIdentity, addr *clientaddr.Resolver, log *slog.Logger) *API {
	return &API{hub: h, accounts: accounts, db: db, session: session, log: log, clientAddr: addr}
}

const identityKey = "wharf.identity"

// Register adds the API's routes under /api/v1.
func (a *API) Register(r gin.IRouter) {
	g := r.Group("/api/v1", a.authenticate)
	g.GET("/user", a.getSelf)
	g.PATCH("/user", a.patchSelf)
	g.PUT("/user/password", a.changePassword)
	g.GET("/users/:user", a.getUser)
	g.PATCH("/users/:user", a.patchUser)
	g.DELETE("/users/:user", a.deleteUser)
	g.GET("/users/:user/starred", a.listStarred)

	g.GET("/tokens", a.listTokens)
	g.POST("/tokens", a.createToken)
	g.DELETE("/tokens/:id", a.deleteToken)
	g.DELETE("/tokens", a.deleteAllTokens)

	g.POST("/orgs", a.createOrg)
	g.GET("/orgs/:org", a.getOrg)
	g.PATCH("/orgs/:org", a.patchOrg)
	g.DELETE("/orgs/:org", a.deleteOrg)
	g.GET("/orgs/:org/members", a.listMembers)
	g.PUT("/orgs/:org/members/:user", a.setMember)
	g.DELETE("/orgs/:org/members/:user", a.removeMember)

	g.GET("/search", a.search)
	g.Any("/namespaces/:ns/*rest", a.namespaceWebhooks)
	g.POST("/webhooks/callback/:delivery/:token", a.callback)
	g.POST("/repositories", a.createRepository)
	g.Any("/repositories/*path", a.repositoryRoute)
	g.Any("/", func(c *gin.Context) { fail(c, http.StatusNotFound, "not_found", "no such API endpoint") })
}

// authenticate finds the caller: a personal access token as Bearer, Basic
// credentials, or a web session. Bad credentials are refused outright.
func (a *API) authenticate(c *gin.Context) {
	r := c.Request
	ip := a.clientAddr.IP(r)
	authz := r.Header.Get("Authorization")
	var id *auth.Identity
	var err error
	switch scheme, cred, _ := strings.Cut(authz, " "); {
	case authz == "":
		if a.session != nil {
			id = a.session(r)
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
	c.Next()
}

func identity(c *gin.Context) *auth.Identity {
	id, _ := c.Get(identityKey)
	i, _ := id.(*auth.Identity)
	return i
}

// fail writes the API's error JSON.
func fail(c *gin.Context, status int, code, msg string) {
	c.AbortWithStatusJSON(status, gin.H{"error": gin.H{"code": code, "message": msg}})
}

// error maps a service error to its status. A repository the caller may
// not see is 404, never 403.
func (a *API) error(c *gin.Context, err error) {
	var th *auth.ErrThrottled
	var inv *hub.Invalid
	switch {
	case errors.As(err, &th):
		c.Header("Retry-After", fmt.Sprint(int(th.RetryAfter.Seconds())+1))
		fail(c, http.StatusTooManyRequests, "too_many_requests", th.Error())
	case errors.Is(err, auth.ErrBadCredentials):
		c.Header("WWW-Authenticate", `Basic realm="Wharf"`)
		fail(c, http.StatusUnauthorized, "unauthorized", err.Error())
	case errors.Is(err, auth.ErrUnauthenticated):
		c.Header("WWW-Authenticate", `Basic realm="Wharf"`)
		fail(c, http.StatusUnauthorized, "unauthorized", "authentication required")
	case errors.Is(err, auth.ErrDenied):
		fail(c, http.StatusForbidden, "forbidden", "you may not do that")
	case errors.Is(err, auth.ErrNotFound), errors.Is(err, models.ErrNotFound):
		fail(c, http.StatusNotFound, "not_found", "not found")
	case errors.Is(err, models.ErrLastOwner):
		fail(c, http.StatusConflict, "conflict", err.Error())
	case errors.Is(err, hub.ErrConflict), errors.Is(err, auth.ErrUsernameTaken):
		fail(c, http.StatusConflict, "conflict", "that name is taken")
	case errors.As(err, &inv):
		fail(c, http.StatusBadRequest, "invalid", inv.Msg)
	case errors.Is(err, auth.ErrInvalidPassword), errors.Is(err, auth.ErrInvalidEmail),
		errors.Is(err, auth.ErrInvalidUsername), errors.Is(err, auth.ErrInvalidScope),
		errors.Is(err, auth.ErrTokenName), errors.Is(err, auth.ErrTokenExpiresAt):
		fail(c, http.StatusBadRequest, "invalid", err.Error())
	case errors.Is(err, auth.ErrBroaderToken):
		fail(c, http.StatusForbidden, "forbidden", err.Error())
	default:
		a.log.Error("api request failed", "method", c.Request.Method, "path", c.Request.URL.Path, "err", err)
		fail(c, http.StatusInternalServerError, "internal", "internal server error")
	}
}

// bind decodes a JSON body, refusing malformed JSON with a clear message.
func bind(c *gin.Context, v any) bool {
	if err := c.ShouldBindJSON(v); err != nil {
		fail(c, http.StatusBadRequest, "invalid_json", "the body must be a JSON object: "+err.Error())
		return false
	}
	return true
}

// requireUser answers 401 for anonymous callers.
func requireUser(c *gin.Context) *auth.Identity {
	id := identity(c)
	if id == nil {
		c.Header("WWW-Authenticate", `Basic realm="Wharf"`)
		fail(c, http.StatusUnauthorized, "unauthorized", "authentication required")
	}
	return id
}

// requireAccount answers 401 or 403 unless the caller may manage the
// account (not a narrowly scoped token).
func requireAccount(c *gin.Context) *auth.Identity {
	id := requireUser(c)
	if id != nil && !id.CanManageAccount() {
		fail(c, http.StatusForbidden, "forbidden", "this token may not manage the account")
		return nil
	}
	return id
}
