package models

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"gorm.io/gorm"
)

// A namespace's quota counts bytes as they arrive. What it holds is its
// committed content (Usage), plus the bytes its open upload
// sessions have recorded, plus reservations: bytes that requests still
// streaming have been allowed to receive and not yet recorded. Reserving
// happens in a write transaction that holds the namespace's row, so two
// requests, on one replica or several, never reserve the same room.

// Reservation is what Reserve granted.
type Reservation struct {
	// Bytes is how much the request may now receive in all, at most what
	// it asked for.
	Bytes int64
	// Quota is the namespace's quota; 0 is none, and then nothing is
	// reserved.
	Quota int64
	// Used is what the namespace holds besides this reservation.
	Used int64
}

// Reserve sets reservation id in namespace ns to want bytes, or
// to as many as the quota leaves room for, valid until expires; reserving
// again renews it. Reservations that expired by now are dropped first:
// their requests' replica died before it could release them.
func (s *NamespaceStore) Reserve(ctx context.Context, id, ns string, want int64, now, expires time.Time) (Reservation, error) {
	var res Reservation
	err := s.tx(ctx, func(tx *gorm.DB) error {
		err := rowOf(tx.Raw("SELECT quota_bytes FROM namespaces WHERE name = ?"+forUpdate(tx), ns)).Scan(&res.Quota)
		if errors.Is(err, sql.ErrNoRows) || err == nil && res.Quota <= 0 {
			res.Quota = 0
			return nil
		}
		if err != nil {
			return err
		}
		if err := tx.Exec("DELETE FROM upload_reservations WHERE namespace = ? AND expires_at <= ?", ns, now.UTC()).Error; err != nil {
			return err
		}
		// One statement, so one snapshot on PostgreSQL too: bytes moving
		// from a reservation to a session, or from a session to committed
		// content, are seen on one side or both, never on neither.
		var uploads, reserved int64
		row := rowOf(tx.Raw("SELECT"+usageColumns+`,
			COALESCE((SELECT SUM(size) FROM uploads WHERE namespace = ?), 0),
			COALESCE((SELECT SUM(bytes) FROM upload_reservations WHERE namespace = ? AND id <> ?), 0)`,
			append(usageArgs(ns), ns, ns, id)...))
		u, err := scanUsage(row, &uploads, &reserved)
		if err != nil {
			return err
		}
		res.Used = u.Bytes + uploads + reserved
		res.Bytes = max(min(want, res.Quota-res.Used), 0)
		if res.Bytes == 0 {
			return tx.Exec("DELETE FROM upload_reservations WHERE id = ?", id).Error
		}
		return tx.Exec(`INSERT INTO upload_reservations (id, namespace, bytes, expires_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET bytes = excluded.bytes, expires_at = excluded.expires_at`,
			id, ns, res.Bytes, expires.UTC()).Error
	})
	return res, err
}

// Release drops a reservation once its request has recorded
// what it received, or failed.
func (s *NamespaceStore) Release(ctx context.Context, id string) error {
	return s.write(ctx).Exec("DELETE FROM upload_reservations WHERE id = ?", id).Error
}

// forUpdate locks the rows a query reads until the transaction ends, on
// PostgreSQL. SQLite needs nothing: its write transactions are immediate,
// one at a time.
func forUpdate(tx *gorm.DB) string {
	if tx.Dialector.Name() == "postgres" {
		return " FOR UPDATE"
	}
	return ""
}
