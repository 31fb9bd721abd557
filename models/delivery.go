package models

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// DeliveryStore is the webhook outbox seen from the sender: it claims due
// deliveries, records each attempt and keeps their log.
type DeliveryStore struct{ *conn }

// Delivery states.
const (
	DeliveryPending   = "pending"
	DeliverySending   = "sending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
)

// Delivery is one event for one webhook: the outbox row, then its log.
type Delivery struct {
	ID         string `gorm:"primaryKey"`
	WebhookID  int64
	Event      string // push, delete or test
	Action     string // tag_deleted, repository_deleted
	Repository string
	Tag        string
	Digest     string
	Actor      string
	OccurredAt time.Time
	Status     string
	Attempts   int
	// RoundStart is how many attempts came before the delivery was last
	// queued (by a redelivery): its retries count from there.
	RoundStart          int
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

// List lists a webhook's deliveries, newest first.
func (s *DeliveryStore) List(ctx context.Context, webhookID int64, limit, offset int) ([]Delivery, error) {
	var ds []Delivery
	err := s.read(ctx).Where("webhook_id = ?", webhookID).Order("created_at DESC, id").Limit(limit).Offset(offset).Find(&ds).Error
	return ds, err
}

// Get finds a delivery by id.
func (s *DeliveryStore) Get(ctx context.Context, id string) (*Delivery, error) {
	var d Delivery
	if err := s.read(ctx).Where("id = ?", id).Take(&d).Error; err != nil {
		return nil, notFound(err)
	}
	return &d, nil
}

// ClaimDue marks up to limit due deliveries as being sent, with
// a lease: if the sender dies, they become due again when it ends.
func (s *DeliveryStore) ClaimDue(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Delivery, error) {
	// Look before taking the write lock: the worker polls, and most polls
	// find nothing.
	var due int64
	if err := s.read(ctx).Model(&Delivery{}).Where("status IN ? AND next_attempt_at <= ?",
		[]string{DeliveryPending, DeliverySending}, now).Limit(1).Count(&due).Error; err != nil || due == 0 {
		return nil, err
	}
	var out []Delivery
	err := s.tx(ctx, func(tx *gorm.DB) error {
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
	// SentAt is when the attempt was sent (the time it was recorded, if
	// zero).
	SentAt time.Time
}

// webhookFailureLimit disables a webhook after this many failed
// deliveries in a row.
const webhookFailureLimit = 20

// RecordAttempt stores an attempt's outcome, on the delivery and in its
// history, and keeps the webhook's failure streak, disabling it after a
// long run of failures.
func (s *DeliveryStore) RecordAttempt(ctx context.Context, d *Delivery, a Attempt, now time.Time) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
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
		if err := recordHistory(tx, d.ID, a, now); err != nil {
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

// Redeliver queues a delivery again, under the same id, with its retries
// afresh (its history keeps the attempts before).
func (s *DeliveryStore) Redeliver(ctx context.Context, id string, now time.Time) error {
	return s.change(ctx, func(tx *gorm.DB) *gorm.DB {
		return tx.Model(&Delivery{}).Where("id = ?", id).
			Updates(map[string]any{"status": DeliveryPending, "next_attempt_at": now, "round_start": gorm.Expr("attempts")})
	}).Error
}

// SetCallback records what a receiver reported about a delivery.
func (s *DeliveryStore) SetCallback(ctx context.Context, id, state, description, context_, targetURL string, now time.Time) error {
	return s.change(ctx, func(tx *gorm.DB) *gorm.DB {
		return tx.Model(&Delivery{}).Where("id = ?", id).Updates(map[string]any{
			"callback_state": state, "callback_description": description, "callback_context": context_,
			"callback_target_url": targetURL, "callback_at": now,
		})
	}).Error
}

// Count counts deliveries in the given states.
func (s *DeliveryStore) Count(ctx context.Context, states ...string) (int64, error) {
	var n int64
	err := s.read(ctx).Model(&Delivery{}).Where("status IN ?", states).Count(&n).Error
	return n, err
}

// recordHistory adds the attempt to the delivery's history, numbered after
// every attempt before it, those before a redelivery included.
func recordHistory(tx *gorm.DB, id string, a Attempt, now time.Time) error {
	var n int
	if err := tx.Model(&DeliveryAttempt{}).Select("COALESCE(MAX(number), 0) + 1").Where("delivery_id = ?", id).Scan(&n).Error; err != nil {
		return err
	}
	h := DeliveryAttempt{DeliveryID: id, Number: n, SentAt: a.SentAt, StatusCode: a.StatusCode,
		DurationMS: a.Duration.Milliseconds(), Error: a.Error}
	if h.SentAt.IsZero() {
		h.SentAt = now
	}
	if !a.Done {
		at := a.RetryAt
		h.RetryAt = &at
	}
	return tx.Create(&h).Error
}
