package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/wharfhub/wharf/server/hub"
	"github.com/wharfhub/wharf/server/mirror"
)

// mirrorsAPI lists, defines and removes mirrors (site administrators).
type mirrorsAPI struct {
	replier
	catalog    *mirror.Catalog
	namespaces *hub.Namespaces
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

type mirrorJSON struct {
	Name         string `json:"name"`
	Upstream     string `json:"upstream"`
	Root         bool   `json:"registry_mirror"`
	Source       string `json:"source"`
	Repositories int64  `json:"repositories"`
	Blobs        int64  `json:"blobs"`
	Bytes        int64  `json:"bytes"`
	QuotaBytes   int64  `json:"quota_bytes"`
}

// listMirrors serves GET /mirrors: the mirrors and what each has cached,
// for site administrators.
func (a *mirrorsAPI) listMirrors(c *gin.Context) {
	ms, err := a.namespaces.Mirrors(c.Request.Context(), identity(c))
	if err != nil {
		a.error(c, err)
		return
	}
	out := make([]mirrorJSON, 0, len(ms))
	for _, m := range ms {
		out = append(out, mirrorJSON{Name: m.Name, Upstream: m.Upstream, Root: m.Root, Source: m.Source, Repositories: m.Usage.Repositories,
			Blobs: m.Usage.Blobs, Bytes: m.Usage.Bytes, QuotaBytes: m.Usage.QuotaBytes})
	}
	c.JSON(http.StatusOK, gin.H{"mirrors": out})
}
