package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/wharfhub/wharf/server/mirror"
)

// mirrorsAPI defines and removes mirrors (site administrators).
type mirrorsAPI struct {
	replier
	catalog *mirror.Catalog
}

type newMirrorBody struct {
	Name     string `json:"name"`
	URL      string `json:"url"`
	Username string `json:"username"`
	Password string `json:"password"`
}

// createMirror serves POST /mirrors.
func (a *mirrorsAPI) createMirror(c *gin.Context, body *newMirrorBody) {
	d := mirror.Def{Name: body.Name, URL: body.URL, Username: body.Username, Password: body.Password}
	if err := a.catalog.Define(c.Request.Context(), identity(c), d); err != nil {
		a.error(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"name": body.Name})
}

// deleteMirror serves DELETE /mirrors/{name}: the mirror, its namespace
// and everything it cached.
func (a *mirrorsAPI) deleteMirror(c *gin.Context) {
	if err := a.catalog.Remove(c.Request.Context(), identity(c), c.Param("ns")); err != nil {
		a.error(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
