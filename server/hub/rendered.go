package hub

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"html/template"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/auth"
	"github.com/wharfhub/wharf/server/markdown"
)

// Markdown is the renderer of READMEs and comments: Render, and the
// Version stored beside what it makes.
type Markdown struct {
	Version int
	Render  func(src string) template.HTML
}

// SetMarkdown replaces the Markdown renderer (markdown.Render, version
// markdown.Version), before the service is used: HTML stored by an older
// version is rendered again when it is next shown.
func (s *Service) SetMarkdown(m Markdown) { s.base.md = m }

func defaultMarkdown() Markdown { return Markdown{Version: markdown.Version, Render: markdown.Render} }

// Markdown is rendered once, when it is saved, and the pages show the
// stored HTML: rendering is too costly to repeat per view. Text saved
// before (or by an older renderer) is rendered at its first view and
// stored, so that it too is rendered once.

// ReadmeHTML is the HTML of r's README, as stored when it was saved.
func (s *Repos) ReadmeHTML(ctx context.Context, r *Repository) (template.HTML, error) {
	if r.Readme == "" {
		return "", nil
	}
	sum := sha256.Sum256([]byte(r.Readme))
	source := hex.EncodeToString(sum[:])
	h, err := s.db.Readmes.Get(ctx, r.ID)
	switch {
	case err == nil && h.Version >= s.md.Version && h.SourceSHA256 == source:
		return template.HTML(h.HTML), nil // #nosec G203 -- sanitized when it was rendered
	case err != nil && !errors.Is(err, models.ErrNotFound):
		return "", err
	}
	// A failed store (a busy or read-only database) still shows the page:
	// the next view tries again, and rendering is bounded.
	html, _ := s.saveReadmeHTML(ctx, r.ID, r.Readme)
	return html, nil
}

// saveReadmeHTML renders readme and stores its HTML for repository id.
func (s *base) saveReadmeHTML(ctx context.Context, id int64, readme string) (template.HTML, error) {
	html := s.md.Render(readme)
	sum := sha256.Sum256([]byte(readme))
	err := s.db.Readmes.Save(ctx, &models.ReadmeHTML{RepositoryID: id, SourceSHA256: hex.EncodeToString(sum[:]),
		HTML: string(html), Version: s.md.Version})
	return html, err
}

// commentHTML is the HTML of comment c, rendered and stored now if it was
// saved before or by an older renderer.
func (s *base) commentHTML(ctx context.Context, c *models.Comment) (template.HTML, error) {
	if c.BodyHTMLVersion >= s.md.Version {
		return template.HTML(c.BodyHTML), nil // #nosec G203 -- sanitized when it was rendered
	}
	html := s.md.Render(c.Body)
	// Not stored if the comment was edited meanwhile: the edit stored its own.
	// As for READMEs, a failed store is tried again at the next view.
	_, _ = s.db.Comments.SetHTML(ctx, c.ID, c.Body, string(html), s.md.Version)
	c.BodyHTML, c.BodyHTMLVersion = string(html), s.md.Version
	return html, nil
}

// What Preview renders.
const (
	PreviewComment = "comment"
	PreviewReadme  = "readme"
)

// Preview renders text as a comment on repository name (kind
// PreviewComment) or as its README (PreviewReadme) would show once saved,
// and saves nothing. It asks what saving would: a signed-in caller who may
// comment, or who may manage the repository, and text the validator takes.
func (s *Social) Preview(ctx context.Context, id *auth.Identity, name, kind, text string) (template.HTML, error) {
	switch kind {
	case PreviewComment:
		if _, err := s.commentTarget(ctx, id, name); err != nil {
			return "", err
		}
		if err := checkComment(text); err != nil {
			return "", err
		}
	case PreviewReadme:
		if _, err := s.authorizeRepo(ctx, id, name, auth.ActionManage); err != nil {
			return "", err
		}
		if err := checkText(readmeText, text); err != nil {
			return "", err
		}
	default:
		if !sayable(kind, 32) {
			return "", invalid("A preview is of a comment or a readme.")
		}
		return "", invalid("A preview is of a comment or a readme, not %q.", kind)
	}
	return s.md.Render(text), nil
}
