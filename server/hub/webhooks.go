package hub

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/auth"
	"github.com/wharfhub/wharf/server/textcheck"
)

// WebhookEvents are the events a webhook may ask for.
var WebhookEvents = []string{"push", "delete", "signature", "scan_completed"}

// WebhookInput is a new webhook.
type WebhookInput struct {
	Name   string
	URL    string
	Events []string
	Secret string
	Active *bool
}

func (s *Webhooks) validateWebhook(ctx context.Context, in *WebhookInput) error {
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" {
		return invalid("A webhook needs a name of 1 to 100 characters.")
	}
	in.URL = strings.TrimSpace(in.URL)
	if err := checkTexts(textField{webhookNameText, in.Name}, textField{webhookURLText, in.URL}, textField{webhookSecretText, in.Secret}); err != nil {
		return err
	}
	u, err := url.Parse(in.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return invalid("The webhook URL must be an absolute http:// or https:// URL without credentials.")
	}
	in.URL = u.String()
	if len(in.Events) == 0 {
		in.Events = []string{"push"}
	}
	for _, e := range in.Events {
		if !slices.Contains(WebhookEvents, e) {
			return invalid("Events must be among push, delete and signature.")
		}
	}
	if s.checkURL != nil {
		if err := s.checkURL(ctx, in.URL); err != nil {
			return invalidErr(err)
		}
	}
	return nil
}

// Target is what a webhook, a signing key or a policy belongs to: a
// repository, or a namespace.
type Target struct {
	Repository string // full name, for a repository's webhooks
	Namespace  string // for a namespace's webhooks
}

// owns reports whether an object of a repository (repositoryID) or of a
// namespace (namespace) belongs to t, whose repository's id is repoID (0
// for a namespace): another target's object id is not found, an
// object-level check on every id.
func (t Target) owns(repoID int64, repositoryID *int64, namespace *string) bool {
	if repoID != 0 {
		return repositoryID != nil && *repositoryID == repoID
	}
	return repositoryID == nil && namespace != nil && *namespace == t.Namespace
}

// authorizeTarget checks that the caller manages the target, and returns
// the repository id (0 for a namespace).
func (s *base) authorizeTarget(ctx context.Context, id *auth.Identity, t Target) (int64, error) {
	if t.Repository != "" {
		r, err := s.authorizeRepo(ctx, id, t.Repository, auth.ActionManage)
		if err != nil {
			return 0, err
		}
		return r.ID, nil
	}
	ns, err := s.namespace(ctx, id, t.Namespace)
	if err != nil {
		return 0, err
	}
	if id == nil {
		return 0, auth.ErrUnauthenticated
	}
	if !ns.IsOwner || !id.CanManageAccount() {
		return 0, auth.ErrDenied
	}
	return 0, nil
}

// Create adds a webhook to a repository or a namespace.
func (s *Webhooks) Create(ctx context.Context, id *auth.Identity, t Target, in WebhookInput) (*models.Webhook, error) {
	noteTarget(ctx, "webhook.create", t, "webhook "+in.Name, "")
	repoID, err := s.authorizeTarget(ctx, id, t)
	if err != nil {
		return nil, err
	}
	if err := s.validateWebhook(ctx, &in); err != nil {
		return nil, err
	}
	h := &models.Webhook{Name: in.Name, URL: in.URL, Secret: in.Secret, Events: strings.Join(in.Events, " "), Active: in.Active == nil || *in.Active}
	if repoID != 0 {
		h.RepositoryID = &repoID
	} else {
		ns := t.Namespace
		h.Namespace = &ns
	}
	if err := s.db.Webhooks.Create(ctx, h); err != nil {
		return nil, err
	}
	return h, nil
}

// List lists the webhooks of a repository or namespace.
func (s *Webhooks) List(ctx context.Context, id *auth.Identity, t Target) ([]models.Webhook, error) {
	repoID, err := s.authorizeTarget(ctx, id, t)
	if err != nil {
		return nil, err
	}
	if repoID != 0 {
		return s.db.Webhooks.ListForRepository(ctx, repoID)
	}
	return s.db.Webhooks.ListForNamespace(ctx, t.Namespace)
}

