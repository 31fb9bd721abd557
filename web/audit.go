package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/hub"
)

// auditPages show the audit log: the site's (/admin/audit) to site
// administrators, a namespace's (/u/NAME/audit) to its owners, a
// repository's (/r/NAME/audit) to its admins; with the filters of the
// API, pages, and a link to the JSON Lines export.
type auditPages struct {
	*renderer
	audit *hub.Audit
}

type auditView struct {
	// Heading and Crumb say which log this is; Back links to its owner.
	Heading, Back, BackText string
	Query                   hub.AuditQuery
	Entries                 []models.AuditEntry
	// Older is the link to the next page ("" at the end); Export the
	// JSON Lines export of what the filters select.
	Older, Export string
	Error         string
	Admin         bool // the site's log: the admin pages' crumbs
}

// siteLog serves GET /admin/audit.
func (w *auditPages) siteLog(c *gin.Context) {
	id := w.requireUser(c)
	if id == nil {
		return
	}
	if !id.CanAdministerSite() {
		// As every admin page: no such page for anyone else.
		w.renderError(c, http.StatusNotFound, "There is no such page.")
		return
	}
	w.show(c, hub.AuditScope{}, auditView{Heading: "Audit log", Admin: true}, "/api/v1/audit")
}

// namespaceLog serves GET /u/NAME/audit.
func (w *auditPages) namespaceLog(c *gin.Context) {
	if w.requireUser(c) == nil {
		return
	}
	ns := c.Param("name")
	w.show(c, hub.AuditScope{Namespace: ns}, auditView{Heading: "Audit log of " + ns, Back: "/u/" + url.PathEscape(ns),
		BackText: ns}, "/api/v1/namespaces/"+url.PathEscape(ns)+"/audit")
}

// repositoryLog serves GET /r/NAME/audit.
func (w *auditPages) repositoryLog(c *gin.Context, name string) {
	if w.requireUser(c) == nil {
		return
	}
	w.show(c, hub.AuditScope{Repository: name}, auditView{Heading: "Audit log of " + name, Back: repoURL(name, "settings"),
		BackText: name}, "/api/v1/repositories/"+name+"/audit")
}

func (w *auditPages) show(c *gin.Context, scope hub.AuditScope, v auditView, api string) {
	q := c.Request.URL.Query()
	v.Query = hub.AuditQuery{Actor: q.Get("actor"), Action: q.Get("action"), Result: q.Get("result"), Target: q.Get("target"),
		Since: q.Get("since"), Until: q.Get("until"), Before: q.Get("before")}
	f, limit, err := v.Query.Filter()
	status := http.StatusOK
	if err != nil {
		// The filters are shown again with the message next to them.
		v.Error, status = err.Error(), http.StatusBadRequest
		f, limit = models.AuditFilter{}, 100
	}
	es, next, err := w.audit.Entries(c.Request.Context(), pc(c).User, scope, f, limit)
	if err != nil {
		w.fail(c, err)
		return
	}
	v.Entries = es
	keep := url.Values{}
	for k, val := range map[string]string{"actor": v.Query.Actor, "action": v.Query.Action, "result": v.Query.Result,
		"target": v.Query.Target, "since": v.Query.Since, "until": v.Query.Until} {
		if val != "" && v.Error == "" {
			keep.Set(k, val)
		}
	}
	if next != 0 {
		older := url.Values{}
		for k, vs := range keep {
			older[k] = vs
		}
		older.Set("before", strconv.FormatInt(next, 10))
		v.Older = c.Request.URL.Path + "?" + older.Encode()
	}
	keep.Set("format", "jsonl")
	v.Export = api + "?" + keep.Encode()
	w.render(c, status, "audit.html", v.Heading, v)
}
