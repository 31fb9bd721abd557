package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wharfhub/wharf/server/apierr"
	"github.com/wharfhub/wharf/server/textcheck"
)

// userSearchText is what a search of the accounts may be.
var userSearchText = textcheck.Kind{Name: "search text", Max: 200}

type resetLinkJSON struct {
	User      string    `json:"user"`
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
}

// resetLink lets a site administrator issue a password reset link for an
// account: POST /api/v1/users/{user}/reset-link answers it, once.
func (a *usersAPI) resetLink(c *gin.Context) {
	id := identity(c)
	if !id.CanAdministerSite() {
		fail(c, apierr.Forbidden, "only site administrators may issue reset links")
		return
	}
	link, err := a.recovery.IssueLink(c.Request.Context(), c.Param("user"), id.Username)
	if err != nil {
		a.error(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, resetLinkJSON{User: link.User, URL: link.URL, ExpiresAt: link.ExpiresAt})
}

// listUsers lets a site administrator list and search the accounts:
// GET /api/v1/users?q=&page=&per_page=.
func (a *usersAPI) listUsers(c *gin.Context) {
	if !identity(c).CanAdministerSite() {
		fail(c, apierr.Forbidden, "only site administrators may list accounts")
		return
	}
	q := c.Query("q")
	if err := userSearchText.Check(q); err != nil {
		fail(c, apierr.Invalid, textcheck.Sentence(err.Error()))
		return
	}
	limit, offset := page(c)
	us, total, err := a.users.List(c.Request.Context(), q, offset, limit)
	if err != nil {
		a.error(c, err)
		return
	}
	out := struct {
		Total int64      `json:"total"`
		Users []userJSON `json:"users"`
	}{Total: total, Users: make([]userJSON, 0, len(us))}
	for i := range us {
		out.Users = append(out.Users, toUserJSON(&us[i], true))
	}
	c.JSON(http.StatusOK, out)
}
