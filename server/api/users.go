package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/apierr"
)

type userJSON struct {
	ID       int64  `json:"id"`
	Username string `json:"username"`
	Email    string `json:"email,omitempty"`
	IsAdmin  *bool  `json:"is_admin,omitempty"`
	Disabled bool   `json:"disabled,omitempty"`
	// EmailVerified and PendingEmail (an address waiting for its link)
	// are told to the account itself and to administrators.
	EmailVerified *bool     `json:"email_verified,omitempty"`
	PendingEmail  string    `json:"pending_email,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
}

func toUserJSON(u *models.User, private bool) userJSON {
	// Who is a site administrator is told only to the account itself and
	// to administrators: it tells an attacker whom to aim at.
	j := userJSON{ID: u.ID, Username: u.Username, CreatedAt: u.CreatedAt}
	if private {
		admin, verified := u.IsAdmin, u.EmailVerified
		j.Email, j.Disabled, j.IsAdmin, j.EmailVerified = u.Email, u.Disabled, &admin, &verified
	}
	return j
}

func (a *usersAPI) getSelf(c *gin.Context) {
	id := requireUser(c)
	if id == nil {
		return
	}
	u, err := a.users.Get(c.Request.Context(), id.UserID)
	if err != nil {
		a.error(c, err)
		return
	}
	j := toUserJSON(u, true)
	if a.recovery != nil && a.recovery.MailEnabled() {
		j.PendingEmail = a.recovery.PendingEmail(c.Request.Context(), u.ID)
	}
	c.JSON(http.StatusOK, j)
}

// selfBody is what the caller may change of its account. Other fields in
// the body, such as is_admin, are ignored: there is no mass assignment.
type selfBody struct {
	Email *string `json:"email"`
}

// patchSelf changes the caller's email: with mail set up, once the new
// address is verified (pending_email until then).
func (a *usersAPI) patchSelf(c *gin.Context, body *selfBody) {
	id := identity(c)
	if body.Email != nil {
		set := a.accounts.SetEmail
		if a.recovery != nil && a.recovery.MailEnabled() {
			set = a.recovery.StartVerification
		}
		if err := set(c.Request.Context(), id.UserID, *body.Email); err != nil {
			a.error(c, err)
			return
		}
	}
	a.getSelf(c)
}

type passwordBody struct {
	Old string `json:"old_password"`
	New string `json:"new_password"`
}

func (a *usersAPI) changePassword(c *gin.Context, body *passwordBody) {
	id := identity(c)
	if err := a.accounts.ChangePassword(c.Request.Context(), id, a.addr.IP(c.Request), body.Old, body.New, ""); err != nil {
		a.error(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (a *usersAPI) getUser(c *gin.Context) {
	u, err := a.accounts.UserByName(c.Request.Context(), c.Param("user"))
	if err != nil {
		a.error(c, err)
		return
	}
	id := identity(c)
	c.JSON(http.StatusOK, toUserJSON(u, id != nil && (id.IsAdmin || id.UserID == u.ID)))
}

type userPatchBody struct {
	Disabled *bool `json:"disabled"`
	// Admin makes the account a site administrator, or not.
	Admin *bool `json:"is_admin"`
}

// patchUser lets a site administrator disable or enable an account, or
// make it an administrator or not: one change per request, each its own
// audit entry.
func (a *usersAPI) patchUser(c *gin.Context, body *userPatchBody) {
	if !identity(c).IsAdmin {
		fail(c, apierr.Forbidden, "only site administrators may change other accounts")
		return
	}
	if body.Disabled != nil && body.Admin != nil {
		fail(c, apierr.Invalid, "Change disabled or is_admin, one per request.")
		return
	}
	u, err := a.accounts.UserByName(c.Request.Context(), c.Param("user"))
	if err != nil {
		a.error(c, err)
		return
	}
	if body.Disabled != nil {
		if err := a.accounts.SetDisabled(c.Request.Context(), u.ID, *body.Disabled); err != nil {
			a.error(c, err)
			return
		}
	}
	if body.Admin != nil {
		if err := a.accounts.SetAdmin(c.Request.Context(), u.ID, *body.Admin); err != nil {
			a.error(c, err)
			return
		}
	}
	u, _ = a.users.Get(c.Request.Context(), u.ID)
	c.JSON(http.StatusOK, toUserJSON(u, true))
}

// deleteUser deletes an account: one's own, or any as a site administrator.
func (a *usersAPI) deleteUser(c *gin.Context) {
	id := identity(c)
	u, err := a.accounts.UserByName(c.Request.Context(), c.Param("user"))
	if err != nil {
		a.error(c, err)
		return
	}
	if u.ID != id.UserID && !id.IsAdmin {
		fail(c, apierr.Forbidden, "you may only delete your own account")
		return
	}
	if err := a.accounts.DeleteUser(c.Request.Context(), u.ID); err != nil {
		a.error(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

type tokenJSON struct {
	ID           int64      `json:"id"`
	Name         string     `json:"name"`
	Token        string     `json:"token,omitempty"`
	Scopes       []string   `json:"scopes"`
	Repositories []string   `json:"repositories,omitempty"`
	ExpiresAt    *time.Time `json:"expires_at"`
	LastUsedAt   *time.Time `json:"last_used_at"`
	CreatedAt    time.Time  `json:"created_at"`
}

func toTokenJSON(t *models.AccessToken) tokenJSON {
	return tokenJSON{ID: t.ID, Name: t.Name, Scopes: fields(t.Scopes), Repositories: fields(t.Repositories),
		ExpiresAt: t.ExpiresAt, LastUsedAt: t.LastUsedAt, CreatedAt: t.CreatedAt}
}

func (a *usersAPI) listTokens(c *gin.Context) {
	ts, err := a.accounts.ListTokens(c.Request.Context(), identity(c))
	if err != nil {
		a.error(c, err)
		return
	}
	out := make([]tokenJSON, 0, len(ts))
	for i := range ts {
		out = append(out, toTokenJSON(&ts[i]))
	}
	c.JSON(http.StatusOK, out)
}

type newTokenBody struct {
	Name         string     `json:"name"`
	Scopes       []string   `json:"scopes"`
	Repositories []string   `json:"repositories"`
	ExpiresAt    *time.Time `json:"expires_at"`
}

// createToken makes a personal access token; its secret is in this answer
// only.
func (a *usersAPI) createToken(c *gin.Context, body *newTokenBody) {
	t, err := a.accounts.CreateToken(c.Request.Context(), identity(c), body.Name, body.Scopes, body.Repositories, body.ExpiresAt)
	if err != nil {
		a.error(c, err)
		return
	}
	j := toTokenJSON(&t.AccessToken)
	j.Token = t.Secret
	c.JSON(http.StatusCreated, j)
}

func (a *usersAPI) deleteToken(c *gin.Context) {
	tid, ok := pathID(c, "id")
	if !ok {
		return
	}
	if err := a.accounts.RevokeToken(c.Request.Context(), identity(c), tid); err != nil {
		if errors.Is(err, models.ErrNotFound) {
			fail(c, apierr.NotFound, "not found")
			return
		}
		a.error(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// deleteAllTokens revokes every token of the caller, the one it may be
// using included.
func (a *usersAPI) deleteAllTokens(c *gin.Context) {
	id := identity(c)
	n, err := a.accounts.RevokeAllTokens(c.Request.Context(), id)
	if err != nil {
		a.error(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"revoked": n})
}
