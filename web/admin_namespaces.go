package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/hub"
)

// adminNamespaces is the site administrators' namespaces page,
// /admin/namespaces: every user and organization with what it stores
// against its quota (a bar), a quota to set, and for organizations a new
// owner and a deletion (typed to confirm).
type adminNamespaces struct {
	*adminPages
	orgs *hub.Orgs
}

type namespacesView struct {
	Q          string
	Rows       []models.NamespaceUsage
	Total      int64
	Page       int
	Prev, Next string
	Error      string
	CSRF       string
}

// Percent is how much of its quota a namespace uses (0 without one).
func (namespacesView) Percent(u models.Usage) int {
	if u.QuotaBytes <= 0 {
		return 0
	}
	return int(min(u.Bytes*100/u.QuotaBytes, 100))
}

const namespacesPerPage = 25

// list serves GET /admin/namespaces.
func (w *adminNamespaces) list(c *gin.Context) {
	if w.requireAdmin(c) {
		w.show(c, http.StatusOK, "")
	}
}

func (w *adminNamespaces) show(c *gin.Context, status int, msg string) {
	v := namespacesView{Q: strings.TrimSpace(c.Query("q")), Page: 1, Error: msg, CSRF: pc(c).CSRF}
	if p, err := strconv.Atoi(c.Query("page")); err == nil && p > 1 && p < 100000 {
		v.Page = p
	}
	rows, total, err := w.namespaces.Overview(c.Request.Context(), pc(c).User, v.Q, (v.Page-1)*namespacesPerPage, namespacesPerPage)
	var inv *hub.Invalid
	if asInvalid(err, &inv) {
		v.Q, v.Error, status = "", inv.Msg, http.StatusBadRequest
		rows, total, err = w.namespaces.Overview(c.Request.Context(), pc(c).User, "", 0, namespacesPerPage)
	}
	if err != nil {
		w.fail(c, err)
		return
	}
	v.Rows, v.Total = rows, total
	v.Prev, v.Next = pageLinks("/admin/namespaces", v.Q, v.Page, namespacesPerPage, total)
	w.render(c, status, "admin_namespaces.html", "Namespaces", v)
}

// units are the quota form's units, in bytes.
var units = map[string]int64{"MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}

// act serves POST /admin/namespaces/:name/{quota,owner,delete}.
func (w *adminNamespaces) act(c *gin.Context) {
	if !w.requireAdmin(c) {
		return
	}
	ctx, id, name := c.Request.Context(), pc(c).User, c.Param("name")
	var err error
	ok := ""
	switch c.Param("action") {
	case "quota":
		n, perr := strconv.ParseFloat(strings.TrimSpace(c.PostForm("amount")), 64)
		unit, known := units[c.PostForm("unit")]
		if perr != nil || !known || n < 0 || n > 1<<20 {
			w.show(c, http.StatusBadRequest, "A quota is a number of MiB, GiB or TiB (0 for none).")
			return
		}
		bytes := int64(n * float64(unit))
		if err = w.namespaces.SetQuota(ctx, id, name, bytes); err == nil {
			ok = "The quota of " + name + " is " + humanBytes(bytes) + " now."
			if bytes == 0 {
				ok = name + " has no quota now."
			}
		}
	case "owner":
		user := strings.TrimSpace(c.PostForm("user"))
		if err = w.orgs.SetMember(ctx, id, name, user, models.RoleOwner); err == nil {
			ok = user + " is an owner of " + name + " now."
		}
	case "delete":
		if c.PostForm("confirm") != name {
			w.show(c, http.StatusBadRequest, "To delete "+name+", type its name in the box.")
			return
		}
		if err = w.orgs.Delete(ctx, id, name); err == nil {
			ok = name + " is deleted, with its repositories."
		}
	default:
		w.renderError(c, http.StatusNotFound, "There is no such page.")
		return
	}
	var inv *hub.Invalid
	switch {
	case asInvalid(err, &inv):
		w.show(c, http.StatusBadRequest, inv.Msg)
	case errors.Is(err, hub.ErrNotFound):
		w.show(c, http.StatusNotFound, "There is no organization or account named "+name+".")
	case err != nil:
		w.fail(c, err)
	default:
		w.addFlash(c, "ok", ok)
		redirectTo(c, "/admin/namespaces"+keepQuery(c))
	}
}
