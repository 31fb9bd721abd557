package migrations

// Version 6: webhooks and their deliveries. A delivery row is the outbox:
// it is written in the transaction that commits the tag, so a crash can
// neither lose nor invent a delivery, and the worker sends it later.
func init() {
	register(Migration{Version: 6, Name: "webhooks", SQL: []string{
		`CREATE TABLE webhooks (
			id {{id}},
			repository_id BIGINT REFERENCES repositories(id) ON DELETE CASCADE,
			namespace TEXT NOT NULL DEFAULT '',
			name TEXT NOT NULL,
			url TEXT NOT NULL,
			secret TEXT NOT NULL DEFAULT '',
			events TEXT NOT NULL,
			active {{bool}} NOT NULL DEFAULT TRUE,
			failure_streak INTEGER NOT NULL DEFAULT 0,
			disabled_reason TEXT NOT NULL DEFAULT '',
			created_at {{time}} NOT NULL,
			updated_at {{time}} NOT NULL)`,
		`CREATE INDEX idx_webhooks_repository ON webhooks (repository_id)`,
		`CREATE INDEX idx_webhooks_namespace ON webhooks (namespace)`,
		`CREATE TABLE webhook_deliveries (
			id TEXT PRIMARY KEY,
			webhook_id BIGINT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
			event TEXT NOT NULL,
			action TEXT NOT NULL DEFAULT '',
			repository TEXT NOT NULL,
			tag TEXT NOT NULL DEFAULT '',
			digest TEXT NOT NULL DEFAULT '',
			actor TEXT NOT NULL DEFAULT '',
			occurred_at {{time}} NOT NULL,
			status TEXT NOT NULL,
			attempts INTEGER NOT NULL DEFAULT 0,
			next_attempt_at {{time}} NOT NULL,
			request_headers TEXT NOT NULL DEFAULT '',
			request_body TEXT NOT NULL DEFAULT '',
			status_code INTEGER NOT NULL DEFAULT 0,
			response_headers TEXT NOT NULL DEFAULT '',
			response_body TEXT NOT NULL DEFAULT '',
			duration_ms BIGINT NOT NULL DEFAULT 0,
			error TEXT NOT NULL DEFAULT '',
			delivered_at {{time}},
			callback_token TEXT NOT NULL,
			callback_state TEXT NOT NULL DEFAULT '',
			callback_description TEXT NOT NULL DEFAULT '',
			callback_context TEXT NOT NULL DEFAULT '',
			callback_target_url TEXT NOT NULL DEFAULT '',
			callback_at {{time}},
			created_at {{time}} NOT NULL)`,
		`CREATE INDEX idx_deliveries_due ON webhook_deliveries (status, next_attempt_at)`,
		`CREATE INDEX idx_deliveries_webhook ON webhook_deliveries (webhook_id, created_at)`,
	}})
}
