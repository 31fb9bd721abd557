package server

import (
	"context"

	"github.com/wharfhub/wharf/server/gc"
	"github.com/wharfhub/wharf/server/metrics"
)

// newGC makes the garbage collector, counting its runs for /metrics.
func (a *App) newGC() (*gc.Collector, *metrics.GC) {
	c := gc.New(a.DB, a.Store, a.Log)
	c.Events = a.Events
	m := metrics.NewGC()
	c.Observe = func(r gc.Report, err error) {
		m.ObserveRun(r.Duration, int64(r.Blobs+r.Orphans), int64(r.Manifests), r.BytesReclaimed(), err)
	}
	return c, m
}

// GCOptions are the configured garbage collection settings.
func (a *App) GCOptions() gc.Options {
	return gc.Options{Grace: a.Config.GCGrace, DeleteUntagged: a.Config.GCDeleteUntagged}
}

// StartGC runs garbage collection every --gc-interval, if set, until ctx
// ends. Every replica may run it: the database keeps concurrent runs and
// pushes safe.
func (a *App) StartGC(ctx context.Context) {
	if a.Config.GCInterval <= 0 {
		return
	}
	a.Log.Info("online garbage collection", "interval", a.Config.GCInterval.String(),
		"grace", a.Config.GCGrace.String(), "delete_untagged", a.Config.GCDeleteUntagged)
	go a.GC.RunEvery(ctx, a.Config.GCInterval, a.GCOptions())
}
