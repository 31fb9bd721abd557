package metrics

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

func TestRoute(t *testing.T) {
	for path, want := range map[string]string{
		"/v2/": "v2_base", "/v2/token": "v2_token", "/v2/_catalog": "v2_catalog",
		"/v2/a/b/blobs/uploads/": "v2_upload", "/v2/a/b/blobs/uploads/x": "v2_upload", "/v2/a/blobs/sha256:1": "v2_blob",
		"/v2/a/b/manifests/v1": "v2_manifest", "/v2/a/tags/list": "v2_tags", "/v2/a/referrers/sha256:1": "v2_referrers",
		"/api/v1/repositories/a/b": "api_repositories", "/api/v1/evil-name": "api_other", "/r/alice/secret-name": "web",
		"/static/style.css": "static", "/metrics": "metrics",
		"/v1/search": "v1_search", "/v1/_ping": "v1_ping", "/v1/repositories/a/images": "v1_other",
	} {
		if got := Route(path); got != want {
			t.Errorf("Route(%q) = %q, want %q", path, got, want)
		}
	}
}

func TestMiddlewareAndGauges(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	m := New()
	m.Gauge("wharf_test_queue", "a queue", func(context.Context) (float64, error) { return 7, nil })
	r := gin.New()
	r.Use(m.Middleware())
	r.GET("/v2/*p", func(c *gin.Context) { c.String(200, "hello") })
	r.GET("/metrics", gin.WrapH(m.Handler()))
	srv := httptest.NewServer(r)
	defer srv.Close()
	for range 3 {
		res, _ := http.Get(srv.URL + "/v2/alice/secret/manifests/v1")
		res.Body.Close()
	}
	res, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	body := string(b)
	for _, want := range []string{
		`wharf_http_requests_total{method="GET",route="v2_manifest",status="200"} 3`,
		`wharf_http_response_bytes_total{route="v2_manifest"} 15`,
		`wharf_test_queue 7`, `go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(body, "secret") {
		t.Error("a repository name leaked into a label")
	}
}
