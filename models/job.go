package models

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// JobStore is the durable queue of work done off the request path:
// verifying signatures and scanning (see scan.go). There is one row per kind of work
// and target; queuing work for a target that has a row re-arms it.
type JobStore struct{ *conn }

// Job kinds.
const (
	// JobVerify verifies the signatures of the manifest Digest.
	JobVerify = "verify"
	// JobVerifyAll verifies every signed manifest of the repository (a key
	// came or went); Digest is "".
	JobVerifyAll = "verify-all"
)

// Job states.
const (
	JobPending = "pending"
	JobRunning = "running"
	JobDone    = "done"
	JobFailed  = "failed"
)

// Job is one piece of work for one target.
type Job struct {
	ID           int64
	Kind         string
	RepositoryID int64
	Digest       string
	State        string
	// Gen moves on each time the job is queued again: a run that
	// finishes an older generation leaves the job pending.
	Gen       int64
	Attempts  int
	RunAfter  time.Time
	Error     string
	CreatedAt time.Time
	UpdatedAt time.Time
	// Repository is the repository's name (filled by ClaimDue).
	Repository string `gorm:"-"`
}

// JobRequest asks for work on a target of a repository.
type JobRequest struct {
	Kind   string
	Digest string
}

// enqueueJobs queues work on repository repoID inside the caller's
// transaction.
func enqueueJobs(tx *gorm.DB, repoID int64, reqs []JobRequest) error {
	now := time.Now().UTC()
	for _, r := range reqs {
		j := Job{Kind: r.Kind, RepositoryID: repoID, Digest: r.Digest, State: JobPending, Gen: 1, RunAfter: now, CreatedAt: now, UpdatedAt: now}
		err := tx.Clauses(clause.OnConflict{
			Columns: []clause.Column{{Name: "kind"}, {Name: "repository_id"}, {Name: "digest"}},
			DoUpdates: clause.Assignments(map[string]any{
				"state": JobPending, "gen": gorm.Expr("jobs.gen + 1"), "attempts": 0, "error": "",
				"run_after": now, "updated_at": now,
			}),
		}).Create(&j).Error
		if err != nil {
			return err
		}
		if r.Kind == JobScan {
			if err := ensureScans(tx, repoID, []string{r.Digest}); err != nil {
				return err
			}
		}
	}
	return nil
}

// Enqueue queues work on repository repoID.
func (s *JobStore) Enqueue(ctx context.Context, repoID int64, reqs ...JobRequest) error {
	return s.tx(ctx, func(tx *gorm.DB) error { return enqueueJobs(tx, repoID, reqs) })
}

// ClaimDue takes up to limit due jobs of kinds for lease: pending ones,
// and running ones whose lease ran out (their runner died); at most one
// per repository, and none of a repository with a job running.
func (s *JobStore) ClaimDue(ctx context.Context, kinds []string, now time.Time, lease time.Duration, limit int) ([]Job, error) {
	states := []string{JobPending, JobRunning}
	var due int64
	if err := s.read(ctx).Model(&Job{}).Where("kind IN ? AND state IN ? AND run_after <= ?", kinds, states, now).
		Limit(1).Count(&due).Error; err != nil || due == 0 {
		return nil, err
	}
	var out []Job
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("kind IN ? AND state IN ? AND run_after <= ?", kinds, states, now).
			Order("run_after").Limit(limit).Find(&out).Error; err != nil {
			return err
		}
		claimed := out[:0]
		busy := map[int64]bool{}
		for _, j := range out {
			// One job per repository at a time, on every replica (the
			// repository's row lock): a run that read the keys or the
			// signatures before another's change never writes after it.
			if busy[j.RepositoryID] {
				continue
			}
			if err := lockRepository(tx, j.RepositoryID); errors.Is(err, ErrNotFound) {
				continue // deleted, with its jobs
			} else if err != nil {
				return err
			}
			var running int64
			if err := tx.Model(&Job{}).Where("repository_id = ? AND id <> ? AND state = ? AND run_after > ?",
				j.RepositoryID, j.ID, JobRunning, now).Count(&running).Error; err != nil {
				return err
			}
			if running > 0 {
				continue
			}
			res := tx.Model(&Job{}).Where("id = ? AND gen = ? AND state IN ? AND run_after <= ?", j.ID, j.Gen, states, now).
				Updates(map[string]any{"state": JobRunning, "run_after": now.Add(lease), "attempts": gorm.Expr("attempts + 1"), "updated_at": now})
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 1 {
				busy[j.RepositoryID] = true
				j.State, j.RunAfter, j.Attempts = JobRunning, now.Add(lease), j.Attempts+1
				var names []string
				if err := tx.Table("repositories").Where("id = ?", j.RepositoryID).Pluck("name", &names).Error; err != nil {
					return err
				}
				if len(names) == 1 {
					j.Repository = names[0]
				}
				claimed = append(claimed, j)
			}
		}
		out = claimed
		return nil
	})
	return out, err
}

// Finish records a claimed job's run: done, or failed (errText set) with
// a retry at retryAt (zero: never). A job queued again while it ran stays
// pending for its new generation.
func (s *JobStore) Finish(ctx context.Context, j *Job, errText string, retryAt time.Time) error {
	now := time.Now().UTC()
	fields := map[string]any{"state": JobDone, "error": "", "updated_at": now}
	switch {
	case errText != "" && !retryAt.IsZero():
		fields = map[string]any{"state": JobPending, "error": errText, "run_after": retryAt, "updated_at": now}
	case errText != "":
		fields = map[string]any{"state": JobFailed, "error": errText, "updated_at": now}
	}
	return s.write(ctx).Model(&Job{}).Where("id = ? AND gen = ?", j.ID, j.Gen).Updates(fields).Error
}

// Renew extends the lease of a claimed job that is still running to
// until.
func (s *JobStore) Renew(ctx context.Context, j *Job, until time.Time) error {
	return s.write(ctx).Model(&Job{}).Where("id = ? AND gen = ? AND state = ?", j.ID, j.Gen, JobRunning).
		Update("run_after", until).Error
}
