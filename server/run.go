package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// ShutdownTimeout bounds how long requests in flight at shutdown may take
// to finish.
const ShutdownTimeout = 30 * time.Second

// Run runs the background workers until ctx ends, and returns when every
// one has stopped. They stop in two steps: first those that cause events
// (garbage collection, the upload janitor, the session sweeper, the job
// worker) and the
// pull flusher, which flushes once more; then those that carry events
// out (the indexer flushes its batch and saves its place in the change
// log; the webhook worker finishes the deliveries it is sending), so that
// no event of the first is lost. After Run returns, Close may release the
// storage.
func (a *App) Run(ctx context.Context) error {
	carriers, stopCarriers := context.WithCancel(context.WithoutCancel(ctx))
	defer stopCarriers()
	cg, cctx := errgroup.WithContext(carriers)
	if a.Indexer != nil {
		cg.Go(func() error { return a.Indexer.Run(cctx) })
	}
	cg.Go(func() error { return a.Webhooks.Run(cctx) })
	if a.Mail != nil {
		// Mail carries what the causes queue: it stops after them, and
		// sends what they left, for up to 10 seconds.
		cg.Go(func() error { a.Mail.Run(cctx, 10*time.Second); return nil })
	}

	// A carrier that fails stops the causes too, and so Run.
	causes, stopCauses := context.WithCancel(ctx)
	defer stopCauses()
	stop := context.AfterFunc(cctx, stopCauses)
	defer stop()
	pg, pctx := errgroup.WithContext(causes)
	if a.Config.GCInterval > 0 {
		pg.Go(func() error { return a.runGC(pctx) })
	}
	pg.Go(func() error { return a.janitor(pctx) })
	pg.Go(func() error { newAuditTrail(a).sweep(pctx, time.Hour); return nil })
	if every := a.Config.RetentionInterval; every > 0 {
		// Replicas take turns: one runs the policies each interval.
		holder := replicaID()
		pg.Go(func() error {
			a.Retention.RunEvery(pctx, every, func(ctx context.Context, interval time.Duration) (bool, error) {
				now := time.Now()
				return a.DB.Site.TakeTurn(ctx, "retention", holder, now, now.Add(interval*9/10))
			})
			return nil
		})
	}
	pg.Go(func() error { a.MirrorCatalog.Run(pctx, 15*time.Second); return nil })
	if r := a.Config.MirrorRetention; r > 0 {
		pg.Go(func() error { a.Mirrors.RunRetention(pctx, r, max(min(r/10, time.Hour), time.Second)); return nil })
	}
	pg.Go(func() error { a.Content.Pulls.Run(pctx, 2*time.Second); return nil })
	pg.Go(func() error { a.Recovery.Run(pctx); return nil })
	if a.pushNotices != nil {
		pg.Go(func() error { a.pushNotices.Run(pctx); return nil })
	}
	pg.Go(func() error { return a.Jobs.Run(pctx) })
	pg.Go(func() error { a.Scan.Run(pctx, a.Config.Scanner.Interval); return nil })
	if a.web != nil {
		pg.Go(func() error { a.web.Run(pctx); return nil })
	}
	perr := pg.Wait()
	stopCarriers()
	return errors.Join(perr, cg.Wait())
}

// janitor purges abandoned uploads and expired reset links now and then.
func (a *App) janitor(ctx context.Context) error {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		n, err := a.Content.Uploads.PurgeStale(ctx, time.Now())
		if err != nil && ctx.Err() == nil {
			a.Log.Error("purge stale uploads", "err", err)
		} else if n > 0 {
			a.Log.Info("purged stale uploads", "count", n)
		}
		if err := a.DB.Resets.DeleteExpired(ctx, time.Now()); err != nil && ctx.Err() == nil {
			a.Log.Error("purge expired reset links", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Serve serves HTTP and runs the workers until ctx ends (or either
// fails), then shuts down in order: stop accepting and let requests in
// flight finish (for up to ShutdownTimeout), then stop the workers (see
// Run). The caller closes the App after.
func (a *App) Serve(ctx context.Context, ready func(addr net.Addr)) error {
	handler, err := a.Handler()
	if err != nil {
		return err
	}
	ln := a.listener
	if ln == nil {
		if ln, err = net.Listen("tcp", a.Config.Addr); err != nil {
			return err
		}
	}
	a.serving.Store(ln.Addr())
	// Handlers still running when Shutdown gives up are waited for all
	// the same, since they use the storage Close releases.
	var inflight sync.WaitGroup
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			inflight.Add(1)
			defer inflight.Done()
			handler.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    1 << 20,
	}
	// The plain-HTTP listener (redirects, ACME challenges), if any, is
	// opened before anything runs.
	var hln net.Listener
	if a.tls != nil && a.Config.TLS.HTTPAddr != "" {
		if hln, err = net.Listen("tcp", a.Config.TLS.HTTPAddr); err != nil {
			ln.Close()
			return fmt.Errorf("http-addr: %w", err)
		}
	}
	g, gctx := errgroup.WithContext(context.WithoutCancel(ctx))
	workers, stopWorkers := context.WithCancel(gctx)
	defer stopWorkers()
	g.Go(func() error { return a.Run(workers) })
	servers := []*http.Server{srv}
	serve := func(srv *http.Server, ln net.Listener, tls bool) {
		g.Go(func() error {
			var err error
			if tls {
				err = srv.ServeTLS(ln, "", "")
			} else {
				err = srv.Serve(ln)
			}
			if !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("serve %s: %w", ln.Addr(), err)
			}
			return nil
		})
	}
	if a.tls != nil {
		srv.TLSConfig = a.tls.config
		if hln != nil {
			rs := a.redirectServer()
			servers = append(servers, rs)
			a.Log.Info("redirecting plain HTTP to HTTPS", "addr", hln.Addr().String())
			serve(rs, hln, false)
		}
	}
	serve(srv, ln, a.tls != nil)
	g.Go(func() error {
		defer stopWorkers()
		select {
		case <-ctx.Done():
		case <-gctx.Done():
		}
		a.Log.Info("shutting down: finishing requests", "timeout", ShutdownTimeout.String())
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ShutdownTimeout)
		defer cancel()
		var errs []error
		for _, srv := range servers {
			if err := srv.Shutdown(sctx); err != nil {
				_ = srv.Close() // cuts the connections; their handlers end
				errs = append(errs, fmt.Errorf("shutdown: requests still running after %s: %w", ShutdownTimeout, err))
			}
		}
		err := errors.Join(errs...)
		inflight.Wait()
		a.Log.Info("shutting down: stopping workers")
		return err
	})
	a.Log.Info("wharf listening", "addr", ln.Addr().String(), "base_url", a.Config.BaseURL, "data_dir", a.Config.DataDir, "tls", a.tls != nil)
	if ready != nil {
		ready(ln.Addr())
	}
	err = g.Wait()
	a.Log.Info("stopped")
	return err
}
