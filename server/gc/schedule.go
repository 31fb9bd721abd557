package gc

import (
	"context"
	"time"
)

// RunEvery collects garbage every interval until ctx ends, logging each
// run's report. The first run comes one interval after the start. With
// Turn set, an interval's run is skipped when another replica has it.
func (c *Collector) RunEvery(ctx context.Context, interval time.Duration, opts Options) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if c.hooks.Turn != nil {
			mine, err := c.hooks.Turn(ctx, interval)
			if err != nil {
				if ctx.Err() != nil {
					return // stopping: no turn to take
				}
				c.log.Error("garbage collection: take a turn", "err", err)
				continue
			}
			if !mine {
				continue // another replica collects this interval
			}
		}
		rep, err := c.Run(ctx, opts)
		switch {
		case err != nil && ctx.Err() == nil:
			c.log.Error("garbage collection failed", "err", err, "report", rep.String())
		case err == nil:
			c.log.Info("garbage collection", "blobs", rep.Blobs, "orphans", rep.Orphans,
				"manifests", rep.Manifests, "bytes_reclaimed", rep.BytesReclaimed(),
				"kept", rep.Kept, "errors", rep.Errors, "duration_ms", rep.Duration.Milliseconds())
		}
	}
}
