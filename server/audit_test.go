package server_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server"
	"github.com/wharfhub/wharf/server/config"
	"github.com/wharfhub/wharf/server/servertest"
)

// Entries older than --audit-retention go; younger ones stay.
func TestAuditRetention(t *testing.T) {
	cfg := &config.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), BaseURL: "http://wharf.test", LogLevel: "error",
		DefaultVisibility: "public", AuditRetention: 24 * time.Hour, GCInterval: 0}
	app, err := server.Open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Close() })
	ctx := t.Context()
	for _, age := range []time.Duration{48 * time.Hour, time.Hour} {
		err := app.DB.Writer().Exec(`INSERT INTO audit_entries (at, actor, actor_kind, action, target, result)
			VALUES (?, 'alice', 'user', 'token.create', ?, 'ok')`, time.Now().Add(-age).UTC(), age.String()).Error
		if err != nil {
			t.Fatal(err)
		}
	}
	servertest.Run(t, app)
	deadline := time.Now().Add(10 * time.Second)
	for {
		es, err := app.DB.Audit.List(ctx, models.AuditFilter{}, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(es) == 1 {
			if es[0].Target != "1h0m0s" {
				t.Fatalf("kept %+v, want the young entry", es[0])
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 10s, %d entries, want the old one purged", len(es))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
