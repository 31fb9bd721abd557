package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/wharfhub/wharf/models"
)

// Causes of a run.
const (
	CauseSchedule = "schedule"
	CauseManual   = "manual"
)

// ErrNoPolicy is a repository that no policy governs.
var ErrNoPolicy = errors.New("no retention policy holds here")

// Runner weighs and applies the policies.
type Runner struct {
	db  *models.DB
	log *slog.Logger
	now func() time.Time
}

// New makes a runner over db; now (nil for time.Now) is the clock the
// rules read.
func New(db *models.DB, log *slog.Logger, now func() time.Time) *Runner {
	if now == nil {
		now = time.Now
	}
	return &Runner{db: db, log: log, now: now}
}

// Outcome is what a run, or a preview, found in one repository.
type Outcome struct {
	Repository string
	// Policy is whose policy holds: "repository" or "namespace".
	Policy string
	// Decisions are the rules' decisions, a tag at a time, newest push
	// first.
	Decisions []Decision
	// Removed is what goes (or went): the tags, the manifests, the bytes
	// to reclaim, and the tags an immutability rule spared.
	Removed *models.TagDeletion
	// Run is the run's record (nil for a preview, or a scheduled run
	// that had nothing to remove).
	Run *models.RetentionRun
}

// Preview says what a run of repo's policy would remove now, changing
// nothing.
func (r *Runner) Preview(ctx context.Context, repo models.GovernedRepository) (*Outcome, error) {
	return r.apply(ctx, repo, "", "", true)
}

// Run applies repo's policy now; cause says why, actor (may be "") who
// asked. A manual run is recorded even when it removes nothing.
func (r *Runner) Run(ctx context.Context, repo models.GovernedRepository, cause, actor string) (*Outcome, error) {
	return r.apply(ctx, repo, cause, actor, false)
}

func (r *Runner) apply(ctx context.Context, repo models.GovernedRepository, cause, actor string, dryRun bool) (*Outcome, error) {
	ns := models.NamespaceOf(repo.Name)
	stored, err := r.db.Retention.Effective(ctx, repo.ID, ns)
	if errors.Is(err, models.ErrNotFound) {
		return nil, ErrNoPolicy
	}
	if err != nil {
		return nil, err
	}
	out := &Outcome{Repository: repo.Name, Policy: "namespace"}
	if stored.RepositoryID != nil {
		out.Policy = "repository"
	}
	started := r.now().UTC()
	run := &models.RetentionRun{RepositoryID: repo.ID, Namespace: ns, Repository: repo.Name, Policy: out.Policy,
		Cause: cause, Actor: actor, StartedAt: started, Status: models.RunOK}
	req, decisions, err := r.weigh(ctx, repo, stored, started)
	if err != nil {
		return nil, r.failed(ctx, run, dryRun, err)
	}
	out.Decisions = decisions
	// Each repository's run is its own audit entry, written with its
	// removal: as the caller (or the system, for the schedule).
	rctx, _ := models.WithAuditing(ctx, models.AuditingOf(ctx).Actor())
	if !dryRun {
		models.Note(rctx, models.AuditNote{Action: "retention.run", Target: repo.Name, Namespace: ns,
			Repository: repo.Name, Detail: cause + " run of the " + out.Policy + "'s policy"})
		req.Run, req.RecordEmpty = run, cause == CauseManual
	}
	out.Removed, err = r.db.Tags.Prune(rctx, repo.ID, repo.Name, req, actor, dryRun)
	if err != nil {
		return nil, r.failed(ctx, run, dryRun, err)
	}
	for i := range out.Decisions {
		if d := &out.Decisions[i]; !d.Keep && slices.Contains(out.Removed.Spared, d.Tag.Name) {
			d.Keep, d.Reason = true, "immutable: a rule protects it"
		}
	}
	if !dryRun && run.ID != 0 {
		out.Run = run
	}
	return out, nil
}

