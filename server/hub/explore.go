package hub

import (
	"context"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/auth"
)

// viewer is the caller as a repository listing sees it. A token limited
// to some repositories, or without the read scope, lists nothing beyond
// public ones (as the policy would answer for each).
func viewer(id *auth.Identity) models.Viewer {
	if id == nil || len(id.Repos) > 0 || !id.TokenAllows(auth.ActionPull, "") {
		return models.Viewer{}
	}
	if id.Robot != nil {
		return models.Viewer{RobotID: id.Robot.ID}
	}
	return models.Viewer{UserID: id.UserID, Username: id.Username, Admin: id.IsAdmin}
}

// ListFilter selects a repository listing.
type ListFilter = models.RepoFilter

// Repositories lists the repositories the caller may see, with the total.
func (s *Discover) Repositories(ctx context.Context, id *auth.Identity, f ListFilter) ([]models.Repository, int64, error) {
	if f.Limit <= 0 || f.Limit > 100 {
		f.Limit = 25
	}
	if f.Mine && id == nil {
		return nil, 0, nil
	}
	return s.db.Repositories.ListVisible(ctx, viewer(id), f)
}

// Namespace is a user or organization page's subject.
type Namespace struct {
	Name    string
	Kind    string // models.NamespaceUser, NamespaceOrg or NamespaceMirror
	User    *models.User
	Org     *Org
	IsOwner bool // the caller manages it
	// Upstream, for a mirror, is the registry it caches.
	Upstream string
}

// Get looks up a user or an organization by name.
func (s *Namespaces) Get(ctx context.Context, id *auth.Identity, name string) (*Namespace, error) {
	return s.namespace(ctx, id, name)
}

func (s *base) namespace(ctx context.Context, id *auth.Identity, name string) (*Namespace, error) {
	if !auth.ValidNamespaceName(name) {
		return nil, ErrNotFound
	}
	ns, err := s.db.Namespaces.Get(ctx, name)
	if err != nil {
		return nil, ErrNotFound
	}
	out := &Namespace{Name: name, Kind: ns.Kind}
	if ns.Kind == models.NamespaceMirror {
		// A mirror: nobody's, managed by site administrators.
		out.Upstream, _ = s.mirrors.Upstream(name)
		out.IsOwner = id != nil && id.IsAdmin
		return out, nil
	}
	if ns.Kind == models.NamespaceOrg {
		o, err := s.org(ctx, name)
		if err != nil {
			return nil, err
		}
		out.Org = o
		out.IsOwner = s.policy.AuthorizeOrg(ctx, id, &o.Organization) == nil
		return out, nil
	}
	u, err := s.db.Users.GetByName(ctx, name)
	if err != nil {
		return nil, ErrNotFound
	}
	out.User = u
	out.IsOwner = id != nil && (id.UserID == u.ID || id.IsAdmin)
	return out, nil
}
