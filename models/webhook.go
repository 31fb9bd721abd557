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

// Delivery states.
const (
	DeliveryPending   = "pending"
	DeliverySending   = "sending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
)

// Delivery is one event for one webhook: the outbox row, then its log.
type Delivery struct {
	ID                  string `gorm:"primaryKey"`
	WebhookID           int64
	Event               string // push, delete or test
	Action              string // tag_deleted, repository_deleted
	Repository          string
	Tag                 string
	Digest              string
	Actor               string
	OccurredAt          time.Time
	Status              string
	Attempts            int
	NextAttemptAt       time.Time
	RequestHeaders      string
	RequestBody         string
	StatusCode          int
	ResponseHeaders     string
	ResponseBody        string
	DurationMS          int64 `gorm:"column:duration_ms"`
	Error               string
	DeliveredAt         *time.Time
	CallbackToken       string
	CallbackState       string
	CallbackDescription string
	CallbackContext     string
	CallbackTargetURL   string `gorm:"column:callback_target_url"`
	CallbackAt          *time.Time
	CreatedAt           time.Time
}

// TableName names the deliveries table.
func (Delivery) TableName() string { return "webhook_deliveries" }

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

// CreateWebhook stores a webhook.
func (db *DB) CreateWebhook(ctx context.Context, h *Webhook) error {
	now := time.Now().UTC()
	h.CreatedAt, h.UpdatedAt = now, now
	return db.write(ctx).Create(h).Error
}

// ListRepositoryWebhooks lists a repository's webhooks.
func (db *DB) ListRepositoryWebhooks(ctx context.Context, repoID int64) ([]Webhook, error) {
	var hs []Webhook
	err := db.read(ctx).Where("repository_id = ?", repoID).Order("id").Find(&hs).Error
	return hs, err
}

// ListNamespaceWebhooks lists a namespace's webhooks.
func (db *DB) ListNamespaceWebhooks(ctx context.Context, ns string) ([]Webhook, error) {
	var hs []Webhook
	err := db.read(ctx).Where("repository_id IS NULL AND namespace_owner = ?", ns).Order("id").Find(&hs).Error
	return hs, err
}

// GetWebhook finds a webhook by id.
func (db *DB) GetWebhook(ctx context.Context, id int64) (*Webhook, error) {
	var h Webhook
	if err := db.read(ctx).Where("id = ?", id).Take(&h).Error; err != nil {
		return nil, notFound(err)
	}
	return &h, nil
}

// DeleteWebhook removes a webhook with its deliveries.
func (db *DB) DeleteWebhook(ctx context.Context, id int64) error {
	return db.write(ctx).Where("id = ?", id).Delete(&Webhook{}).Error
}

// SetWebhookActive turns a webhook on or off, clearing its failure streak.
func (db *DB) SetWebhookActive(ctx context.Context, id int64, active bool) error {
	return db.write(ctx).Model(&Webhook{}).Where("id = ?", id).Updates(map[string]any{
		"active": active, "failure_streak": 0, "disabled_reason": "", "updated_at": time.Now().UTC(),
	}).Error
}

// EnqueueTest writes a test delivery for one webhook.
func (db *DB) EnqueueTest(ctx context.Context, h *Webhook, repository, actor string) (*Delivery, error) {
	now := time.Now().UTC()
	d := &Delivery{
		ID: uuid.NewString(), WebhookID: h.ID, Event: "test", Repository: repository, Tag: "test", Actor: actor,
		OccurredAt: now, Status: DeliveryPending, NextAttemptAt: now, CallbackToken: randomHex(16), CreatedAt: now,
	}
	return d, db.write(ctx).Create(d).Error
}

// ListDeliveries lists a webhook's deliveries, newest first.
func (db *DB) ListDeliveries(ctx context.Context, webhookID int64, limit, offset int) ([]Delivery, error) {
	var ds []Delivery
	err := db.read(ctx).Where("webhook_id = ?", webhookID).Order("created_at DESC, id").Limit(limit).Offset(offset).Find(&ds).Error
	return ds, err
}

// GetDelivery finds a delivery by id.
func (db *DB) GetDelivery(ctx context.Context, id string) (*Delivery, error) {
	var d Delivery
	if err := db.read(ctx).Where("id = ?", id).Take(&d).Error; err != nil {
		return nil, notFound(err)
	}
	return &d, nil
}

