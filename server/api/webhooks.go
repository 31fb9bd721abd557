package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/apierr"
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
	// State is what the log says of it: pending (not tried yet),
	// retrying, delivered or failed; NextAttemptAt is when it is tried
	// next (null when delivered, failed, or being sent right now).
	State         string     `json:"state"`
	NextAttemptAt *time.Time `json:"next_attempt_at"`
	// Detail fields, for one delivery.
	RequestHeaders  string `json:"request_headers,omitempty"`
	RequestBody     string `json:"request_body,omitempty"`
	ResponseHeaders string `json:"response_headers,omitempty"`
	ResponseBody    string `json:"response_body,omitempty"`
	// History is every attempt recorded, oldest first (deliveries from
	// before it was kept have none).
	History []attemptJSON `json:"history,omitempty"`
}

type attemptJSON struct {
	Number     int        `json:"number"`
	SentAt     time.Time  `json:"sent_at"`
	StatusCode int        `json:"status_code"`
	DurationMS int64      `json:"duration_ms"`
	Error      string     `json:"error,omitempty"`
	RetryAt    *time.Time `json:"retry_at"`
}

func toDeliveryJSON(d *models.Delivery, detail bool) deliveryJSON {
	j := deliveryJSON{ID: d.ID, Event: d.Event, Action: d.Action, Repository: d.Repository, Tag: d.Tag, Digest: d.Digest,
		Status: d.Status, StatusCode: d.StatusCode, Attempts: d.Attempts, DeliveredAt: d.DeliveredAt,
		DurationMS: d.DurationMS, Error: d.Error, CreatedAt: d.CreatedAt, State: d.State(), NextAttemptAt: d.NextTry()}
	if d.CallbackState != "" {
		j.Callback = &callbackJSON{State: d.CallbackState, Description: d.CallbackDescription, Context: d.CallbackContext,
			TargetURL: d.CallbackTargetURL, At: d.CallbackAt}
	}
	if detail {
		j.RequestHeaders, j.RequestBody, j.ResponseHeaders, j.ResponseBody = d.RequestHeaders, d.RequestBody, d.ResponseHeaders, d.ResponseBody
	}
	return j
}

// Webhooks, the same under a repository and under a namespace:
// .../webhooks[/{hook}[/test|/deliveries[/{delivery}[/redeliver]]]].

// hookTarget is what the webhook routes are under.
func hookTarget(c *gin.Context) hub.Target {
	if repo := c.Param("repo"); repo != "" {
		return hub.Target{Repository: repo}
	}
	return hub.Target{Namespace: c.Param("ns")}
}

// hookID parses the webhook id; anything else is a webhook that does not
// exist.
func hookID(c *gin.Context) (int64, bool) { return pathID(c, "hook") }

func (a *hooksAPI) listWebhooks(c *gin.Context) {
	hs, err := a.hooks.List(c.Request.Context(), identity(c), hookTarget(c))
	if err != nil {
		a.error(c, err)
		return
	}
	out := make([]webhookJSON, 0, len(hs))
	for i := range hs {
		out = append(out, toWebhookJSON(&hs[i]))
	}
	c.JSON(http.StatusOK, out)
}

type newWebhookBody struct {
	Name   string   `json:"name"`
	URL    string   `json:"url"`
	Events []string `json:"events"`
	Secret string   `json:"secret"`
	Active *bool    `json:"active"`
}

func (a *hooksAPI) createWebhook(c *gin.Context, body *newWebhookBody) {
	h, err := a.hooks.Create(c.Request.Context(), identity(c), hookTarget(c),
		hub.WebhookInput{Name: body.Name, URL: body.URL, Events: body.Events, Secret: body.Secret, Active: body.Active})
	if err != nil {
		a.error(c, err)
		return
	}
	c.JSON(http.StatusCreated, toWebhookJSON(h))
}

func (a *hooksAPI) getWebhook(c *gin.Context) {
	n, ok := hookID(c)
	if !ok {
		return
	}
	h, err := a.hooks.Get(c.Request.Context(), identity(c), hookTarget(c), n)
	if err != nil {
		a.error(c, err)
		return
	}
	c.JSON(http.StatusOK, toWebhookJSON(h))
}

