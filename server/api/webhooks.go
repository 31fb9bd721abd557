package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/hub"
)

type webhookJSON struct {
	ID             int64     `json:"id"`
	Name           string    `json:"name"`
	URL            string    `json:"url"`
	Events         []string  `json:"events"`
	Active         bool      `json:"active"`
	HasSecret      bool      `json:"has_secret"`
	DisabledReason string    `json:"disabled_reason,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
}

func toWebhookJSON(h *models.Webhook) webhookJSON {
	return webhookJSON{ID: h.ID, Name: h.Name, URL: h.URL, Events: fields(h.Events), Active: h.Active,
		HasSecret: h.Secret != "", DisabledReason: h.DisabledReason, CreatedAt: h.CreatedAt}
}

type callbackJSON struct {
	State       string     `json:"state"`
	Description string     `json:"description,omitempty"`
	Context     string     `json:"context,omitempty"`
	TargetURL   string     `json:"target_url,omitempty"`
	At          *time.Time `json:"at,omitempty"`
}

type deliveryJSON struct {
	ID          string        `json:"id"`
	Event       string        `json:"event"`
	Action      string        `json:"action,omitempty"`
	Repository  string        `json:"repository"`
	Tag         string        `json:"tag,omitempty"`
	Digest      string        `json:"digest,omitempty"`
	Status      string        `json:"status"`
	StatusCode  int           `json:"status_code"`
	Attempts    int           `json:"attempts"`
	DeliveredAt *time.Time    `json:"delivered_at"`
	DurationMS  int64         `json:"duration_ms"`
	Error       string        `json:"error,omitempty"`
	CreatedAt   time.Time     `json:"created_at"`
	Callback    *callbackJSON `json:"callback,omitempty"`
	// Detail fields, for one delivery.
	RequestHeaders  string `json:"request_headers,omitempty"`
	RequestBody     string `json:"request_body,omitempty"`
	ResponseHeaders string `json:"response_headers,omitempty"`
	ResponseBody    string `json:"response_body,omitempty"`
}

func toDeliveryJSON(d *models.Delivery, detail bool) deliveryJSON {
	j := deliveryJSON{ID: d.ID, Event: d.Event, Action: d.Action, Repository: d.Repository, Tag: d.Tag, Digest: d.Digest,
		Status: d.Status, StatusCode: d.StatusCode, Attempts: d.Attempts, DeliveredAt: d.DeliveredAt,
		DurationMS: d.DurationMS, Error: d.Error, CreatedAt: d.CreatedAt}
	if d.CallbackState != "" {
		j.Callback = &callbackJSON{State: d.CallbackState, Description: d.CallbackDescription, Context: d.CallbackContext,
			TargetURL: d.CallbackTargetURL, At: d.CallbackAt}
	}
	if detail {
		j.RequestHeaders, j.RequestBody, j.ResponseHeaders, j.ResponseBody = d.RequestHeaders, d.RequestBody, d.ResponseHeaders, d.ResponseBody
	}
	return j
}

// namespaceWebhooks serves /api/v1/namespaces/{ns}/webhooks/..., and the
// namespace's usage and quota.
func (a *API) namespaceWebhooks(c *gin.Context) {
	rest := strings.Split(strings.Trim(c.Param("rest"), "/"), "/")
	if len(rest) == 1 && rest[0] == "usage" && c.Request.Method == http.MethodGet {
		u, err := a.hub.Usage(c.Request.Context(), identity(c), c.Param("ns"))
		if err != nil {
			a.error(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"bytes": u.Bytes, "blobs": u.Blobs, "repositories": u.Repositories, "quota_bytes": u.QuotaBytes})
		return
	}
	if len(rest) == 1 && rest[0] == "quota" && c.Request.Method == http.MethodPut {
		var body struct {
			Bytes int64 `json:"bytes"`
		}
		if !bind(c, &body) {
			return
		}
		if err := a.hub.SetQuota(c.Request.Context(), identity(c), c.Param("ns"), body.Bytes); err != nil {
			a.error(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"quota_bytes": body.Bytes})
		return
	}
	if len(rest) == 0 || rest[0] != "webhooks" {
		fail(c, http.StatusNotFound, "not_found", "no such API endpoint")
		return
	}
	if !a.webhookRoute(c, hub.HookTarget{Namespace: c.Param("ns")}, rest) {
		fail(c, http.StatusNotFound, "not_found", "no such API endpoint")
	}
}

// webhookRoute dispatches .../webhooks[/{id}[/test|/deliveries[/{d}[/redeliver]]]]
// and reports whether the path was one of them.
func (a *API) webhookRoute(c *gin.Context, t hub.HookTarget, rest []string) bool {
	if len(rest) == 0 || rest[0] != "webhooks" {
		return false
	}
	ctx, id, m := c.Request.Context(), identity(c), c.Request.Method
	hookID := int64(0)
	if len(rest) > 1 {
		n, err := strconv.ParseInt(rest[1], 10, 64)
		if err != nil {
			fail(c, http.StatusNotFound, "not_found", "not found")
			return true
		}
		hookID = n
	}
	switch {
	case len(rest) == 1 && m == http.MethodGet:
		hs, err := a.hub.Webhooks(ctx, id, t)
		if err != nil {
			a.error(c, err)
			return true
		}
		out := make([]webhookJSON, 0, len(hs))
		for i := range hs {
			out = append(out, toWebhookJSON(&hs[i]))
		}
		c.JSON(http.StatusOK, out)
	case len(rest) == 1 && m == http.MethodPost:
		var body struct {
			Name   string   `json:"name"`
			URL    string   `json:"url"`
			Events []string `json:"events"`
			Secret string   `json:"secret"`
			Active *bool    `json:"active"`
		}
		if !bind(c, &body) {
			return true
		}
		h, err := a.hub.CreateWebhook(ctx, id, t, hub.WebhookInput{Name: body.Name, URL: body.URL, Events: body.Events, Secret: body.Secret, Active: body.Active})
		if err != nil {
			a.error(c, err)
			return true
		}
		c.JSON(http.StatusCreated, toWebhookJSON(h))
	case len(rest) == 2 && m == http.MethodGet:
		h, err := a.hub.GetWebhook(ctx, id, t, hookID)
		if err != nil {
			a.error(c, err)
			return true
		}
		c.JSON(http.StatusOK, toWebhookJSON(h))
	case len(rest) == 2 && m == http.MethodPatch:
		var body struct {
			Active *bool `json:"active"`
		}
		if !bind(c, &body) {
			return true
		}
		if body.Active == nil {
			fail(c, http.StatusBadRequest, "invalid", "only active can be changed; delete and recreate a webhook to change its URL or secret")
			return true
		}
		h, err := a.hub.SetWebhookActive(ctx, id, t, hookID, *body.Active)
		if err != nil {
			a.error(c, err)
			return true
		}
		c.JSON(http.StatusOK, toWebhookJSON(h))
	case len(rest) == 2 && m == http.MethodDelete:
		if err := a.hub.DeleteWebhook(ctx, id, t, hookID); err != nil {
			a.error(c, err)
			return true
		}
		c.Status(http.StatusNoContent)
	case len(rest) == 3 && rest[2] == "test" && m == http.MethodPost:
		d, err := a.hub.TestWebhook(ctx, id, t, hookID)
		if err != nil {
			a.error(c, err)
			return true
		}
		c.JSON(http.StatusAccepted, toDeliveryJSON(d, false))
	case len(rest) == 3 && rest[2] == "deliveries" && m == http.MethodGet:
		limit, offset := page(c)
		ds, err := a.hub.Deliveries(ctx, id, t, hookID, limit, offset)
		if err != nil {
			a.error(c, err)
			return true
		}
		out := make([]deliveryJSON, 0, len(ds))
		for i := range ds {
			out = append(out, toDeliveryJSON(&ds[i], false))
		}
		c.JSON(http.StatusOK, out)
	case len(rest) == 4 && rest[2] == "deliveries" && m == http.MethodGet:
		d, err := a.hub.Delivery(ctx, id, t, hookID, rest[3])
		if err != nil {
			a.error(c, err)
			return true
		}
		c.JSON(http.StatusOK, toDeliveryJSON(d, true))
	case len(rest) == 5 && rest[2] == "deliveries" && rest[4] == "redeliver" && m == http.MethodPost:
		d, err := a.hub.Redeliver(ctx, id, t, hookID, rest[3])
		if err != nil {
			a.error(c, err)
			return true
		}
		c.JSON(http.StatusAccepted, toDeliveryJSON(d, false))
	default:
		return false
	}
	return true
}

// callback takes a receiver's report on a delivery: the URL it was given
// in the payload's callback_url authenticates it.
func (a *API) callback(c *gin.Context) {
	var body struct {
		State       string `json:"state"`
		Description string `json:"description"`
		Context     string `json:"context"`
		TargetURL   string `json:"target_url"`
	}
	if !bind(c, &body) {
		return
	}
	if err := a.hub.Callback(c.Request.Context(), c.Param("delivery"), c.Param("token"), body.State, body.Description, body.Context, body.TargetURL); err != nil {
		a.error(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"state": body.State})
}
