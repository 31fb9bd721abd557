package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"time"

	"github.com/wharfhub/wharf/server/gc"
	"github.com/wharfhub/wharf/server/metrics"
)

// newGC makes the garbage collector, counting its runs for /metrics.
// Replicas take turns through the database; were two to run at once, the
// database would keep the runs and pushes safe all the same.
func (a *App) newGC() (*gc.Collector, *metrics.GC) {
	m := metrics.NewGC()
	holder := replicaID()
	c := gc.New(a.DB, a.Store, a.Log, gc.Hooks{
		Events: a.Events,
		Observe: func(r gc.Report, err error) {
			m.ObserveRun(r.Duration, int64(r.Blobs+r.Orphans), int64(r.Manifests), r.BytesReclaimed(), err)
			a.gcLast.observe(r, err)
		},
		Turn: func(ctx context.Context, interval time.Duration) (bool, error) {
			now := time.Now()
			return a.DB.Site.TakeTurn(ctx, "gc", holder, now, now.Add(interval*9/10))
		},
	})
	return c, m
}

// GCOptions are the configured garbage collection settings.
func (a *App) GCOptions() gc.Options {
	return gc.Options{Grace: a.Config.GCGrace, DeleteUntagged: a.Config.GCDeleteUntagged}
}

// runGC runs garbage collection every --gc-interval until ctx ends; a run
// that ctx cuts short leaves its marks, which a later run takes over.
func (a *App) runGC(ctx context.Context) error {
	a.Log.Info("online garbage collection", "interval", a.Config.GCInterval.String(),
		"grace", a.Config.GCGrace.String(), "delete_untagged", a.Config.GCDeleteUntagged)
	a.GC.RunEvery(ctx, a.Config.GCInterval, a.GCOptions())
	return nil
}

// replicaID names this process among replicas: host, pid and a random
// suffix, since containers often share both.
func replicaID() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}
