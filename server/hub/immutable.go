package hub

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/auth"
)

// Immutability is the service of immutable tags: rules, by pattern, that
// keep a repository's (or a namespace's) matching tags from being moved
// by a push or deleted. The registry and the hub's deletions enforce them
// where tags are written (models.ImmutableError).
type Immutability struct{ *base }

// Rules lists the target's own rules.
func (s *Immutability) Rules(ctx context.Context, id *auth.Identity, t Target) ([]models.ImmutableRule, error) {
	repoID, err := s.authorizeTarget(ctx, id, t)
	if err != nil {
		return nil, err
	}
	if repoID != 0 {
		return s.db.Immutables.ListForRepository(ctx, repoID)
	}
	return s.db.Immutables.ListForNamespace(ctx, t.Namespace)
}

// AddRule makes the tags that match pattern (such as v* or release-*)
// immutable in the target.
func (s *Immutability) AddRule(ctx context.Context, id *auth.Identity, t Target, pattern string) (*models.ImmutableRule, error) {
	noteTarget(ctx, "immutable_rule.create", t, "tags "+pattern, "")
	repoID, err := s.authorizeTarget(ctx, id, t)
	if err != nil {
		return nil, err
	}
	pattern = strings.TrimSpace(pattern)
	if err := checkText(tagPatternText, pattern); err != nil {
		return nil, err
	}
	if !models.ValidImmutablePattern(pattern) {
		return nil, invalid("A tag pattern is 1 to 128 characters of a tag, with * ? and [...] as wildcards (such as v* or release-*).")
	}
	r := &models.ImmutableRule{Pattern: pattern, CreatedBy: actorOf(id)}
	if repoID != 0 {
		r.RepositoryID = &repoID
	} else {
		ns := t.Namespace
		r.Namespace = &ns
	}
	if err := s.db.Immutables.Create(ctx, r); errors.Is(err, models.ErrConflict) {
		return nil, invalid("Tags matching %s are immutable already.", pattern)
	} else if errors.Is(err, models.ErrNotFound) {
		return nil, ErrNotFound
	} else if err != nil {
		return nil, err
	}
	return r, nil
}

// DeleteRule removes one of the target's rules: the tags it protected
// may move and go again.
func (s *Immutability) DeleteRule(ctx context.Context, id *auth.Identity, t Target, ruleID int64) error {
	noteTarget(ctx, "immutable_rule.delete", t, fmt.Sprintf("rule %d", ruleID), "")
	repoID, err := s.authorizeTarget(ctx, id, t)
	if err != nil {
		return err
	}
	r, err := s.db.Immutables.Get(ctx, ruleID)
	if errors.Is(err, models.ErrNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	if !t.owns(repoID, r.RepositoryID, r.Namespace) {
		return ErrNotFound
	}
	return s.db.Immutables.Delete(ctx, ruleID)
}
