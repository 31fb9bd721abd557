package web

import (
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/wharfhub/wharf/server/hub"
)

func (w *orgPages) createOrg(c *gin.Context) {
	id := w.requireUser(c)
	if id == nil {
		return
	}
	o, err := w.orgs.Create(c.Request.Context(), id, strings.TrimSpace(c.PostForm("name")), strings.TrimSpace(c.PostForm("description")))
	if err != nil {
		var inv *hub.Invalid
		switch {
		case asInvalid(err, &inv):
			w.addFlash(c, "error", inv.Msg)
		case isConflict(err):
			w.addFlash(c, "error", "That name is taken.")
		default:
			w.fail(c, err)
			return
		}
		redirectTo(c, "/settings#orgs")
		return
	}
	w.addFlash(c, "ok", "Organization "+o.Name+" created.")
	redirectTo(c, "/u/"+o.Name)
}

func (w *orgPages) orgResult(c *gin.Context, org string, err error, ok string) {
	w.formResult(c, "/u/"+org, err, ok)
}

// formResult answers a form that leads back to a page: its refusal, or
// ok, as the page's message (and any other error as a page).
func (w *renderer) formResult(c *gin.Context, back string, err error, ok string) {
	if err != nil {
		var inv *hub.Invalid
		if !asInvalid(err, &inv) {
			w.fail(c, err)
			return
		}
		w.addFlash(c, "error", inv.Msg)
	} else {
		w.addFlash(c, "ok", ok)
	}
	redirectTo(c, back)
}

func (w *orgPages) setMember(c *gin.Context) {
	id := w.requireUser(c)
	if id == nil {
		return
	}
	org, user := c.Param("name"), strings.TrimSpace(c.PostForm("user"))
	err := w.orgs.SetMember(c.Request.Context(), id, org, user, c.PostForm("role"))
	w.orgResult(c, org, err, user+" is now "+c.PostForm("role")+" of "+org+".")
}

func (w *orgPages) removeMember(c *gin.Context) {
	id := w.requireUser(c)
	if id == nil {
		return
	}
	org, user := c.Param("name"), c.Param("user")
	err := w.orgs.RemoveMember(c.Request.Context(), id, org, user)
	w.orgResult(c, org, err, user+" left "+org+".")
}

func (w *orgPages) orgSettings(c *gin.Context) {
	id := w.requireUser(c)
	if id == nil {
		return
	}
	org := c.Param("name")
	desc := strings.TrimSpace(c.PostForm("description"))
	perm := c.PostForm("member_permission")
	_, err := w.orgs.Update(c.Request.Context(), id, org, hub.OrgPatch{Description: &desc, MemberPermission: &perm})
	w.orgResult(c, org, err, "Organization settings saved.")
}

// deleteOrg deletes an organization once its name is typed to confirm.
func (w *orgPages) deleteOrg(c *gin.Context) {
	id := w.requireUser(c)
	if id == nil {
		return
	}
	org := c.Param("name")
	if strings.TrimSpace(c.PostForm("confirm")) != org {
		w.addFlash(c, "error", "Type the organization's name to confirm the deletion.")
		redirectTo(c, "/u/"+org+"#danger")
		return
	}
	if err := w.orgs.Delete(c.Request.Context(), id, org); err != nil {
		w.fail(c, err)
		return
	}
	w.addFlash(c, "ok", "Organization "+org+" deleted.")
	redirectTo(c, "/settings#orgs")
}
