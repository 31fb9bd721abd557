package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/auth"
	"github.com/wharfhub/wharf/server/bodylimit"
	"github.com/wharfhub/wharf/server/clientaddr"
	"github.com/wharfhub/wharf/server/hub"
	"github.com/wharfhub/wharf/server/reqlog"
	"github.com/wharfhub/wharf/server/textcheck"
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
	case errors.Is(err, textcheck.ErrInvalid):
		fail(c, http.StatusBadRequest, "invalid", err.Error())
	case errors.Is(err, auth.ErrInvalidPassword), errors.Is(err, auth.ErrInvalidEmail),
		errors.Is(err, auth.ErrInvalidUsername), errors.Is(err, auth.ErrInvalidScope),
		errors.Is(err, auth.ErrTokenName), errors.Is(err, auth.ErrTokenExpiresAt),
		errors.Is(err, auth.ErrTokenRepository):
		fail(c, http.StatusBadRequest, "invalid", err.Error())
	case errors.Is(err, auth.ErrBroaderToken):
		fail(c, http.StatusForbidden, "forbidden", err.Error())
	default:
		reqlog.From(c.Request.Context(), a.log).Error("api request failed", "method", c.Request.Method, "path", c.Request.URL.Path, "err", err)
		fail(c, http.StatusInternalServerError, "internal", "internal server error")
	}
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
			fail(c, http.StatusBadRequest, "invalid_json", "the body could not be read: "+err.Error())
			return
		case !utf8.Valid(b):
			fail(c, http.StatusBadRequest, "invalid", "the body must be UTF-8 text")
			return
		}
		v := reflect.New(t).Interface()
		if err := json.Unmarshal(b, v); err != nil {
			fail(c, http.StatusBadRequest, "invalid_json", "the body must be a JSON object: "+err.Error())
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
		fail(c, http.StatusUnauthorized, "unauthorized", "authentication required")
	}
	return id
}
