package hub

import (
	"context"
	"errors"
	"time"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/auth"
	"github.com/wharfhub/wharf/server/retention"
)

// Retention is the service of retention policies: what a repository, or
// every repository of a namespace, keeps, a preview of what a run would
// remove, runs by hand and their reports. The schedule runs them too
// (retention.Runner.RunEvery). A repository's own policy wins over its
// namespace's.
type Retention struct {
	*base
	runner *retention.Runner
}

// RetentionView is a policy as its target shows it.
type RetentionView struct {
	retention.Policy
	// Owner is whose policy it is: "repository" or "namespace"; a
	// repository with no policy of its own shows its namespace's, as
	// Inherited.
	Owner     string
	Inherited bool
	UpdatedBy string
	UpdatedAt time.Time
}

func viewOf(p *models.RetentionPolicy, inherited bool) (*RetentionView, error) {
	pol, err := retention.Parse(p)
	if err != nil {
		return nil, err
	}
	v := &RetentionView{Policy: pol, Owner: "namespace", Inherited: inherited, UpdatedBy: p.UpdatedBy, UpdatedAt: p.UpdatedAt}
	if p.RepositoryID != nil {
		v.Owner = "repository"
	}
	return v, nil
}

// errNoRetention is a target with no policy to show or run.
var errNoRetention = ErrNotFound

// authorize checks the caller manages t and that t may have a policy
// (mirrors keep what --mirror-retention says).
func (s *Retention) authorize(ctx context.Context, id *auth.Identity, t Target) (int64, error) {
	repoID, err := s.authorizeTarget(ctx, id, t)
	if err != nil {
		return 0, err
	}
	ns := t.Namespace
	if t.Repository != "" {
		ns = models.NamespaceOf(t.Repository)
	}
	if _, mirror := s.mirrors.Upstream(ns); mirror {
		return 0, invalid("A mirror keeps what was pulled within --mirror-retention; retention policies do not apply to it.")
	}
	return repoID, nil
}

// Policy is the policy that holds in t: its own, or for a repository its
// namespace's (Inherited); ErrNotFound if none.
func (s *Retention) Policy(ctx context.Context, id *auth.Identity, t Target) (*RetentionView, error) {
	repoID, err := s.authorize(ctx, id, t)
	if err != nil {
		return nil, err
	}
	var p *models.RetentionPolicy
	if repoID != 0 {
		p, err = s.db.Retention.Effective(ctx, repoID, models.NamespaceOf(t.Repository))
	} else {
		p, err = s.db.Retention.ForNamespace(ctx, t.Namespace)
	}
	if errors.Is(err, models.ErrNotFound) {
		return nil, errNoRetention
	}
	if err != nil {
		return nil, err
	}
	return viewOf(p, repoID != 0 && p.RepositoryID == nil)
}

// SetPolicy makes p t's own policy, replacing the one it had.
func (s *Retention) SetPolicy(ctx context.Context, id *auth.Identity, t Target, p retention.Policy) (*RetentionView, error) {
	noteTarget(ctx, "retention.set", t, "retention policy", p.RulesJSON())
	repoID, err := s.authorize(ctx, id, t)
	if err != nil {
		return nil, err
	}
	for _, r := range p.Rules {
		if err := checkTexts(textField{retentionKeepText, r.Keep}, textField{tagPatternText, r.Pattern}); err != nil {
			return nil, err
		}
	}
	if err := p.Check(); err != nil {
		return nil, invalidErr(err)
	}
	stored := &models.RetentionPolicy{Rules: p.RulesJSON(), UntaggedDays: p.UntaggedDays, UpdatedBy: actorOf(id)}
	if repoID != 0 {
		stored.RepositoryID = &repoID
	} else {
		ns := t.Namespace
		stored.Namespace = &ns
	}
	if err := s.db.Retention.Put(ctx, stored); errors.Is(err, models.ErrNotFound) {
		return nil, ErrNotFound
	} else if err != nil {
		return nil, err
	}
	return viewOf(stored, false)
}

