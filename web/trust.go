package web

import (
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/hub"
)

// trustPages are a repository's signing keys and policy, in its
// settings: .../signing-keys, .../signing-keys/{id}/delete and .../policy.
type trustPages struct {
	*renderer
	trust *hub.Trust
	// refusedRepo shows the repository's settings again with a refused
	// form (repoPages.refused).
	refusedRepo func(c *gin.Context, name, form, msg string)
}

// trustRoute serves the POSTs under .../signing-keys and .../policy.
func (w *trustPages) trustRoute(c *gin.Context, name string, rest []string) {
	switch {
	case len(rest) == 1 && rest[0] == "signing-keys":
		w.addKey(c, name)
	case len(rest) == 3 && rest[0] == "signing-keys" && rest[2] == "delete":
		w.deleteKey(c, name, rest[1])
	case len(rest) == 1 && rest[0] == "policy":
		w.setPolicy(c, name)
	default:
		w.renderError(c, 404, "There is nothing here, or it is private.")
	}
}

func (w *trustPages) addKey(c *gin.Context, name string) {
	id := w.requireUser(c)
	if id == nil {
		return
	}
	k, err := w.trust.AddKey(c.Request.Context(), id, hub.Target{Repository: name},
		hub.KeyInput{Name: c.PostForm("name"), PublicKey: c.PostForm("public_key")})
	if err != nil {
		var inv *hub.Invalid
		if asInvalid(err, &inv) {
			w.refusedRepo(c, name, "keys", inv.Msg)
			return
		}
		w.fail(c, err)
		return
	}
	w.addFlash(c, "ok", "Key "+k.Name+" added: signatures are being verified with it.")
	redirectTo(c, repoURL(name, "settings")+"#signing-keys")
}

func (w *trustPages) deleteKey(c *gin.Context, name, rawID string) {
	id := w.requireUser(c)
	if id == nil {
		return
	}
	n, err := strconv.ParseInt(rawID, 10, 64)
	if err != nil {
		w.renderError(c, 404, "There is nothing here, or it is private.")
		return
	}
	if err := w.trust.DeleteKey(c.Request.Context(), id, hub.Target{Repository: name}, n); err != nil {
		w.fail(c, err)
		return
	}
	w.addFlash(c, "ok", "Key removed: what it verified is verified again without it.")
	redirectTo(c, repoURL(name, "settings")+"#signing-keys")
}

func (w *trustPages) setPolicy(c *gin.Context, name string) {
	id := w.requireUser(c)
	if id == nil {
		return
	}
	p := models.Policy{RequireSignature: c.PostForm("require_signature") == "on", BlockSeverity: c.PostForm("block_severity")}
	if _, err := w.trust.SetPolicy(c.Request.Context(), id, hub.Target{Repository: name}, p); err != nil {
		var inv *hub.Invalid
		if asInvalid(err, &inv) {
			w.refusedRepo(c, name, "policy", inv.Msg)
			return
		}
		w.fail(c, err)
		return
	}
	w.addFlash(c, "ok", "Policy saved.")
	redirectTo(c, repoURL(name, "settings")+"#policy")
}
