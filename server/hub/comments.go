package hub

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/auth"
)

// MaxComment is the longest comment body, in bytes.
const MaxComment = 10_000

// Comment is a comment as the hub shows it to one caller.
type Comment struct {
	ID        int64
	User      string
	Body      string
	BodyHTML  template.HTML // Body rendered as sanitized Markdown when it was saved
	CreatedAt time.Time
	UpdatedAt time.Time
	// What the caller may do with it: its author edits it; its author and
	// the repository's admins delete it.
	CanEdit   bool
	CanDelete bool
}

func (s *Social) toComment(ctx context.Context, c *models.Comment, id *auth.Identity, r *Repository) (Comment, error) {
	html, err := s.commentHTML(ctx, c)
	if err != nil {
		return Comment{}, err
	}
	mine := id != nil && id.UserID == c.UserID
	return Comment{
		ID: c.ID, User: c.Username, Body: c.Body, BodyHTML: html,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
		CanEdit: mine, CanDelete: mine || canManage(id, r),
	}, nil
}

func canManage(id *auth.Identity, r *Repository) bool {
	return id != nil && auth.Decide(id, r.Name, r.Level, auth.ActionManage) == nil
}

// checkComment refuses empty, oversized and non-text bodies.
func checkComment(body string) error {
	if err := checkText(commentText, body); err != nil {
		return err
	}
	if strings.TrimSpace(body) == "" {
		return invalid("A comment cannot be empty.")
	}
	return nil
}

// Comments lists a repository's comments, the oldest first, with their
// total; whoever may pull the repository may read them.
func (s *Social) Comments(ctx context.Context, id *auth.Identity, name string, limit, offset int) ([]Comment, int, error) {
	r, err := s.authorizeRepo(ctx, id, name, auth.ActionPull)
	if err != nil {
		return nil, 0, err
	}
	limit, offset = clampPage(limit, offset)
	total, err := s.db.Comments.Count(ctx, r.ID)
	if err != nil {
		return nil, 0, err
	}
	rows, err := s.db.Comments.List(ctx, r.ID, limit, offset)
	if err != nil {
		return nil, 0, err
	}
	out := make([]Comment, 0, len(rows))
	for i := range rows {
		c, err := s.toComment(ctx, &rows[i], id, r)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, c)
	}
	return out, int(total), nil
}

// Comment returns one comment of a repository the caller may pull.
func (s *Social) Comment(ctx context.Context, id *auth.Identity, name string, commentID int64) (*Comment, error) {
	r, err := s.authorizeRepo(ctx, id, name, auth.ActionPull)
	if err != nil {
		return nil, err
	}
	c, err := s.getComment(ctx, r, commentID)
	if err != nil {
		return nil, err
	}
	out, err := s.toComment(ctx, c, id, r)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// getComment finds a comment of r; one of another repository is
// ErrNotFound, whatever the caller may do there.
func (s *Social) getComment(ctx context.Context, r *Repository, commentID int64) (*models.Comment, error) {
	c, err := s.db.Comments.Get(ctx, r.ID, commentID)
	if errors.Is(err, models.ErrNotFound) {
		return nil, ErrNotFound
	}
	return c, err
}

// commentTarget loads a repository the caller may pull, as a logged-in
// user.
func (s *Social) commentTarget(ctx context.Context, id *auth.Identity, name string) (*Repository, error) {
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

// AddComment comments on a repository the caller may pull.
func (s *Social) AddComment(ctx context.Context, id *auth.Identity, name, body string) (*Comment, error) {
	noteRepo(ctx, "comment.create", name, "", "")
	r, err := s.commentTarget(ctx, id, name)
	if err != nil {
		return nil, err
	}
	if err := checkComment(body); err != nil {
		return nil, err
	}
	c := &models.Comment{RepositoryID: r.ID, UserID: id.UserID, Body: body,
		BodyHTML: string(s.md.Render(body)), BodyHTMLVersion: s.md.Version}
	if err := s.db.Comments.Create(ctx, c); err != nil {
		if errors.Is(err, models.ErrNotFound) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	c.Username = id.Username
	out, err := s.toComment(ctx, c, id, r)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// EditComment replaces the body of the caller's own comment.
func (s *Social) EditComment(ctx context.Context, id *auth.Identity, name string, commentID int64, body string) (*Comment, error) {
	noteRepo(ctx, "comment.update", name, fmt.Sprintf("%s comment %d", name, commentID), "")
	r, err := s.commentTarget(ctx, id, name)
	if err != nil {
		return nil, err
	}
	c, err := s.getComment(ctx, r, commentID)
	if err != nil {
		return nil, err
	}
	if c.UserID != id.UserID {
		return nil, auth.ErrDenied
	}
	if err := checkComment(body); err != nil {
		return nil, err
	}
	html := s.md.Render(body)
	if err := s.db.Comments.Update(ctx, r.ID, c.ID, body, string(html), s.md.Version); err != nil {
		if errors.Is(err, models.ErrNotFound) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	if c, err = s.getComment(ctx, r, commentID); err != nil {
		return nil, err
	}
	out, err := s.toComment(ctx, c, id, r)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteComment deletes a comment: its author may, and so may whoever
// manages the repository.
func (s *Social) DeleteComment(ctx context.Context, id *auth.Identity, name string, commentID int64) error {
	noteRepo(ctx, "comment.delete", name, fmt.Sprintf("%s comment %d", name, commentID), "")
	r, err := s.commentTarget(ctx, id, name)
	if err != nil {
		return err
	}
	c, err := s.getComment(ctx, r, commentID)
	if err != nil {
		return err
	}
	if c.UserID != id.UserID && !canManage(id, r) {
		return auth.ErrDenied
	}
	if err := s.db.Comments.Delete(ctx, r.ID, c.ID); errors.Is(err, models.ErrNotFound) {
		return ErrNotFound
	} else if err != nil {
		return err
	}
	return nil
}
