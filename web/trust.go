package web

import (
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/auth"
	"github.com/wharfhub/wharf/server/hub"
)

// trustPages are the signing keys and the policy of a repository (in its
// settings) or of a namespace (on its page, for its owners):
// .../signing-keys, .../signing-keys/{id}/delete and .../policy; and its
// immutable tag rules: .../immutable-tags and .../immutable-tags/{id}/delete.
type trustPages struct {
	*renderer
	trust        *hub.Trust
	immutability *hub.Immutability
	// refusedRepo shows the repository's settings again with a refused
	// form (repoPages.refused).
	refusedRepo func(c *gin.Context, name, form, msg string)
}

// trustTarget is what a trust form is about, and where it leads back.
type trustTarget struct {
	t    hub.Target
	back string // the page with the forms, without its #fragment
	// refused shows a refused form's message (form is "keys" or
	// "policy").
	refused func(c *gin.Context, form, msg string)
}

// repoTrust serves the trust forms of repository name.
func (w *trustPages) repoTrust(c *gin.Context, name string, rest []string) {
	w.route(c, trustTarget{t: hub.Target{Repository: name}, back: repoURL(name, "settings"),
		refused: func(c *gin.Context, form, msg string) { w.refusedRepo(c, name, form, msg) }}, rest)
}

// namespaceTrust serves POST /u/{name}/signing-keys... and /u/{name}/policy.
func (w *trustPages) namespaceTrust(c *gin.Context) {
	ns := c.Param("name")
	rest := strings.Split(strings.Trim(strings.TrimPrefix(c.Request.URL.Path, "/u/"+ns), "/"), "/")
	back := "/u/" + ns
	w.route(c, trustTarget{t: hub.Target{Namespace: ns}, back: back, refused: func(c *gin.Context, form, msg string) {
		w.addFlash(c, "error", msg)
		redirectTo(c, back+"#"+map[string]string{"keys": "signing-keys", "policy": "policy", "immutable": "immutable-tags"}[form])
	}}, rest)
}

func (w *trustPages) route(c *gin.Context, tt trustTarget, rest []string) {
	var do func(id *auth.Identity)
	switch {
	case len(rest) == 1 && rest[0] == "signing-keys":
		do = func(id *auth.Identity) { w.addKey(c, id, tt) }
	case len(rest) == 3 && rest[0] == "signing-keys" && rest[2] == "delete":
		do = func(id *auth.Identity) { w.deleteKey(c, id, tt, rest[1]) }
	case len(rest) == 1 && rest[0] == "policy":
		do = func(id *auth.Identity) { w.setPolicy(c, id, tt) }
	case len(rest) == 1 && rest[0] == "immutable-tags":
		do = func(id *auth.Identity) { w.addRule(c, id, tt) }
	case len(rest) == 3 && rest[0] == "immutable-tags" && rest[2] == "delete":
		do = func(id *auth.Identity) { w.deleteRule(c, id, tt, rest[1]) }
	default:
		w.renderError(c, 404, "There is nothing here, or it is private.")
		return
	}
	if id := w.requireUser(c); id != nil {
		do(id)
	}
}

// done answers a trust form: the refusal next to it, or the page again.
func (w *trustPages) done(c *gin.Context, tt trustTarget, form, fragment, ok string, err error) {
	if err != nil {
		var inv *hub.Invalid
		if asInvalid(err, &inv) {
			tt.refused(c, form, inv.Msg)
			return
		}
		w.fail(c, err)
		return
	}
	w.addFlash(c, "ok", ok)
	redirectTo(c, tt.back+"#"+fragment)
}

func (w *trustPages) addKey(c *gin.Context, id *auth.Identity, tt trustTarget) {
	k, err := w.trust.AddKey(c.Request.Context(), id, tt.t, hub.KeyInput{Name: c.PostForm("name"), PublicKey: c.PostForm("public_key")})
	msg := ""
	if err == nil {
		msg = "Key " + k.Name + " added: signatures are being verified with it."
	}
	w.done(c, tt, "keys", "signing-keys", msg, err)
}

func (w *trustPages) deleteKey(c *gin.Context, id *auth.Identity, tt trustTarget, rawID string) {
	n, ok := w.objectID(c, rawID)
	if !ok {
		return
	}
	err := w.trust.DeleteKey(c.Request.Context(), id, tt.t, n)
	w.done(c, tt, "keys", "signing-keys", "Key removed: what it verified is verified again without it.", err)
}

func (w *trustPages) setPolicy(c *gin.Context, id *auth.Identity, tt trustTarget) {
	p := models.Policy{RequireSignature: c.PostForm("require_signature") == "on", BlockSeverity: c.PostForm("block_severity")}
	_, err := w.trust.SetPolicy(c.Request.Context(), id, tt.t, p)
	w.done(c, tt, "policy", "policy", "Policy saved.", err)
}

func (w *trustPages) addRule(c *gin.Context, id *auth.Identity, tt trustTarget) {
	r, err := w.immutability.AddRule(c.Request.Context(), id, tt.t, c.PostForm("pattern"))
	msg := ""
	if err == nil {
		msg = "Tags matching " + r.Pattern + " are immutable now: once pushed, they neither move nor go."
	}
	w.done(c, tt, "immutable", "immutable-tags", msg, err)
}

func (w *trustPages) deleteRule(c *gin.Context, id *auth.Identity, tt trustTarget, rawID string) {
	n, ok := w.objectID(c, rawID)
	if !ok {
		return
	}
	err := w.immutability.DeleteRule(c.Request.Context(), id, tt.t, n)
	w.done(c, tt, "immutable", "immutable-tags", "Rule removed: the tags it protected may move and go again.", err)
}

// objectID parses the id a form's path names; anything else is a page
// that does not exist, answered here.
func (w *renderer) objectID(c *gin.Context, raw string) (int64, bool) {
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || n <= 0 {
		w.renderError(c, 404, "There is nothing here, or it is private.")
		return 0, false
	}
	return n, true
}
