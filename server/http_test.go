package server_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wharfhub/wharf/server"
	"github.com/wharfhub/wharf/server/config"
	"github.com/wharfhub/wharf/server/servertest"
)

// serveConfig opens a Wharf with cfg and serves its handler until the test ends.
func serveConfig(t *testing.T, cfg *config.Config) *httptest.Server {
	t.Helper()
	app, err := server.Open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(servertest.Handler(t, app))
	t.Cleanup(func() { srv.Close(); app.Close() })
	return srv
}

func TestHealthReadyAndMetrics(t *testing.T) {
	dir := t.TempDir()
	srv := serveConfig(t, &config.Config{Addr: "127.0.0.1:0", DataDir: dir, BaseURL: "http://wharf.test", LogLevel: "error"})
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

// --metrics-token guards /metrics; without it /metrics stays public.
func TestMetricsToken(t *testing.T) {
	srv := serveConfig(t, &config.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), BaseURL: "http://wharf.test", LogLevel: "error", MetricsToken: "s3cret-metrics"})
	for _, tc := range []struct {
		auth string
		want int
	}{{"", 401}, {"Bearer wrong", 401}, {"Basic czNjcmV0LW1ldHJpY3M=", 401}, {"Bearer s3cret-metrics", 200}} {
		req, _ := http.NewRequest("GET", srv.URL+"/metrics", nil)
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != tc.want {
			t.Errorf("/metrics with %q: %d, want %d", tc.auth, res.StatusCode, tc.want)
		}
	}
}

// A client that trickles a body to the API or a page is cut off after
// --body-timeout instead of holding its connection.
func TestSlowBodiesAreCutOff(t *testing.T) {
	srv := serveConfig(t, &config.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), BaseURL: "http://wharf.test", LogLevel: "error", BodyTimeout: 300 * time.Millisecond})
	for _, path := range []string{"/api/v1/orgs", "/signin", "/v2/token"} {
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: wharf.test\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{", path)
		start := time.Now()
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, _ = io.Copy(io.Discard, conn) // ends when the server gives up on the body
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s: a trickled body held the connection for %v", path, d)
		}
		conn.Close()
	}
}
