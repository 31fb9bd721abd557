package models

import (
	"context"
	"time"
)

// TakeTurn claims the periodic job name for holder until until, unless
// another holder's claim is still running at now. It reports whether the
// turn is holder's; of replicas asking at once, one gets it.
func (db *DB) TakeTurn(ctx context.Context, name, holder string, now, until time.Time) (bool, error) {
	res := db.write(ctx).Exec(`INSERT INTO turns (name, holder, until_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until_at = excluded.until_at
		WHERE turns.until_at <= ? OR turns.holder = excluded.holder`,
		name, holder, until.UTC(), now.UTC())
	return res.RowsAffected == 1, res.Error
}
