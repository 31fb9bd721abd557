package hub

import (
	"context"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/auth"
)

// DeliveryLog is a delivery with the history of its attempts, oldest
// first. History may hold fewer attempts than Attempts counts: deliveries
// from before Wharf kept a history have only their last attempt, on the
// delivery itself.
type DeliveryLog struct {
	models.Delivery
	History []models.DeliveryAttempt
}

// DeliveryLogs lists a webhook's deliveries, newest first, each with its
// attempts.
func (s *Webhooks) DeliveryLogs(ctx context.Context, id *auth.Identity, t Target, hookID int64, limit, offset int) ([]DeliveryLog, error) {
	ds, err := s.Deliveries(ctx, id, t, hookID, limit, offset)
	if err != nil {
		return nil, err
	}
	return s.withHistory(ctx, ds)
}

// DeliveryLog returns one delivery of a webhook with its attempts.
func (s *Webhooks) DeliveryLog(ctx context.Context, id *auth.Identity, t Target, hookID int64, deliveryID string) (*DeliveryLog, error) {
	d, err := s.Delivery(ctx, id, t, hookID, deliveryID)
	if err != nil {
		return nil, err
	}
	logs, err := s.withHistory(ctx, []models.Delivery{*d})
	if err != nil {
		return nil, err
	}
	return &logs[0], nil
}

func (s *Webhooks) withHistory(ctx context.Context, ds []models.Delivery) ([]DeliveryLog, error) {
	ids := make([]string, len(ds))
	for i := range ds {
		ids[i] = ds[i].ID
	}
	history, err := s.db.Deliveries.History(ctx, ids...)
	if err != nil {
		return nil, err
	}
	out := make([]DeliveryLog, len(ds))
	for i := range ds {
		out[i] = DeliveryLog{Delivery: ds[i], History: history[ds[i].ID]}
	}
	return out, nil
}
