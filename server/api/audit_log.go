package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/hub"
)

// The audit log: /audit (the site's), /namespaces/{ns}/audit and
// /repositories/{repo}/audit, filtered by the query string; with
// ?format=jsonl (or Accept: application/x-ndjson), every selected entry
// as JSON Lines, oldest first.

type auditPageJSON struct {
	Entries []models.AuditEntry `json:"entries"`
	// Next is the before= of the next (older) page; absent at the end.
	Next string `json:"next,omitempty"`
}

func auditScope(c *gin.Context) hub.AuditScope {
	return hub.AuditScope{Repository: c.Param("repo"), Namespace: c.Param("ns")}
}

func (a *auditAPI) listAudit(c *gin.Context) {
	f, limit, err := hub.AuditQuery{Actor: c.Query("actor"), Action: c.Query("action"), Result: c.Query("result"),
		Target: c.Query("target"), Since: c.Query("since"), Until: c.Query("until"), Before: c.Query("before"),
		Limit: c.Query("limit")}.Filter()
	if err != nil {
		a.error(c, err)
		return
	}
	ctx, id, scope := c.Request.Context(), identity(c), auditScope(c)
	if c.Query("format") == "jsonl" || strings.Contains(c.GetHeader("Accept"), "application/x-ndjson") {
		a.exportAudit(c, f)
		return
	}
	es, next, err := a.audit.Entries(ctx, id, scope, f, limit)
	if err != nil {
		a.error(c, err)
		return
	}
	out := auditPageJSON{Entries: es}
	if out.Entries == nil {
		out.Entries = []models.AuditEntry{}
	}
	if next != 0 {
		out.Next = strconv.FormatInt(next, 10)
	}
	c.JSON(http.StatusOK, out)
}

// exportAudit streams the entries as JSON Lines. The answer starts with
// the first entry, so a failure after it can only cut the stream short:
// its last line is then an error object.
func (a *auditAPI) exportAudit(c *gin.Context, f models.AuditFilter) {
	f.Before = 0
	enc := json.NewEncoder(c.Writer)
	started := false
	err := a.audit.Export(c.Request.Context(), identity(c), auditScope(c), f, func(e models.AuditEntry) error {
		if !started {
			c.Header("Content-Type", "application/x-ndjson")
			c.Header("Content-Disposition", `attachment; filename="audit.jsonl"`)
			c.Status(http.StatusOK)
			started = true
		}
		return enc.Encode(e)
	})
	switch {
	case err != nil && !started:
		a.error(c, err)
	case err != nil:
		_ = enc.Encode(map[string]any{"error": map[string]string{"code": "internal", "message": "the export was cut short"}})
	case !started:
		c.Header("Content-Type", "application/x-ndjson")
		c.Status(http.StatusOK)
	}
}
