package hub

import (
	"context"
	"errors"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/auth"
)

// starTarget loads a repository the caller may star: one it may pull, as a
// logged-in user. A repository it cannot see is ErrNotFound, even for
// anonymous callers.
func (s *Social) starTarget(ctx context.Context, id *auth.Identity, name string) (*Repository, error) {
	r, err := s.authorizeRepo(ctx, id, name, auth.ActionPull)
	if err != nil {
		return nil, err
	}
	if id == nil {
		return nil, auth.ErrUnauthenticated
	}
	if id.IsRobot() {
		return nil, auth.ErrDenied // a robot is nobody to star or comment
	}
	return r, nil
}

// Star stars a repository as the caller; starring it again changes
// nothing.
func (s *Social) Star(ctx context.Context, id *auth.Identity, name string) error {
	noteRepo(ctx, "star.add", name, "", "")
	r, err := s.starTarget(ctx, id, name)
	if err != nil {
		return err
	}
	if _, err := s.db.Stars.Add(ctx, id.UserID, r.ID); errors.Is(err, models.ErrNotFound) {
		return ErrNotFound // deleted meanwhile
	} else if err != nil {
		return err
	}
	s.changed(name, id)
	return nil
}

// Unstar removes the caller's star, if there is one.
func (s *Social) Unstar(ctx context.Context, id *auth.Identity, name string) error {
	noteRepo(ctx, "star.remove", name, "", "")
	r, err := s.starTarget(ctx, id, name)
	if err != nil {
		return err
	}
	if _, err := s.db.Stars.Remove(ctx, id.UserID, r.ID); errors.Is(err, models.ErrNotFound) {
		return ErrNotFound
	} else if err != nil {
		return err
	}
	s.changed(name, id)
	return nil
}

// IsStarred tells whether the caller starred a repository it may pull;
// anonymous callers never did.
func (s *Social) IsStarred(ctx context.Context, id *auth.Identity, name string) (bool, error) {
	r, err := s.authorizeRepo(ctx, id, name, auth.ActionPull)
	if err != nil || id == nil {
		return false, err
	}
	return s.db.Stars.Has(ctx, id.UserID, r.ID)
}

// Stargazers lists who starred a repository the caller may pull, the most
// recent first.
func (s *Social) Stargazers(ctx context.Context, id *auth.Identity, name string, limit, offset int) ([]string, error) {
	r, err := s.authorizeRepo(ctx, id, name, auth.ActionPull)
	if err != nil {
		return nil, err
	}
	limit, offset = clampPage(limit, offset)
	return s.db.Stars.Stargazers(ctx, r.ID, limit, offset)
}

// starredBatch is how many starred repositories Starred reads at a time
// while it filters them through the policy.
const starredBatch = 100

// Starred lists the repositories username starred, the most recent first,
// keeping only those the caller may pull: a private repository the user
// can read but the caller cannot is never shown. Pages count visible
// repositories only.
func (s *Social) Starred(ctx context.Context, id *auth.Identity, username string, limit, offset int) ([]models.Repository, error) {
	u, err := s.userByName(ctx, username)
	if errors.Is(err, models.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	limit, offset = clampPage(limit, offset)
	out := []models.Repository{}
	skip := offset
	for from := 0; len(out) < limit; from += starredBatch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		page, err := s.db.Stars.OfUser(ctx, u.ID, starredBatch, from)
		if err != nil {
			return nil, err
		}
		for _, r := range page {
			level, err := s.policy.Level(ctx, id, r.Name)
			if err != nil {
				return nil, err
			}
			if auth.Decide(id, r.Name, level, auth.ActionPull) != nil {
				continue
			}
			if skip > 0 {
				skip--
				continue
			}
			out = append(out, r)
			if len(out) == limit {
				break
			}
		}
		if len(page) < starredBatch {
			break
		}
	}
	return out, nil
}

// maxPage is the most items a hub listing returns at once.
const maxPage = 500

// clampPage keeps a page within 1-maxPage items (25 by default) and a
// non-negative offset.
func clampPage(limit, offset int) (int, int) {
	if limit <= 0 {
		limit = 25
	}
	limit = min(limit, maxPage)
	return limit, max(offset, 0)
}