// weigh reads what the rules weigh in repo and decides.
func (r *Runner) weigh(ctx context.Context, repo models.GovernedRepository, stored *models.RetentionPolicy, now time.Time) (models.PruneRequest, []Decision, error) {
	var req models.PruneRequest
	p, err := Parse(stored)
	if err != nil {
		return req, nil, err
	}
	tags, err := r.db.Retention.Tags(ctx, repo.ID)
	if err != nil {
		return req, nil, err
	}
	decisions := p.Evaluate(tags, now)
	req.Tags = map[string]int64{}
	for _, d := range decisions {
		if !d.Keep {
			req.Tags[d.Tag.Name] = d.Tag.ManifestID
		}
	}
	if p.UntaggedDays > 0 {
		req.Untagged, err = r.db.Retention.Untagged(ctx, repo.ID, now.Add(-time.Duration(p.UntaggedDays)*24*time.Hour))
		if err != nil {
			return req, nil, err
		}
	}
	return req, decisions, nil
}

// failed records a run that could not finish (not a preview's), and
// returns its error.
func (r *Runner) failed(ctx context.Context, run *models.RetentionRun, dryRun bool, err error) error {
	if dryRun || ctx.Err() != nil {
		return err
	}
	run.Status, run.Error, run.FinishedAt = models.RunFailed, errorText(err), r.now().UTC()
	// A failure changed nothing: its record is no audit entry.
	fctx, _ := models.WithAuditing(context.WithoutCancel(ctx), models.AuditingOf(ctx).Actor())
	if rerr := r.db.Retention.Record(fctx, run); rerr != nil {
		r.log.Error("retention: record a failed run", "repository", run.Repository, "err", rerr)
	}
	return err
}

// errorText is what a failed run says of its error.
func errorText(err error) string {
	var immutable *models.ImmutableError
	switch {
	case errors.Is(err, models.ErrTooMany):
		return "More manifests would go than one run removes; remove some tags by hand, or loosen the policy, and run again."
	case errors.As(err, &immutable):
		return immutable.Error()
	}
	return "The run failed: " + err.Error()
}

// Sweep runs the policy of every repository one governs (of namespace
// ns only, if set) as cause, a repository at a time, until ctx ends.
// It returns the outcomes that removed something or were recorded, and
// the first error (the others are logged).
func (r *Runner) Sweep(ctx context.Context, ns, cause, actor string) ([]*Outcome, error) {
	var out []*Outcome
	var first error
	var after int64
	for {
		repos, err := r.db.Retention.Governed(ctx, ns, after, 100)
		if err != nil {
			return out, err
		}
		for _, repo := range repos {
			if ctx.Err() != nil {
				return out, ctx.Err()
			}
			after = repo.ID
			o, err := r.Run(ctx, repo, cause, actor)
			switch {
			case errors.Is(err, ErrNoPolicy):
				continue // removed since it was listed
			case err != nil:
				r.log.Error("retention: run", "repository", repo.Name, "err", err)
				if first == nil {
					first = fmt.Errorf("%s: %w", repo.Name, err)
				}
				continue
			}
			if o.Run != nil {
				out = append(out, o)
			}
			if n := len(o.Removed.Tags) + len(o.Removed.Manifests); n > 0 && cause == CauseSchedule {
				r.log.Info("retention: pruned", "repository", repo.Name, "tags", len(o.Removed.Tags),
					"manifests", len(o.Removed.Manifests), "bytes", o.Removed.Bytes)
			}
		}
		if len(repos) < 100 {
			return out, first
		}
	}
}

// RunEvery sweeps every interval until ctx ends, as the system ("wharf
// retention"), when turn (which replicas share through the database)
// says it is this replica's turn.
func (r *Runner) RunEvery(ctx context.Context, interval time.Duration, turn func(context.Context, time.Duration) (bool, error)) {
	ctx, _ = models.WithAuditing(ctx, models.Actor{Name: "wharf retention", Kind: models.ActorSystem})
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		mine, err := turn(ctx, interval)
		if err != nil {
			if ctx.Err() == nil {
				r.log.Error("retention: take a turn", "err", err)
			}
			continue
		}
		if !mine {
			continue
		}
		if _, err := r.Sweep(ctx, "", CauseSchedule, ""); err != nil && ctx.Err() == nil {
			r.log.Error("retention: sweep", "err", err)
		}
	}
}
