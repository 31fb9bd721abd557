package server_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wharfhub/wharf/server"
	"github.com/wharfhub/wharf/server/config"
	"github.com/wharfhub/wharf/server/servertest"
)

// Every line a request causes carries its request id: the error a failing
// handler logs (API, registry and web alike) and the access log line,
// which is at info (warn for a 5xx).
func TestErrorLinesCarryTheRequestID(t *testing.T) {
	logs := &syncBuffer{}
	cfg := &config.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), BaseURL: "http://wharf.test", LogLevel: "info", DefaultVisibility: "public"}
	app, err := server.Open(context.Background(), cfg, slog.New(slog.NewTextHandler(logs, nil)), server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(servertest.Handler(t, app))
	t.Cleanup(func() { srv.Close(); app.Close() })
	get := func(path, id string) int {
		t.Helper()
		r, _ := http.NewRequest("GET", srv.URL+path, nil)
		r.Header.Set("X-Request-Id", id)
		res, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if got := res.Header.Get("X-Request-Id"); got != id {
			t.Fatalf("%s answered request id %q, want %q", path, got, id)
		}
		return res.StatusCode
	}
	if s := get("/healthz", "healthy-1"); s != 200 {
		t.Fatalf("healthz: %d", s)
	}
	// With the database gone, every handler that reads it fails.
	app.DB.Close()
	// (Whether a handler fails or panics on it, its line must name the
	// request.)
	for _, c := range []struct{ path, id string }{
		{"/api/v1/repositories/alice/app", "api-req-1"},
		{"/v2/alice/app/tags/list", "registry-req-1"},
		{"/r/alice/app", "web-req-1"},
	} {
		if s := get(c.path, c.id); s < 500 {
			t.Fatalf("%s with the database closed: %d, want a 5xx", c.path, s)
		}
		var errorLine, accessLine bool
		for _, line := range strings.Split(logs.String(), "\n") {
			if !strings.Contains(line, "id="+c.id) {
				continue
			}
			errorLine = errorLine || strings.Contains(line, "level=ERROR")
			accessLine = accessLine || strings.Contains(line, "level=WARN") && strings.Contains(line, `msg=request`)
		}
		if !errorLine || !accessLine {
			t.Errorf("%s: want an ERROR line and a WARN access line with id=%s; log:\n%s", c.path, c.id, logs.String())
		}
	}
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "level=ERROR") && !strings.Contains(line, " id=") {
			t.Errorf("an error line without its request id: %s", line)
		}
	}
	if !strings.Contains(logs.String(), "level=INFO msg=request id=healthy-1") {
		t.Errorf("the access log line of a 200 is not at info with its id; log:\n%s", logs.String())
	}
}
