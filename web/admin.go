package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/wharfhub/wharf/server/hub"
	"github.com/wharfhub/wharf/server/mirror"
)

// adminPages are the site administrators' pages.
type adminPages struct {
	*renderer
	namespaces *hub.Namespaces
	catalog    *mirror.Catalog
}

// mirrorForm is the form that adds a mirror, with what was typed (never
// the password) and what was wrong with it.
type mirrorForm struct {
	Name, URL, Username string
	Error               string
}

type mirrorsView struct {
	Mirrors []hub.MirrorInfo
	Form    mirrorForm
}

// requireAdmin lets site administrators through; anyone else signed in
// sees the same page as for a path that does not exist.
func (w *adminPages) requireAdmin(c *gin.Context) bool {
	id := w.requireUser(c)
	if id == nil {
		return false
	}
	if !id.CanAdministerSite() {
		w.renderError(c, http.StatusNotFound, "There is no such page.")
		return false
	}
	return true
}

// mirrors serves GET /admin/mirrors: the mirrors, what each has cached,
// and the form that adds one.
func (w *adminPages) mirrors(c *gin.Context) {
	if w.requireAdmin(c) {
		w.renderMirrors(c, http.StatusOK, mirrorForm{})
	}
}

func (w *adminPages) renderMirrors(c *gin.Context, status int, f mirrorForm) {
	ms, err := w.namespaces.Mirrors(c.Request.Context(), pc(c).User)
	if err != nil {
		w.fail(c, err)
		return
	}
	w.render(c, status, "admin_mirrors.html", "Mirrors", mirrorsView{Mirrors: ms, Form: f})
}

// addMirror serves POST /admin/mirrors.
func (w *adminPages) addMirror(c *gin.Context) {
	if !w.requireAdmin(c) {
		return
	}
	f := mirrorForm{Name: strings.TrimSpace(c.PostForm("name")), URL: strings.TrimSpace(c.PostForm("url")),
		Username: strings.TrimSpace(c.PostForm("username"))}
	d := mirror.Def{Name: f.Name, URL: f.URL, Username: f.Username, Password: c.PostForm("password")}
	if err := w.catalog.Define(c.Request.Context(), pc(c).User, d); err != nil {
		var inv *hub.Invalid
		switch {
		case asInvalid(err, &inv):
			f.Error = inv.Msg
		case errors.Is(err, mirror.ErrFromFlags):
			f.Error = "A mirror named " + f.Name + " is defined by --mirror (or the environment or config file); change it there."
		case isConflict(err):
			f.Error = "The name " + f.Name + " is taken by an account, an organization or a mirror."
		default:
			w.fail(c, err)
			return
		}
		w.renderMirrors(c, http.StatusBadRequest, f)
		return
	}
	w.addFlash(c, "ok", "Mirror "+f.Name+" added: pull "+w.cfg.RegistryHost+"/"+f.Name+"/<repository>.")
	redirectTo(c, "/admin/mirrors")
}

// removeMirror serves POST /admin/mirrors/:name/remove: the mirror and
// everything it cached.
func (w *adminPages) removeMirror(c *gin.Context) {
	if !w.requireAdmin(c) {
		return
	}
	name := c.Param("name")
	if err := w.catalog.Remove(c.Request.Context(), pc(c).User, name); err != nil {
		if errors.Is(err, mirror.ErrFromFlags) {
			w.addFlash(c, "error", "The mirror "+name+" is defined by --mirror (or the environment or config file); remove it there.")
			redirectTo(c, "/admin/mirrors")
			return
		}
		w.fail(c, err)
		return
	}
	w.addFlash(c, "ok", "Mirror "+name+" removed, with everything it had cached.")
	redirectTo(c, "/admin/mirrors")
}