// webhook loads a webhook that belongs to the target: another target's
// webhook id is not found (an object-level check on every id).
func (s *Webhooks) webhook(ctx context.Context, id *auth.Identity, t Target, hookID int64) (*models.Webhook, error) {
	repoID, err := s.authorizeTarget(ctx, id, t)
	if err != nil {
		return nil, err
	}
	h, err := s.db.Webhooks.Get(ctx, hookID)
	if errors.Is(err, models.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if !t.owns(repoID, h.RepositoryID, h.Namespace) {
		return nil, ErrNotFound
	}
	return h, nil
}

// Get returns one webhook of the target.
func (s *Webhooks) Get(ctx context.Context, id *auth.Identity, t Target, hookID int64) (*models.Webhook, error) {
	return s.webhook(ctx, id, t, hookID)
}

// Delete removes a webhook and its delivery log.
func (s *Webhooks) Delete(ctx context.Context, id *auth.Identity, t Target, hookID int64) error {
	noteTarget(ctx, "webhook.delete", t, fmt.Sprintf("webhook %d", hookID), "")
	h, err := s.webhook(ctx, id, t, hookID)
	if err != nil {
		return err
	}
	return s.db.Webhooks.Delete(ctx, h.ID)
}

// SetActive turns a webhook on (also after it was disabled for
// failing) or off.
func (s *Webhooks) SetActive(ctx context.Context, id *auth.Identity, t Target, hookID int64, active bool) (*models.Webhook, error) {
	noteTarget(ctx, "webhook.update", t, fmt.Sprintf("webhook %d", hookID), fmt.Sprintf("active %t", active))
	h, err := s.webhook(ctx, id, t, hookID)
	if err != nil {
		return nil, err
	}
	if err := s.db.Webhooks.SetActive(ctx, h.ID, active); err != nil {
		return nil, err
	}
	return s.db.Webhooks.Get(ctx, h.ID)
}

// Test queues a test delivery to the webhook's stored URL (never to
// another URL, so its secret signs nothing sent elsewhere).
func (s *Webhooks) Test(ctx context.Context, id *auth.Identity, t Target, hookID int64) (*models.Delivery, error) {
	noteTarget(ctx, "webhook.test", t, fmt.Sprintf("webhook %d", hookID), "")
	h, err := s.webhook(ctx, id, t, hookID)
	if err != nil {
		return nil, err
	}
	repo := t.Repository
	if repo == "" {
		repo = t.Namespace + "/test"
	}
	return s.db.Webhooks.EnqueueTest(ctx, h, repo, actorOf(id))
}

// Deliveries lists a webhook's deliveries, newest first.
func (s *Webhooks) Deliveries(ctx context.Context, id *auth.Identity, t Target, hookID int64, limit, offset int) ([]models.Delivery, error) {
	h, err := s.webhook(ctx, id, t, hookID)
	if err != nil {
		return nil, err
	}
	return s.db.Deliveries.List(ctx, h.ID, limit, offset)
}

// Delivery returns one delivery of a webhook.
func (s *Webhooks) Delivery(ctx context.Context, id *auth.Identity, t Target, hookID int64, deliveryID string) (*models.Delivery, error) {
	h, err := s.webhook(ctx, id, t, hookID)
	if err != nil {
		return nil, err
	}
	if !textcheck.Key.Valid(deliveryID) {
		return nil, ErrNotFound
	}
	d, err := s.db.Deliveries.Get(ctx, deliveryID)
	if errors.Is(err, models.ErrNotFound) || (err == nil && d.WebhookID != h.ID) {
		return nil, ErrNotFound
	}
	return d, err
}

// Redeliver sends a delivery again, keeping its id.
func (s *Webhooks) Redeliver(ctx context.Context, id *auth.Identity, t Target, hookID int64, deliveryID string) (*models.Delivery, error) {
	noteTarget(ctx, "webhook.redeliver", t, fmt.Sprintf("webhook %d delivery %s", hookID, deliveryID), "")
	d, err := s.Delivery(ctx, id, t, hookID, deliveryID)
	if err != nil {
		return nil, err
	}
	if err := s.db.Deliveries.Redeliver(ctx, d.ID, time.Now().UTC()); err != nil {
		return nil, err
	}
	return s.db.Deliveries.Get(ctx, d.ID)
}

// CallbackStates are the states a receiver may report.
var CallbackStates = []string{"success", "failure", "error", "pending"}

// CallbackReport is a receiver's report on a delivery.
type CallbackReport struct {
	State, Description, Context, TargetURL string
}

// CallbackDelivery is a delivery whose callback URL a caller presented;
// CallbackTarget is the only way to get one, so no report is recorded
// without the URL's token.
type CallbackDelivery struct{ id string }

// CallbackTarget checks a callback URL: the token is the credential, as
// it went only to the webhook's target. Callers check it before they read
// the report, so an anonymous caller without it gets nothing decoded.
func (s *Webhooks) CallbackTarget(ctx context.Context, deliveryID, token string) (*CallbackDelivery, error) {
	if !textcheck.Key.Valid(deliveryID) {
		return nil, ErrNotFound
	}
	d, err := s.db.Deliveries.Get(ctx, deliveryID)
	if err != nil || !auth.ConstantTimeEqual(d.CallbackToken, token) {
		return nil, ErrNotFound
	}
	return &CallbackDelivery{id: d.ID}, nil
}

// RecordCallback stores a receiver's report on a delivery.
func (s *Webhooks) RecordCallback(ctx context.Context, d *CallbackDelivery, r CallbackReport) error {
	noteSite(ctx, "webhook.callback", "delivery "+d.id, "state "+r.State)
	if !slices.Contains(CallbackStates, r.State) {
		return invalid("The state must be success, failure, error or pending.")
	}
	if err := checkTexts(textField{callbackDescriptionText, r.Description}, textField{callbackContextText, r.Context},
		textField{callbackTargetURLText, r.TargetURL}); err != nil {
		return err
	}
	return s.db.Deliveries.SetCallback(ctx, d.id, r.State, r.Description, r.Context, r.TargetURL, time.Now().UTC())
}
