package models

import (
	"context"
	"time"
)

// What a delivery's log says of it (Delivery.State).
const (
	// StatePending: queued, not tried yet.
	StatePending = "pending"
	// StateRetrying: tried, failed, and to be tried again.
	StateRetrying = "retrying"
	// StateDelivered: the receiver took it.
	StateDelivered = "delivered"
	// StateFailed: given up on.
	StateFailed = "failed"
)

// State is what the delivery's log says of it: pending (not tried yet),
// retrying, delivered or failed. A delivery being sent right now is
// pending or retrying by the attempts before.
func (d *Delivery) State() string {
	switch {
	case d.Status == DeliveryDelivered:
		return StateDelivered
	case d.Status == DeliveryFailed:
		return StateFailed
	case d.Attempts == 0:
		return StatePending
	}
	return StateRetrying
}

// NextTry is when the delivery is to be tried next: nil once it is
// delivered or failed, and while an attempt is being sent (its row then
// holds the end of the sender's lease, not a planned try).
func (d *Delivery) NextTry() *time.Time {
	if d.Status != DeliveryPending {
		return nil
	}
	t := d.NextAttemptAt
	return &t
}

// DeliveryAttempt is one attempt at a delivery, in its history.
type DeliveryAttempt struct {
	ID         int64
	DeliveryID string
	Number     int
	SentAt     time.Time
	StatusCode int
	DurationMS int64 `gorm:"column:duration_ms"`
	Error      string
	// RetryAt is when the attempt was to be followed by another (nil when
	// it ended the delivery).
	RetryAt *time.Time
}

// TableName names the attempts table.
func (DeliveryAttempt) TableName() string { return "webhook_delivery_attempts" }

// historyLimit bounds the attempts kept in view for one delivery (a
// delivery is tried at most a few times, but every redelivery adds one).
const historyLimit = 50

// History lists the latest attempts of each of the deliveries, oldest
// first, by delivery id.
func (s *DeliveryStore) History(ctx context.Context, ids ...string) (map[string][]DeliveryAttempt, error) {
	out := map[string][]DeliveryAttempt{}
	if len(ids) == 0 {
		return out, nil
	}
	var as []DeliveryAttempt
	if err := s.read(ctx).Where("delivery_id IN ?", ids).Order("delivery_id, number DESC, id DESC").Find(&as).Error; err != nil {
		return nil, err
	}
	for _, a := range as {
		if len(out[a.DeliveryID]) < historyLimit {
			out[a.DeliveryID] = append(out[a.DeliveryID], a)
		}
	}
	for id, list := range out {
		for i, j := 0, len(list)-1; i < j; i, j = i+1, j-1 {
			list[i], list[j] = list[j], list[i]
		}
		out[id] = list
	}
	return out, nil
}
