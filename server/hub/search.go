package hub

import (
	"context"
	"errors"
	"slices"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/search"
	"github.com/wharfhub/wharf/server/auth"
)

// ErrSearchUnavailable is returned when no search index is configured.
var ErrSearchUnavailable = errors.New("search is not available")

// HasSearch reports whether a search index is attached.
func (s *Discover) HasSearch() bool { return s.index != nil }

// MaxSearchOffset is the furthest a search pages: an offset beyond it is
// answered as if it were MaxSearchOffset, so a caller that pages by
// number must stop there.
const MaxSearchOffset = 10000

// SearchSorts are the sorts a search may ask for.
var SearchSorts = []string{search.SortRelevance, search.SortStars, search.SortPulls, search.SortUpdated}

// principals are the readers the caller counts as, so that the index
// filters by them in the query itself.
func (s *Discover) principals(ctx context.Context, id *auth.Identity) (all bool, ps []string, err error) {
	v := viewer(id)
	if v.Admin {
		return true, nil, nil
	}
	ps = []string{search.PublicReader}
	if v.UserID == 0 {
		return false, ps, nil
	}
	ps = append(ps, search.NamespaceReader(v.Username), search.CollaboratorReader(v.UserID))
	orgs, err := s.db.Orgs.OfUser(ctx, v.UserID)
	if err != nil {
		return false, nil, err
	}
	for _, o := range orgs {
		ps = append(ps, search.NamespaceReader(o.Username))
	}
	return false, ps, nil
}

// SearchResult is a page of matching repositories.
type SearchResult struct {
	Total int64
	Repos []models.Repository
}

// Search finds repositories the caller may see. Sorts other than the
// allowed ones are refused, not passed on.
func (s *Discover) Search(ctx context.Context, id *auth.Identity, text, sort string, limit, offset int) (*SearchResult, error) {
	if s.index == nil {
		return nil, ErrSearchUnavailable
	}
	if !slices.Contains(SearchSorts, sort) {
		return nil, invalid("Sort must be one of stars, pulls or updated.")
	}
	if err := checkText(searchText, text); err != nil {
		return nil, err
	}
	limit = min(max(limit, 1), 100)
	offset = min(max(offset, 0), MaxSearchOffset)
	all, ps, err := s.principals(ctx, id)
	if err != nil {
		return nil, err
	}
	res, err := s.index.Search(ctx, search.Query{Text: text, Principals: ps, AllReaders: all, Sort: sort, Limit: limit, Offset: offset})
	if err != nil {
		return nil, err
	}
	names := make([]string, len(res.Hits))
	for i, h := range res.Hits {
		names[i] = h.Name
	}
	repos, err := s.hydrate(ctx, id, names)
	if err != nil {
		return nil, err
	}
	return &SearchResult{Total: int64(res.Total), Repos: repos}, nil
}

// hydrate loads repositories by name in the given order, through the
// database's visibility filter too, so a change the index has not caught
// up with never shows what the caller may not see.
func (s *Discover) hydrate(ctx context.Context, id *auth.Identity, names []string) ([]models.Repository, error) {
	if len(names) == 0 {
		return []models.Repository{}, nil
	}
	rows, _, err := s.db.Repositories.ListVisible(ctx, viewer(id), models.RepoFilter{Names: names, Limit: len(names)})
	if err != nil {
		return nil, err
	}
	by := make(map[string]models.Repository, len(rows))
	for _, r := range rows {
		by[r.Name] = r
	}
	out := make([]models.Repository, 0, len(names))
	for _, n := range names {
		if r, ok := by[n]; ok {
			out = append(out, r)
		}
	}
	return out, nil
}

// Suggest completes a prefix into names of repositories the caller may see.
func (s *Discover) Suggest(ctx context.Context, id *auth.Identity, text string) ([]string, error) {
	if s.index == nil {
		return nil, ErrSearchUnavailable
	}
	if len(text) > 100 || !searchText.Valid(text) {
		return nil, nil
	}
	all, ps, err := s.principals(ctx, id)
	if err != nil {
		return nil, err
	}
	names, err := s.index.Suggest(ctx, search.Query{Text: text, Principals: ps, AllReaders: all, Limit: 8})
	if err != nil {
		return nil, err
	}
	repos, err := s.hydrate(ctx, id, names)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(repos))
	for i, r := range repos {
		out[i] = r.Name
	}
	return out, nil
}

// SearchNamespaces finds users and organizations (all public) by name.
func (s *Discover) SearchNamespaces(ctx context.Context, text string, limit int) ([]search.Namespace, error) {
	if s.index == nil {
		return nil, ErrSearchUnavailable
	}
	return s.index.SearchNamespaces(ctx, text, min(max(limit, 1), 50))
}
