package hub

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/auth"
)

// Usage returns a namespace's storage use and quota, to its owner, its
// organization's members and site administrators, through a session, a
// password or a token that may manage the account: a namespace's usage is
// account information, which a repository token (even a read one) may not
// read.
func (s *Namespaces) Usage(ctx context.Context, id *auth.Identity, ns string) (*models.Usage, error) {
	n, err := s.namespace(ctx, id, ns)
	if err != nil {
		return nil, err
	}
	if id == nil {
		return nil, auth.ErrUnauthenticated
	}
	if !id.CanManageAccount() {
		return nil, auth.ErrDenied
	}
	member := n.IsOwner || id.IsAdmin
	if !member && n.Org != nil {
		for _, m := range n.Org.Members {
			if m.Username == id.Username {
				member = true
			}
		}
	}
	if !member {
		return nil, auth.ErrDenied
	}
	return s.db.Namespaces.Usage(ctx, ns)
}

// SetQuota sets a namespace's storage quota in bytes (0 for none); site
// administrators only.
func (s *Namespaces) SetQuota(ctx context.Context, id *auth.Identity, ns string, bytes int64) error {
	noteNamespace(ctx, "namespace.quota", ns, "", fmt.Sprintf("quota %d bytes", bytes))
	if id == nil {
		return auth.ErrUnauthenticated
	}
	if !id.CanAdministerSite() {
		return auth.ErrDenied
	}
	if bytes < 0 {
		return invalid("A quota cannot be negative.")
	}
	if !auth.ValidNamespaceName(ns) {
		return ErrNotFound
	}
	if err := s.db.Namespaces.SetQuota(ctx, ns, bytes); err != nil {
		if err == models.ErrNotFound {
			return ErrNotFound
		}
		return err
	}
	return nil
}

// MirrorInfo is a mirror as site admins see it.
type MirrorInfo struct {
	Name     string
	Upstream string
	// Root: it also answers Docker Hub style names at the root.
	Root bool
	// Source is where it is defined: "flags" or "api".
	Source string
	Usage  models.Usage
}

// Mirrors lists the mirrors with what each has cached; site
// administrators only.
func (s *Namespaces) Mirrors(ctx context.Context, id *auth.Identity) ([]MirrorInfo, error) {
	if id == nil {
		return nil, auth.ErrUnauthenticated
	}
	if !id.CanAdministerSite() {
		return nil, auth.ErrDenied
	}
	names := s.mirrors.Names()
	out := make([]MirrorInfo, 0, len(names))
	for _, name := range names {
		u, ok := s.mirrors.Upstream(name)
		if !ok {
			continue // removed meanwhile
		}
		usage, err := s.db.Namespaces.Usage(ctx, name)
		if err != nil {
			return nil, err
		}
		out = append(out, MirrorInfo{Name: name, Upstream: u, Root: name == s.rootMirror, Source: s.mirrors.Source(name), Usage: *usage})
	}
	slices.SortFunc(out, func(a, b MirrorInfo) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Overview lists the namespaces whose name contains q, with what each
// stores and its quota, a page at a time; site administrators only.
func (s *Namespaces) Overview(ctx context.Context, id *auth.Identity, q string, offset, limit int) ([]models.NamespaceUsage, int64, error) {
	if id == nil {
		return nil, 0, auth.ErrUnauthenticated
	}
	if !id.CanAdministerSite() {
		return nil, 0, auth.ErrDenied
	}
	if err := checkText(searchText, q); err != nil {
		return nil, 0, err
	}
	return s.db.Namespaces.Page(ctx, strings.ToLower(strings.TrimSpace(q)), offset, limit)
}
