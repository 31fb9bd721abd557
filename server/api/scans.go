package api

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/wharfhub/wharf/server/bodylimit"
	"github.com/wharfhub/wharf/server/hub"
)

// Vulnerability scans of a manifest (.../manifests/{ref}/scan), and the
// scanner for site admins (/scanner, /scanner/database).

func manifestRef(c *gin.Context) hub.ManifestRef {
	ref := hub.ManifestRef{Tag: c.Param("ref")}
	if strings.Contains(ref.Tag, ":") {
		ref = hub.ManifestRef{Digest: ref.Tag}
	}
	return ref
}

func (a *scansAPI) getScan(c *gin.Context) {
	r, err := a.scans.Report(c.Request.Context(), identity(c), c.Param("repo"), manifestRef(c), c.Query("sort"))
	if err != nil {
		a.error(c, err)
		return
	}
	c.JSON(http.StatusOK, r)
}

func (a *scansAPI) rescan(c *gin.Context) {
	s, err := a.scans.Rescan(c.Request.Context(), identity(c), c.Param("repo"), manifestRef(c))
	if err != nil {
		a.error(c, err)
		return
	}
	c.JSON(http.StatusAccepted, s)
}

func (a *scansAPI) getScanner(c *gin.Context) {
	s, err := a.scans.State(c.Request.Context(), identity(c))
	if err != nil {
		a.error(c, err)
		return
	}
	c.JSON(http.StatusOK, s)
}

// importDatabase takes a Trivy offline database bundle (db.tar.gz) as
// the body.
func (a *scansAPI) importDatabase(c *gin.Context) {
	s, err := a.scans.ImportDatabase(c.Request.Context(), identity(c), c.Request.Body)
	if bodylimit.TooLarge(err) {
		c.Header("Connection", "close")
		tooLarge(c, bodylimit.ScannerDatabase)
		return
	}
	if err != nil {
		a.error(c, err)
		return
	}
	c.JSON(http.StatusCreated, s)
}