type webhookPatchBody struct {
	Active *bool `json:"active"`
}

func (a *hooksAPI) patchWebhook(c *gin.Context, body *webhookPatchBody) {
	n, ok := hookID(c)
	if !ok {
		return
	}
	if body.Active == nil {
		fail(c, apierr.Invalid, "only active can be changed; delete and recreate a webhook to change its URL or secret")
		return
	}
	h, err := a.hooks.SetActive(c.Request.Context(), identity(c), hookTarget(c), n, *body.Active)
	if err != nil {
		a.error(c, err)
		return
	}
	c.JSON(http.StatusOK, toWebhookJSON(h))
}

func (a *hooksAPI) deleteWebhook(c *gin.Context) {
	n, ok := hookID(c)
	if !ok {
		return
	}
	if err := a.hooks.Delete(c.Request.Context(), identity(c), hookTarget(c), n); err != nil {
		a.error(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (a *hooksAPI) testWebhook(c *gin.Context) {
	n, ok := hookID(c)
	if !ok {
		return
	}
	d, err := a.hooks.Test(c.Request.Context(), identity(c), hookTarget(c), n)
	if err != nil {
		a.error(c, err)
		return
	}
	c.JSON(http.StatusAccepted, toDeliveryJSON(d, false))
}

func (a *hooksAPI) listDeliveries(c *gin.Context) {
	n, ok := hookID(c)
	if !ok {
		return
	}
	limit, offset := page(c)
	ds, err := a.hooks.Deliveries(c.Request.Context(), identity(c), hookTarget(c), n, limit, offset)
	if err != nil {
		a.error(c, err)
		return
	}
	out := make([]deliveryJSON, 0, len(ds))
	for i := range ds {
		out = append(out, toDeliveryJSON(&ds[i], false))
	}
	c.JSON(http.StatusOK, out)
}

func (a *hooksAPI) getDelivery(c *gin.Context) {
	n, ok := hookID(c)
	if !ok {
		return
	}
	d, err := a.hooks.DeliveryLog(c.Request.Context(), identity(c), hookTarget(c), n, c.Param("delivery"))
	if err != nil {
		a.error(c, err)
		return
	}
	j := toDeliveryJSON(&d.Delivery, true)
	for _, h := range d.History {
		j.History = append(j.History, attemptJSON{Number: h.Number, SentAt: h.SentAt, StatusCode: h.StatusCode,
			DurationMS: h.DurationMS, Error: h.Error, RetryAt: h.RetryAt})
	}
	c.JSON(http.StatusOK, j)
}

func (a *hooksAPI) redeliver(c *gin.Context) {
	n, ok := hookID(c)
	if !ok {
		return
	}
	d, err := a.hooks.Redeliver(c.Request.Context(), identity(c), hookTarget(c), n, c.Param("delivery"))
	if err != nil {
		a.error(c, err)
		return
	}
	c.JSON(http.StatusAccepted, toDeliveryJSON(d, false))
}

const callbackKey = "wharf.callback"

// admitCallback checks a callback URL's delivery and token before the body
// is read: the URL authenticates the receiver, and a caller without it
// gets nothing decoded.
func (a *hooksAPI) admitCallback(c *gin.Context) {
	d, err := a.hooks.CallbackTarget(c.Request.Context(), c.Param("delivery"), c.Param("token"))
	if err != nil {
		a.error(c, err)
		return
	}
	c.Set(callbackKey, d)
}

type callbackBody struct {
	State       string `json:"state"`
	Description string `json:"description"`
	Context     string `json:"context"`
	TargetURL   string `json:"target_url"`
}

// callback takes a receiver's report on a delivery, at the URL it was
// given in the payload's callback_url.
func (a *hooksAPI) callback(c *gin.Context, body *callbackBody) {
	d := c.MustGet(callbackKey).(*hub.CallbackDelivery)
	err := a.hooks.RecordCallback(c.Request.Context(), d,
		hub.CallbackReport{State: body.State, Description: body.Description, Context: body.Context, TargetURL: body.TargetURL})
	if err != nil {
		a.error(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"state": body.State})
}
