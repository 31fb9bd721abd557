package server

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wharfhub/wharf/server/api"
	"github.com/wharfhub/wharf/server/metrics"
	"github.com/wharfhub/wharf/server/registry"
	"github.com/wharfhub/wharf/server/reqlog"
	"github.com/wharfhub/wharf/server/storage"
)

// Handler builds the HTTP handler: the registry at /v2/, docker search at
// /v1/search, the JSON API, the web UI and the health endpoints, behind
// Go's cross-origin protection (requests without browser Fetch metadata,
// such as docker's, pass). It needs a base URL (configured, or
// Options.Listener's address).
func (a *App) Handler() (http.Handler, error) {
	if a.web == nil || a.Tokens == nil {
		return nil, errors.New("handler: no base URL is configured")
	}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	// Gin's ClientIP trusts X-Forwarded-For from anyone; the address is
	// a.ClientAddr's answer instead, and Gin's is never consulted.
	r.ForwardedByClientIP = false
	r.RemoteIPHeaders = nil
	if err := r.SetTrustedProxies(nil); err != nil {
		return nil, err
	}
	r.RedirectTrailingSlash = false
	r.RedirectFixedPath = false
	r.HandleMethodNotAllowed = false
	m := metrics.New()
	m.Gauge("wharf_uploads_in_progress", "Open blob upload sessions.", func(ctx context.Context) (float64, error) {
		n, err := a.DB.Uploads.Count(ctx)
		return float64(n), err
	})
	m.Gauge("wharf_webhook_deliveries_queued", "Webhook deliveries waiting to be sent or being sent.", func(ctx context.Context) (float64, error) {
		n, err := a.DB.Deliveries.Count(ctx, "pending", "sending")
		return float64(n), err
	})
	m.Gauge("wharf_webhook_deliveries_failed", "Webhook deliveries that gave up.", func(ctx context.Context) (float64, error) {
		n, err := a.DB.Deliveries.Count(ctx, "failed")
		return float64(n), err
	})
	m.Register(a.gcMetrics)
	st := a.Mirrors.Stats()
	for _, c := range []struct {
		name, help string
		v          *atomic.Int64
	}{
		{"wharf_mirror_hits_total", "Mirror requests answered from the cache.", &st.Hits},
		{"wharf_mirror_misses_total", "Mirror requests that fetched from the upstream.", &st.Misses},
		{"wharf_mirror_stale_serves_total", "Cached tags served because the upstream did not confirm them.", &st.StaleServes},
		{"wharf_mirror_revalidations_total", "HEAD requests asking an upstream whether a tag moved.", &st.Revalidations},
		{"wharf_mirror_upstream_errors_total", "Upstream requests that failed (unreachable, error status, backing off, corrupt).", &st.UpstreamErrors},
		{"wharf_mirror_bytes_fetched_total", "Blob bytes fetched from upstreams.", &st.BytesFetched},
		{"wharf_mirror_bytes_served_total", "Blob bytes of mirrors served to clients.", &st.BytesServed},
	} {
		m.Counter(c.name, c.help, func() float64 { return float64(c.v.Load()) })
	}
	r.Use(m.Middleware(), a.hsts(), a.clientCertificate(), a.requestLog(), newAuditTrail(a).middleware(), a.recovery(), a.readDeadline())
	r.GET("/metrics", a.metricsAuth(), gin.WrapH(m.Handler()))

	reg := registry.New(a.Content, a.Accounts, a.Policy, a.Tokens, a.Config.BaseURL, a.ClientAddr, a.Log, a.Mirrors, a.Gate)
	r.Any("/v2/*path", gin.WrapH(reg))
	r.Any("/v2", gin.WrapH(reg))
	// docker search HOST/TEXT: Docker's v1 index search, authenticated as /v2/ is.
	r.Any("/v1/*path", gin.WrapH(registry.NewIndex(reg, a.Hub.Discover)))
	ui := a.web
	api.New(a.Hub, a.Accounts, a.Recovery, a.DB, ui.Identity, a.ClientAddr, a.Log, a.MirrorCatalog).Register(r)
	ui.Register(r)

	r.GET("/.well-known/jwks.json", func(c *gin.Context) { c.JSON(http.StatusOK, a.Tokens.JWKS()) })
	r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	r.GET("/readyz", func(c *gin.Context) {
		ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
		defer cancel()
		if err := a.DB.Ping(ctx); err != nil {
			c.JSON(http.StatusServiceUnavailable, gin.H{"status": "database unavailable"})
			return
		}
		if p, ok := a.Store.(storage.Pinger); ok {
			if err := p.Ping(ctx); err != nil {
				c.JSON(http.StatusServiceUnavailable, gin.H{"status": "blob store unavailable"})
				return
			}
		}
		c.JSON(http.StatusOK, gin.H{"status": "ready"})
	})
	r.NoRoute(func(c *gin.Context) {
		if strings.HasPrefix(c.Request.URL.Path, "/api/") {
			api.NotFound(c)
			return
		}
		ui.NotFound(c)
	})
	return http.NewCrossOriginProtection().Handler(r), nil
}

