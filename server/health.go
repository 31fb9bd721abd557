package server

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/gc"
	"github.com/wharfhub/wharf/server/storage"
	"github.com/wharfhub/wharf/web"
)

// gcRun is the last garbage collection this replica ran.
type gcRun struct {
	at     time.Time
	report gc.Report
	err    error
}

// lastGC keeps the last run for the health page.
type lastGC struct{ p atomic.Pointer[gcRun] }

func (l *lastGC) observe(r gc.Report, err error) {
	l.p.Store(&gcRun{at: time.Now(), report: r, err: err})
}

// healthChecks looks at a's parts, for the admin console's health page.
func healthChecks(a *App) web.HealthFunc {
	return func(ctx context.Context) []web.HealthCheck {
		ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		timed := func(name string, f func(context.Context) error) web.HealthCheck {
			start := time.Now()
			if err := f(ctx); err != nil {
				return web.HealthCheck{Name: name, Detail: "unreachable: " + err.Error()}
			}
			return web.HealthCheck{Name: name, OK: true, Detail: fmt.Sprintf("answers in %s", time.Since(start).Round(time.Millisecond))}
		}
		checks := []web.HealthCheck{timed("Database ("+a.DB.Writer().Dialector.Name()+")", a.DB.Ping)}
		if p, ok := a.Store.(storage.Pinger); ok {
			checks = append(checks, timed("Blob store", p.Ping))
		}
		if a.Indexer != nil {
			lag, err := a.Indexer.Lag(ctx)
			ch := web.HealthCheck{Name: "Search index", OK: err == nil && lag < 1000, Detail: fmt.Sprintf("%d changes behind", lag)}
			if err != nil {
				ch.Detail = "cannot tell: " + err.Error()
			}
			checks = append(checks, ch)
		}
		pending, err := a.DB.Deliveries.Count(ctx, models.DeliveryPending, models.DeliverySending)
		failed, ferr := a.DB.Deliveries.Count(ctx, models.DeliveryFailed)
		ch := web.HealthCheck{Name: "Webhook queue", OK: err == nil && ferr == nil && pending < 10000,
			Detail: fmt.Sprintf("%d deliveries waiting, %d given up on", pending, failed)}
		if err != nil || ferr != nil {
			ch.Detail = "cannot tell"
		}
		checks = append(checks, ch)
		gcCheck := web.HealthCheck{Name: "Garbage collection", OK: true, Detail: "no run on this replica yet"}
		if a.Config.GCInterval == 0 {
			gcCheck.Detail = "off (--gc-interval 0): wharf gc runs it"
		}
		if r := a.gcLast.p.Load(); r != nil {
			gcCheck.Detail = fmt.Sprintf("last run %s ago: %s", time.Since(r.at).Round(time.Second), r.report)
			if r.err != nil {
				gcCheck.OK, gcCheck.Detail = false, fmt.Sprintf("last run %s ago failed: %v", time.Since(r.at).Round(time.Second), r.err)
			}
		}
		return append(checks, gcCheck)
	}
}