// DeletePolicy removes t's own policy: its tags stay from now on (a
// repository's namespace policy holds again, if it has one).
func (s *Retention) DeletePolicy(ctx context.Context, id *auth.Identity, t Target) error {
	noteTarget(ctx, "retention.delete", t, "retention policy", "")
	repoID, err := s.authorize(ctx, id, t)
	if err != nil {
		return err
	}
	if repoID != 0 {
		err = s.db.Retention.DeleteForRepository(ctx, repoID)
	} else {
		err = s.db.Retention.DeleteForNamespace(ctx, t.Namespace)
	}
	if errors.Is(err, models.ErrNotFound) {
		return errNoRetention
	}
	return err
}

// maxPreviewed bounds the repositories a namespace's preview weighs.
const maxPreviewed = 100

// Preview says what a run in t would remove now, a repository at a time
// (a namespace's first maxPreviewed governed repositories), changing
// nothing.
func (s *Retention) Preview(ctx context.Context, id *auth.Identity, t Target) ([]*retention.Outcome, error) {
	repos, err := s.governed(ctx, id, t, maxPreviewed)
	if err != nil {
		return nil, err
	}
	out := make([]*retention.Outcome, 0, len(repos))
	for _, r := range repos {
		o, err := s.runner.Preview(ctx, r)
		if errors.Is(err, retention.ErrNoPolicy) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// Run applies the policies in t now, a repository at a time, each
// recorded as a manual run by the caller, and says what went.
func (s *Retention) Run(ctx context.Context, id *auth.Identity, t Target) ([]*retention.Outcome, error) {
	noteTarget(ctx, "retention.run", t, "retention policy", "manual run")
	if _, err := s.governed(ctx, id, t, 1); err != nil {
		return nil, err
	}
	if t.Repository != "" {
		r, err := s.db.Repositories.Get(ctx, t.Repository)
		if err != nil {
			return nil, err
		}
		o, err := s.runner.Run(ctx, models.GovernedRepository{ID: r.ID, Name: r.Name}, retention.CauseManual, actorOf(id))
		if errors.Is(err, retention.ErrNoPolicy) {
			return nil, errNoRetention
		}
		if err != nil {
			return nil, err
		}
		return []*retention.Outcome{o}, nil
	}
	return s.runner.Sweep(ctx, t.Namespace, retention.CauseManual, actorOf(id))
}

// governed lists up to limit repositories of t that a policy governs,
// once the caller is known to manage t; none is ErrNotFound.
func (s *Retention) governed(ctx context.Context, id *auth.Identity, t Target, limit int) ([]models.GovernedRepository, error) {
	repoID, err := s.authorize(ctx, id, t)
	if err != nil {
		return nil, err
	}
	if repoID != 0 {
		if _, err := s.db.Retention.Effective(ctx, repoID, models.NamespaceOf(t.Repository)); errors.Is(err, models.ErrNotFound) {
			return nil, errNoRetention
		} else if err != nil {
			return nil, err
		}
		return []models.GovernedRepository{{ID: repoID, Name: t.Repository}}, nil
	}
	repos, err := s.db.Retention.Governed(ctx, t.Namespace, 0, limit)
	if err != nil {
		return nil, err
	}
	if len(repos) == 0 {
		return nil, errNoRetention
	}
	return repos, nil
}

// Runs lists t's runs, newest first, older than the run before (0: the
// newest), up to limit (1 to 100).
func (s *Retention) Runs(ctx context.Context, id *auth.Identity, t Target, before int64, limit int) ([]models.RetentionRun, error) {
	repoID, err := s.authorize(ctx, id, t)
	if err != nil {
		return nil, err
	}
	if limit < 1 || limit > 100 {
		limit = 100
	}
	return s.db.Retention.Runs(ctx, models.RunFilter{RepositoryID: repoID, Namespace: t.Namespace, Before: before}, limit)
}
