package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wharfhub/wharf/server"
	"github.com/wharfhub/wharf/server/config"
)

func TestHealthReadyAndMetrics(t *testing.T) {
	dir := t.TempDir()
	cfg := &config.Config{Addr: "127.0.0.1:0", DataDir: dir, BaseURL: "http://wharf.test", LogLevel: "error"}
	app, err := server.Open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	srv := httptest.NewServer(app.Handler())
	defer srv.Close()
	get := func(p string) (int, string) {
		res, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if s, _ := get("/healthz"); s != 200 {
		t.Fatalf("healthz %d", s)
	}
	if s, _ := get("/readyz"); s != 200 {
		t.Fatalf("readyz %d", s)
	}
	get("/v2/")
	s, body := get("/metrics")
	if s != 200 || !strings.Contains(body, `wharf_http_requests_total{method="GET",route="v2_base",status="401"} 1`) ||
		!strings.Contains(body, "wharf_uploads_in_progress 0") || !strings.Contains(body, "wharf_webhook_deliveries_queued 0") {
		t.Fatalf("metrics: %d\n%s", s, body)
	}
	// A missing blob store makes the server unready.
	if err := os.RemoveAll(filepath.Join(dir, "blobs")); err != nil {
		t.Fatal(err)
	}
	if s, body := get("/readyz"); s != 503 || !strings.Contains(body, "blob store") {
		t.Fatalf("readyz without a store: %d %s", s, body)
	}
}
