package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// GC holds the garbage collection metrics. It lives as long as the
// process (runs are counted before any /metrics handler exists) and is
// added to a Metrics with Register.
type GC struct {
	runs      *prometheus.CounterVec
	blobs     prometheus.Counter
	manifests prometheus.Counter
	bytes     prometheus.Counter
	duration  prometheus.Histogram
	last      prometheus.Gauge
}

// NewGC makes the garbage collection metrics.
func NewGC() *GC {
	return &GC{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wharf_gc_runs_total", Help: "Garbage collection runs, by result (success or failure).",
		}, []string{"result"}),
		blobs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wharf_gc_blobs_deleted_total", Help: "Blobs garbage collection deleted from the store, recorded or not.",
		}),
		manifests: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wharf_gc_manifests_deleted_total", Help: "Untagged manifests garbage collection deleted.",
		}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wharf_gc_bytes_reclaimed_total", Help: "Bytes garbage collection reclaimed (blobs and manifests).",
		}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "wharf_gc_duration_seconds", Help: "Duration of garbage collection runs.",
			Buckets: []float64{.01, .1, 1, 10, 60, 300, 1800, 7200},
		}),
		last: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "wharf_gc_last_success_timestamp_seconds", Help: "When the last successful garbage collection ended (Unix time).",
		}),
	}
}

// ObserveRun records one run: what it deleted (even a failed run deletes
// some), how long it took, and whether it succeeded.
func (g *GC) ObserveRun(d time.Duration, blobs, manifests, bytes int64, err error) {
	g.blobs.Add(float64(blobs))
	g.manifests.Add(float64(manifests))
	g.bytes.Add(float64(bytes))
	g.duration.Observe(d.Seconds())
	if err != nil {
		g.runs.WithLabelValues("failure").Inc()
		return
	}
	g.runs.WithLabelValues("success").Inc()
	g.last.Set(float64(time.Now().Unix()))
}

// Register adds the garbage collection metrics to m's registry.
func (m *Metrics) Register(g *GC) {
	m.reg.MustRegister(g.runs, g.blobs, g.manifests, g.bytes, g.duration, g.last)
}
