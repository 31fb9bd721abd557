package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/auth"
	"github.com/wharfhub/wharf/server/hub"
)

func rest0(rest []string) string {
	if len(rest) == 0 {
		return ""
	}
	return rest[0]
}

// webhookRoute serves /r/{name}/webhooks/...: create, the delivery log,
// test, enable, delete and redeliver.
func (w *hookPages) webhookRoute(c *gin.Context, name string, rest []string) {
	w.targetHooks(c, hub.Target{Repository: name}, repoURL(name), repoURL(name, "settings")+"#webhooks", rest)
}

// namespaceWebhooks serves /u/{name}/webhooks/... for a namespace's owner.
func (w *hookPages) namespaceWebhooks(c *gin.Context) {
	rest := append([]string{"webhooks"}, strings.Split(strings.Trim(c.Param("rest"), "/"), "/")...)
	if rest[len(rest)-1] == "" {
		rest = rest[:len(rest)-1]
	}
	ns := c.Param("name")
	w.targetHooks(c, hub.Target{Namespace: ns}, "/u/"+ns, "/u/"+ns+"#webhooks", rest)
}

func (w *hookPages) targetHooks(c *gin.Context, t hub.Target, base, back string, rest []string) {
	id := w.requireUser(c)
	if id == nil {
		return
	}
	post := c.Request.Method == http.MethodPost
	if len(rest) == 1 && post {
		in := hub.WebhookInput{Name: c.PostForm("name"), URL: strings.TrimSpace(c.PostForm("url")), Events: c.PostFormArray("events"), Secret: c.PostForm("secret")}
		if _, err := w.hooks.Create(c.Request.Context(), id, t, in); err != nil {
			var inv *hub.Invalid
			if t.Repository != "" && w.refusedRepo != nil && asInvalid(err, &inv) {
				w.refusedRepo(c, t.Repository, "webhooks", inv.Msg)
				return
			}
			w.formError(c, err, back)
			return
		}
		w.addFlash(c, "ok", "Webhook "+in.Name+" added.")
		redirectTo(c, back)
		return
	}
	if len(rest) < 2 {
		w.renderError(c, http.StatusNotFound, "There is nothing here, or it is private.")
		return
	}
	hookID, err := strconv.ParseInt(rest[1], 10, 64)
	if err != nil {
		w.renderError(c, http.StatusNotFound, "There is nothing here, or it is private.")
		return
	}
	ctx := c.Request.Context()
	self := base + "/webhooks/" + rest[1]
	switch {
	case len(rest) == 2 && !post:
		w.webhookPage(c, id, t, hookID, base, back)
	case len(rest) == 3 && post && rest[2] == "delete":
		if err := w.hooks.Delete(ctx, id, t, hookID); err != nil {
			w.fail(c, err)
			return
		}
		w.addFlash(c, "ok", "Webhook deleted.")
		redirectTo(c, back)
	case len(rest) == 3 && post && rest[2] == "test":
		if _, err := w.hooks.Test(ctx, id, t, hookID); err != nil {
			w.fail(c, err)
			return
		}
		w.addFlash(c, "ok", "A test delivery is on its way.")
		redirectTo(c, self)
	case len(rest) == 3 && post && (rest[2] == "enable" || rest[2] == "disable"):
		if _, err := w.hooks.SetActive(ctx, id, t, hookID, rest[2] == "enable"); err != nil {
			w.fail(c, err)
			return
		}
		redirectTo(c, self)
	case len(rest) == 5 && post && rest[2] == "deliveries" && rest[4] == "redeliver":
		if _, err := w.hooks.Redeliver(ctx, id, t, hookID, rest[3]); err != nil {
			w.fail(c, err)
			return
		}
		w.addFlash(c, "ok", "Delivery queued again.")
		redirectTo(c, self)
	default:
		w.renderError(c, http.StatusNotFound, "There is nothing here, or it is private.")
	}
}

func (w *renderer) formError(c *gin.Context, err error, back string) {
	var inv *hub.Invalid
	if asInvalid(err, &inv) {
		w.addFlash(c, "error", inv.Msg)
		redirectTo(c, back)
		return
	}
	w.fail(c, err)
}

type webhookPageData struct {
	Base, BackURL, BackLabel string
	Hook                     *models.Webhook
	Deliveries               []deliveryView
}

func (w *hookPages) webhookPage(c *gin.Context, id *auth.Identity, t hub.Target, hookID int64, base, back string) {
	ctx := c.Request.Context()
	h, err := w.hooks.Get(ctx, id, t, hookID)
	if err != nil {
		w.fail(c, err)
		return
	}
	ds, err := w.hooks.DeliveryLogs(ctx, id, t, hookID, 50, 0)
	if err != nil {
		w.fail(c, err)
		return
	}
	label := t.Repository + " settings"
	if t.Namespace != "" {
		label = t.Namespace
	}
	w.render(c, http.StatusOK, "webhook.html", h.Name, webhookPageData{Base: base, BackURL: back, BackLabel: label, Hook: h, Deliveries: deliveryViews(ds, time.Now())})
}
