package metrics

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics owns a registry (no package globals) and the request metrics.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	bytesIn  *prometheus.CounterVec
	bytesOut *prometheus.CounterVec
}

// New makes the metrics with Go runtime and process collectors.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "wharf_http_requests_total", Help: "HTTP requests by route, method and status.",
	}, []string{"route", "method", "status"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "wharf_http_request_duration_seconds", Help: "HTTP request durations by route.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10, 60},
	}, []string{"route"})
	m.bytesIn = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "wharf_http_request_bytes_total", Help: "Bytes received in request bodies, by route.",
	}, []string{"route"})
	m.bytesOut = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "wharf_http_response_bytes_total", Help: "Bytes sent in response bodies, by route.",
	}, []string{"route"})
	m.reg.MustRegister(m.requests, m.duration, m.bytesIn, m.bytesOut,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Gauge registers a gauge read by fn at each scrape (queue lengths).
func (m *Metrics) Gauge(name, help string, fn func(ctx context.Context) (float64, error)) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		v, err := fn(ctx)
		if err != nil {
			return -1
		}
		return v
	}))
}

// Counter registers a counter read by fn at each scrape (counts kept
// elsewhere, such as the mirrors').
func (m *Metrics) Counter(name, help string, fn func() float64) {
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, fn))
}

// Handler serves /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Middleware counts every request by route: a small fixed set of labels,
// never repository names.
func (m *Metrics) Middleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := Route(c.Request.URL.Path)
		m.requests.WithLabelValues(route, c.Request.Method, strconv.Itoa(c.Writer.Status())).Inc()
		m.duration.WithLabelValues(route).Observe(time.Since(start).Seconds())
		if n := c.Request.ContentLength; n > 0 {
			m.bytesIn.WithLabelValues(route).Add(float64(n))
		}
		if n := c.Writer.Size(); n > 0 {
			m.bytesOut.WithLabelValues(route).Add(float64(n))
		}
	}
}

// Route names the kind of resource a path addresses.
func Route(p string) string {
	switch {
	case p == "/v2" || p == "/v2/":
		return "v2_base"
	case p == "/v2/token":
		return "v2_token"
	case strings.HasPrefix(p, "/v2/_catalog"):
		return "v2_catalog"
	case strings.HasPrefix(p, "/v2/"):
		switch {
		case strings.Contains(p, "/blobs/uploads"):
			return "v2_upload"
		case strings.Contains(p, "/blobs/"):
			return "v2_blob"
		case strings.Contains(p, "/manifests/"):
			return "v2_manifest"
		case strings.HasSuffix(p, "/tags/list"):
			return "v2_tags"
		case strings.Contains(p, "/referrers/"):
			return "v2_referrers"
		}
		return "v2_other"
	case p == "/v1/search":
		return "v1_search"
	case p == "/v1/_ping":
		return "v1_ping"
	case strings.HasPrefix(p, "/v1/"):
		return "v1_other"
	case strings.HasPrefix(p, "/api/v1/"):
		seg, _, _ := strings.Cut(strings.TrimPrefix(p, "/api/v1/"), "/")
		switch seg {
		case "user", "users", "tokens", "orgs", "repositories", "search", "namespaces", "webhooks":
			return "api_" + seg
		}
		return "api_other"
	case strings.HasPrefix(p, "/static/"):
		return "static"
	case p == "/metrics", p == "/healthz", p == "/readyz":
		return strings.TrimPrefix(p, "/")
	}
	return "web"
}
