package trust

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/wharfhub/wharf/models"
)

// Handler does one claimed job; an error makes it retried later.
type Handler func(ctx context.Context, j models.Job) error

// Worker runs the job queue: it claims due jobs of the kinds it has
// handlers for, runs them with bounded concurrency and records each run.
// Jobs left running by a crash are taken again once their lease ends.
type Worker struct {
	db       *models.DB
	log      *slog.Logger
	opts     WorkerOptions
	handlers map[string]Handler
	wake     chan struct{}
	now      func() time.Time
}

// WorkerOptions tune a worker; a zero field takes its default.
type WorkerOptions struct {
	// Concurrency bounds jobs in flight (2).
	Concurrency int
	// Lease is how long a claimed job is held before another run may
	// take it (30s): a run renews it every third of it while it runs, so
	// that a job whose runner died is taken again soon.
	Lease time.Duration
	// Poll is how often the queue is read when nothing wakes the worker
	// (2s).
	Poll time.Duration
	// Backoff is the wait before each retry of a failing job; after the
	// last the job is failed.
	Backoff []time.Duration
	// Drain is how long jobs in flight when Run's context ends may take
	// (10s); those still going are cancelled and retried on the next
	// start.
	Drain time.Duration
}

// DefaultBackoff retries a failing job for about an hour.
var DefaultBackoff = []time.Duration{5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute, 45 * time.Minute}

// NewWorker makes a worker over db's job queue; handlers are added with
// Handle before Run.
func NewWorker(db *models.DB, log *slog.Logger, opts WorkerOptions) *Worker {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 2
	}
	if opts.Lease <= 0 {
		opts.Lease = 30 * time.Second
	}
	if opts.Poll <= 0 {
		opts.Poll = 2 * time.Second
	}
	if opts.Backoff == nil {
		opts.Backoff = DefaultBackoff
	}
	if opts.Drain <= 0 {
		opts.Drain = 10 * time.Second
	}
	return &Worker{db: db, log: log, opts: opts, handlers: map[string]Handler{}, wake: make(chan struct{}, 1),
		now: func() time.Time { return time.Now().UTC() }}
}

// Handle makes the worker run jobs of kind with fn.
func (w *Worker) Handle(kind string, fn Handler) { w.handlers[kind] = fn }

// Wake makes the worker look for due jobs now.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run runs jobs until ctx ends, then waits for those in flight (up to
// WorkerOptions.Drain, after which they are cancelled and left to be
// retried).
func (w *Worker) Run(ctx context.Context) error {
	runCtx, cancelRuns := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelRuns()
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(w.opts.Drain, cancelRuns) })
	defer stop()
	kinds := slices.Sorted(maps.Keys(w.handlers))
	sem := make(chan struct{}, w.opts.Concurrency)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		if ctx.Err() != nil {
			return nil
		}
		due, err := w.db.Jobs.ClaimDue(ctx, kinds, w.now(), w.opts.Lease, cap(sem))
		if err != nil && ctx.Err() == nil {
			w.log.Error("jobs: claim", "err", err)
		}
		for _, j := range due {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				w.run(runCtx, j)
			}()
		}
		if len(due) == cap(sem) {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-w.wake:
		case <-time.After(w.opts.Poll):
		}
	}
}

func (w *Worker) run(ctx context.Context, j models.Job) {
	start := time.Now()
	renew := time.NewTicker(w.opts.Lease / 3)
	done, renewed := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(renewed)
		for {
			select {
			case <-done:
				return
			case <-renew.C:
				if err := w.db.Jobs.Renew(ctx, &j, w.now().Add(w.opts.Lease)); err != nil && ctx.Err() == nil {
					w.log.Warn("jobs: renew lease", "kind", j.Kind, "repository", j.Repository, "err", err)
				}
			}
		}
	}()
	err := w.handlers[j.Kind](ctx, j)
	renew.Stop()
	close(done)
	<-renewed
	var retryAt time.Time
	errText := ""
	if err != nil {
		errText = err.Error()
		if ctx.Err() != nil {
			retryAt = w.now() // cut off by a shutdown: run it on the next start
		} else if n := j.Attempts - 1; n < len(w.opts.Backoff) {
			retryAt = w.now().Add(w.opts.Backoff[n])
		}
		w.log.Warn("jobs: run failed", "kind", j.Kind, "repository", j.Repository, "digest", j.Digest,
			"attempt", j.Attempts, "retry_at", retryAt, "err", err)
	} else {
		w.log.Debug("jobs: done", "kind", j.Kind, "repository", j.Repository, "digest", j.Digest, "took", time.Since(start))
	}
	if err := w.db.Jobs.Finish(context.WithoutCancel(ctx), &j, errText, retryAt); err != nil {
		w.log.Error("jobs: record run", "kind", j.Kind, "repository", j.Repository, "err", err)
	}
}

// Handlers are the handlers of the signature jobs.
func (v *Verifier) Handlers(log *slog.Logger) map[string]Handler {
	one := func(ctx context.Context, repoID int64, repo, subject string) error {
		sigs, err := v.Verify(ctx, repoID, repo, subject)
		if err != nil {
			return err
		}
		before, after, err := v.db.Signatures.Replace(ctx, repoID, repo, subject, sigs)
		if err != nil {
			return err
		}
		if before != after {
			log.Info("signatures: status changed", "repository", repo, "digest", subject, "from", before, "to", after)
		}
		return nil
	}
	return map[string]Handler{
		models.JobVerify: func(ctx context.Context, j models.Job) error {
			return one(ctx, j.RepositoryID, j.Repository, j.Digest)
		},
		models.JobVerifyAll: func(ctx context.Context, j models.Job) error {
			subjects, err := v.db.Signatures.SignedSubjects(ctx, j.RepositoryID)
			if err != nil {
				return err
			}
			for _, s := range subjects {
				if err := one(ctx, j.RepositoryID, j.Repository, s); err != nil {
					return err
				}
			}
			return nil
		},
	}
}