// requestLog gives each request an id, puts a logger naming it into the
// request's context (reqlog) for every line the request causes, and logs
// the request once, at the edge.
func (a *App) requestLog() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		id := c.GetHeader("X-Request-Id")
		if id == "" || len(id) > 64 {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		c.Header("X-Request-Id", id)
		log := a.Log.With("id", id)
		c.Request = c.Request.WithContext(reqlog.With(c.Request.Context(), log))
		c.Next()
		level := slog.LevelInfo
		if c.Writer.Status() >= 500 {
			level = slog.LevelWarn
		}
		log.Log(c.Request.Context(), level, "request",
			"method", c.Request.Method, "path", c.Request.URL.Path,
			"status", c.Writer.Status(), "bytes", c.Writer.Size(),
			"duration_ms", time.Since(start).Milliseconds(), "remote", a.ClientAddr.IP(c.Request))
	}
}

// metricsAuth asks for --metrics-token as a bearer token, when one is set.
func (a *App) metricsAuth() gin.HandlerFunc {
	want := a.Config.MetricsToken
	return func(c *gin.Context) {
		if want == "" {
			return
		}
		got, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
			c.Header("WWW-Authenticate", `Bearer realm="metrics"`)
			c.AbortWithStatusJSON(http.StatusUnauthorized, gin.H{"error": gin.H{"code": "unauthorized", "message": "metrics need the metrics token"}})
		}
	}
}

// readDeadline bounds how long a request other than a blob transfer may
// take to send its body (--body-timeout): the pages, the API and the
// token realm read small bodies, and a client that trickles one must not
// hold a connection. /v2/ blob and manifest bodies stream as long as they
// need.
func (a *App) readDeadline() gin.HandlerFunc {
	d := a.Config.BodyTimeout
	if d <= 0 {
		d = time.Minute
	}
	return func(c *gin.Context) {
		p := c.Request.URL.Path
		if strings.HasPrefix(p, "/v2/") && p != "/v2/token" {
			return
		}
		_ = http.NewResponseController(c.Writer).SetReadDeadline(time.Now().Add(d))
	}
}

// recovery turns a panic into a 500: JSON for the API, the error page for
// the UI. (/v2/ recovers by itself, with OCI error JSON.)
func (a *App) recovery() gin.HandlerFunc {
	return gin.CustomRecoveryWithWriter(nil, func(c *gin.Context, err any) {
		reqlog.From(c.Request.Context(), a.Log).Error("panic", "err", err, "path", c.Request.URL.Path)
		if strings.HasPrefix(c.Request.URL.Path, "/api/") {
			c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{"error": gin.H{"code": "internal", "message": "internal server error"}})
			return
		}
		a.web.ServerError(c)
		c.Abort()
	})
}
