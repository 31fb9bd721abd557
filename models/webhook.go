package models

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// WebhookStore keeps webhooks. Their events are written, as delivery rows,
// in the transaction of the change they report (enqueue); DeliveryStore
// hands them to the sender.
type WebhookStore struct{ *conn }

// Webhook sends events of one repository, or of every repository in a
// namespace, to a URL.
type Webhook struct {
	ID           int64
	RepositoryID *int64
	// Namespace is the namespace a namespace-wide webhook belongs to
	// (nil for a repository's): a foreign key to the namespace's row, so
	// the webhook goes when the namespace does.
	Namespace      *string `gorm:"column:namespace_owner"`
	Name           string
	URL            string `gorm:"column:url"`
	Secret         string
	Events         string // space-separated: push delete
	Active         bool
	FailureStreak  int
	DisabledReason string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// outboxEvent is what enqueue writes for each matching webhook.
type outboxEvent struct {
	Event, Action, Repository, Tag, Digest, Actor string
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// enqueue writes a delivery for every active webhook of the repository or
// its namespace that wants the event, inside the caller's transaction.
func enqueue(tx *gorm.DB, repoID int64, e outboxEvent, namespaceOnly bool) error {
	q := tx.Model(&Webhook{}).Where("active = ?", true)
	ns := NamespaceOf(e.Repository)
	if namespaceOnly {
		q = q.Where("namespace_owner = ?", ns)
	} else {
		q = q.Where("repository_id = ? OR namespace_owner = ?", repoID, ns)
	}
	var hooks []Webhook
	if err := q.Find(&hooks).Error; err != nil {
		return err
	}
	now := time.Now().UTC()
	for _, h := range hooks {
		if !strings.Contains(" "+h.Events+" ", " "+e.Event+" ") {
			continue
		}
		d := Delivery{
			ID: uuid.NewString(), WebhookID: h.ID, Event: e.Event, Action: e.Action, Repository: e.Repository,
			Tag: e.Tag, Digest: e.Digest, Actor: e.Actor, OccurredAt: now, Status: DeliveryPending,
			NextAttemptAt: now, CallbackToken: randomHex(16), CreatedAt: now,
		}
		if err := tx.Create(&d).Error; err != nil {
			return err
		}
	}
	return nil
}

// Create stores a webhook.
func (s *WebhookStore) Create(ctx context.Context, h *Webhook) error {
	now := time.Now().UTC()
	h.CreatedAt, h.UpdatedAt = now, now
	return s.change(ctx, func(tx *gorm.DB) *gorm.DB { return tx.Create(h) }).Error
}

// ListForRepository lists a repository's webhooks.
func (s *WebhookStore) ListForRepository(ctx context.Context, repoID int64) ([]Webhook, error) {
	var hs []Webhook
	err := s.read(ctx).Where("repository_id = ?", repoID).Order("id").Find(&hs).Error
	return hs, err
}

// ListForNamespace lists a namespace's webhooks.
func (s *WebhookStore) ListForNamespace(ctx context.Context, ns string) ([]Webhook, error) {
	var hs []Webhook
	err := s.read(ctx).Where("repository_id IS NULL AND namespace_owner = ?", ns).Order("id").Find(&hs).Error
	return hs, err
}

// Get finds a webhook by id.
func (s *WebhookStore) Get(ctx context.Context, id int64) (*Webhook, error) {
	var h Webhook
	if err := s.read(ctx).Where("id = ?", id).Take(&h).Error; err != nil {
		return nil, notFound(err)
	}
	return &h, nil
}

// Delete removes a webhook with its deliveries.
func (s *WebhookStore) Delete(ctx context.Context, id int64) error {
	return s.change(ctx, func(tx *gorm.DB) *gorm.DB { return tx.Where("id = ?", id).Delete(&Webhook{}) }).Error
}

// SetActive turns a webhook on or off, clearing its failure streak.
func (s *WebhookStore) SetActive(ctx context.Context, id int64, active bool) error {
	return s.change(ctx, func(tx *gorm.DB) *gorm.DB {
		return tx.Model(&Webhook{}).Where("id = ?", id).Updates(map[string]any{
			"active": active, "failure_streak": 0, "disabled_reason": "", "updated_at": time.Now().UTC(),
		})
	}).Error
}

// EnqueueTest writes a test delivery for one webhook.
func (s *WebhookStore) EnqueueTest(ctx context.Context, h *Webhook, repository, actor string) (*Delivery, error) {
	now := time.Now().UTC()
	d := &Delivery{
		ID: uuid.NewString(), WebhookID: h.ID, Event: "test", Repository: repository, Tag: "test", Actor: actor,
		OccurredAt: now, Status: DeliveryPending, NextAttemptAt: now, CallbackToken: randomHex(16), CreatedAt: now,
	}
	return d, s.change(ctx, func(tx *gorm.DB) *gorm.DB { return tx.Create(d) }).Error
}
