package migrations

// Version 20: a delivery keeps the history of its attempts, one row each
// (when it was sent, what the receiver answered or what went wrong, how
// long it took and, when it was to be retried, when), so that the hub's
// delivery log shows every try and not only the last. A delivery goes with
// its history. Deliveries from before have no history: their rows still
// hold their last attempt, and the log says how many earlier ones it does
// not know. A redelivery starts its retries afresh: round_start is how
// many attempts came before it.
func init() {
	register(Migration{Version: 20, Name: "delivery_attempts", SQL: []string{
		`CREATE TABLE webhook_delivery_attempts (
			id {{id}},
			delivery_id TEXT NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
			number INTEGER NOT NULL,
			sent_at {{time}} NOT NULL,
			status_code INTEGER NOT NULL DEFAULT 0,
			duration_ms BIGINT NOT NULL DEFAULT 0,
			error TEXT NOT NULL DEFAULT '',
			retry_at {{time}})`,
		`CREATE INDEX idx_delivery_attempts_delivery ON webhook_delivery_attempts (delivery_id, number)`,
		`ALTER TABLE webhook_deliveries ADD COLUMN round_start INTEGER NOT NULL DEFAULT 0`,
	}})
}
