package metrics

import (
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestGCMetricsCountRunsAndReclaimedBytes(t *testing.T) {
	g := NewGC()
	g.ObserveRun(2*time.Second, 3, 1, 4096, nil)
	g.ObserveRun(time.Second, 1, 0, 10, errors.New("store down"))
	m := New()
	m.Register(g)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	body := string(b)
	for _, want := range []string{
		`wharf_gc_runs_total{result="success"} 1`,
		`wharf_gc_runs_total{result="failure"} 1`,
		`wharf_gc_blobs_deleted_total 4`,
		`wharf_gc_manifests_deleted_total 1`,
		`wharf_gc_bytes_reclaimed_total 4106`,
		`wharf_gc_duration_seconds_count 2`,
		`wharf_gc_last_success_timestamp_seconds`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	// The same GC metrics can join a second registry (a handler built
	// twice in one process).
	New().Register(g)
}
