package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wharfhub/wharf/server/apierr"
)

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