// ClaimDueDeliveries marks up to limit due deliveries as being sent, with
// a lease: if the sender dies, they become due again when it ends.
func (db *DB) ClaimDueDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Delivery, error) {
	// Look before taking the write lock: the worker polls, and most polls
	// find nothing.
	var due int64
	if err := db.read(ctx).Model(&Delivery{}).Where("status IN ? AND next_attempt_at <= ?",
		[]string{DeliveryPending, DeliverySending}, now).Limit(1).Count(&due).Error; err != nil || due == 0 {
		return nil, err
	}
	var out []Delivery
	err := db.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("status IN ? AND next_attempt_at <= ?", []string{DeliveryPending, DeliverySending}, now).
			Order("next_attempt_at").Limit(limit).Find(&out).Error; err != nil {
			return err
		}
		claimed := out[:0]
		for _, d := range out {
			// The update claims only a row still due: on PostgreSQL
			// another replica may have claimed it since the select (it
			// then waits for that claim and finds the row no longer due).
			res := tx.Model(&Delivery{}).Where("id = ? AND status IN ? AND next_attempt_at <= ?",
				d.ID, []string{DeliveryPending, DeliverySending}, now).
				Updates(map[string]any{"status": DeliverySending, "next_attempt_at": now.Add(lease)})
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 1 {
				d.Status, d.NextAttemptAt = DeliverySending, now.Add(lease)
				claimed = append(claimed, d)
			}
		}
		out = claimed
		return nil
	})
	return out, err
}

// Attempt is the outcome of one delivery attempt.
type Attempt struct {
	RequestHeaders, RequestBody   string
	StatusCode                    int
	ResponseHeaders, ResponseBody string
	Duration                      time.Duration
	Error                         string
	// Done ends the delivery (delivered or given up); otherwise it is
	// retried at RetryAt.
	Done, Success bool
	RetryAt       time.Time
}

// webhookFailureLimit disables a webhook after this many failed
// deliveries in a row.
const webhookFailureLimit = 20

// RecordAttempt stores an attempt's outcome and keeps the webhook's
// failure streak, disabling it after a long run of failures.
func (db *DB) RecordAttempt(ctx context.Context, d *Delivery, a Attempt, now time.Time) error {
	return db.tx(ctx, func(tx *gorm.DB) error {
		f := map[string]any{
			"attempts": gorm.Expr("attempts + 1"), "request_headers": a.RequestHeaders, "request_body": a.RequestBody,
			"status_code": a.StatusCode, "response_headers": a.ResponseHeaders, "response_body": a.ResponseBody,
			"duration_ms": a.Duration.Milliseconds(), "error": a.Error,
		}
		switch {
		case a.Done && a.Success:
			f["status"], f["delivered_at"] = DeliveryDelivered, now
		case a.Done:
			f["status"] = DeliveryFailed
		default:
			f["status"], f["next_attempt_at"] = DeliveryPending, a.RetryAt
		}
		if err := tx.Model(&Delivery{}).Where("id = ?", d.ID).Updates(f).Error; err != nil {
			return err
		}
		switch {
		case a.Done && a.Success:
			return tx.Model(&Webhook{}).Where("id = ?", d.WebhookID).Update("failure_streak", 0).Error
		case a.Done:
			if err := tx.Model(&Webhook{}).Where("id = ?", d.WebhookID).
				Update("failure_streak", gorm.Expr("failure_streak + 1")).Error; err != nil {
				return err
			}
			return tx.Model(&Webhook{}).Where("id = ? AND failure_streak >= ?", d.WebhookID, webhookFailureLimit).
				Updates(map[string]any{"active": false, "disabled_reason": "disabled after repeated failed deliveries"}).Error
		}
		return nil
	})
}

// Redeliver queues a delivery again, under the same id.
func (db *DB) Redeliver(ctx context.Context, id string, now time.Time) error {
	return db.write(ctx).Model(&Delivery{}).Where("id = ?", id).
		Updates(map[string]any{"status": DeliveryPending, "next_attempt_at": now}).Error
}

// SetCallback records what a receiver reported about a delivery.
func (db *DB) SetCallback(ctx context.Context, id, state, description, context_, targetURL string, now time.Time) error {
	return db.write(ctx).Model(&Delivery{}).Where("id = ?", id).Updates(map[string]any{
		"callback_state": state, "callback_description": description, "callback_context": context_,
		"callback_target_url": targetURL, "callback_at": now,
	}).Error
}

// CountDeliveries counts deliveries in the given states.
func (db *DB) CountDeliveries(ctx context.Context, states ...string) (int64, error) {
	var n int64
	err := db.read(ctx).Model(&Delivery{}).Where("status IN ?", states).Count(&n).Error
	return n, err
}
