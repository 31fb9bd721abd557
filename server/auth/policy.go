package auth

import (
	"context"
	"errors"
	"fmt"

	"github.com/wharfhub/wharf/models"
)

// Action is what a caller wants to do with a repository.
type Action string

// Actions. pull, push and delete are also Docker token scope actions.
const (
	ActionPull   Action = "pull"
	ActionPush   Action = "push"
	ActionDelete Action = "delete"
	// ActionManage covers settings, collaborators, webhooks and deletion
	// of the whole repository.
	ActionManage Action = "manage"
)

// Decisions other than "allowed".
var (
	// ErrUnauthenticated: an anonymous caller must log in first.
	ErrUnauthenticated = errors.New("authentication required")
	// ErrDenied: the caller can see the repository but may not do this.
	ErrDenied = errors.New("access denied")
	// ErrNotFound: the repository does not exist, or the caller may not
	// know that it does; the two are never told apart.
	ErrNotFound = fmt.Errorf("repository %w", models.ErrNotFound)
)

// Level is a permission on a repository.
type Level int

// Levels, each including the ones below it.
const (
	LevelNone Level = iota
	LevelRead
	LevelWrite
	LevelAdmin
)

// ParseLevel reads "read", "write" or "admin".
func ParseLevel(s string) (Level, error) {
	switch s {
	case "read":
		return LevelRead, nil
	case "write":
		return LevelWrite, nil
	case "admin":
		return LevelAdmin, nil
	}
	return LevelNone, fmt.Errorf("permission must be read, write or admin, not %q", s)
}

func (l Level) String() string {
	return [...]string{"none", "read", "write", "admin"}[l]
}

var needs = map[Action]Level{
	ActionPull:   LevelRead,
	ActionPush:   LevelWrite,
	ActionDelete: LevelAdmin,
	ActionManage: LevelAdmin,
}

// Policy is the one place that answers authorization questions about
// repositories, for /v2/, the API and the UI alike.
type Policy struct {
	db *models.DB
	// isMirror says which namespaces cache upstream registries: anyone
	// may pull from them, nobody may push, site admins may delete.
	isMirror func(ns string) bool
	// rootMirror, if set, also answers names whose namespace is not a
	// local one (Docker Hub style paths, for dockerd's registry-mirrors).
	rootMirror string
}

// PolicyOptions are the policy's mirrors.
type PolicyOptions struct {
	// IsMirror says whether a namespace is a mirror's (mirrors can be
	// added and removed while the server runs).
	IsMirror func(ns string) bool
	// RootMirror is the mirror that answers Docker Hub style names.
	RootMirror string
}

// NewPolicy makes the authorization policy.
func NewPolicy(db *models.DB, opts ...PolicyOptions) *Policy {
	p := &Policy{db: db, isMirror: func(string) bool { return false }}
	for _, o := range opts {
		if o.IsMirror != nil {
			p.isMirror = o.IsMirror
		}
		if o.RootMirror != "" {
			p.rootMirror = o.RootMirror
		}
	}
	return p
}

// RootMirrored reports whether name, asked for at the root, is the root
// mirror's: there is one, and name's namespace is neither a mirror nor a
// local account or organization (a local name is never shadowed).
func (p *Policy) RootMirrored(ctx context.Context, name string) (bool, error) {
	if p.rootMirror == "" || p.IsMirror(name) {
		return false, nil
	}
	_, err := p.db.Namespaces.Get(ctx, models.NamespaceOf(name))
	if errors.Is(err, models.ErrNotFound) {
		return true, nil
	}
	return false, err
}

// IsMirror reports whether repository name is in a mirror namespace.
func (p *Policy) IsMirror(name string) bool { return p.isMirror(models.NamespaceOf(name)) }

// Level computes id's permission on repository name. For a repository that
// does not exist yet it is the permission to create it: the namespace's
// owner, its organization's owners, and members as the organization says.
func (p *Policy) Level(ctx context.Context, id *Identity, name string) (Level, error) {
	if p.IsMirror(name) {
		// A mirror is public, whatever it has cached yet; its content is
		// the upstream's, which only site admins may evict.
		if id != nil && id.IsAdmin {
			return LevelAdmin, nil
		}
		return LevelRead, nil
	}
	if root, err := p.RootMirrored(ctx, name); err != nil {
		return LevelNone, fmt.Errorf("authorize %s: %w", name, err)
	} else if root {
		return LevelRead, nil // through the root, everyone only pulls
	}
	var uid int64
	if id != nil {
		uid = id.UserID
	}
	f, err := p.db.Repositories.AccessFacts(ctx, name, uid)
	if err != nil {
		return LevelNone, fmt.Errorf("authorize %s: %w", name, err)
	}
	level := LevelNone
	if f.RepoExists && f.Visibility == models.VisibilityPublic {
		level = LevelRead
	}
	if id == nil {
		return level, nil
	}
	raise := func(l Level) {
		if l > level {
			level = l
		}
	}
	if !f.RepoExists && f.NamespaceKind == "" {
		// A repository can only be created in a namespace that exists,
		// even by a site administrator: a repository in a name nobody
		// owns would pass to whoever registers the name next.
		return level, nil
	}
	switch {
	case id.IsAdmin:
		raise(LevelAdmin)
	case f.NamespaceKind == models.NamespaceUser && models.NamespaceOf(name) == id.Username:
		raise(LevelAdmin)
	case f.NamespaceKind == models.NamespaceOrg && f.OrgRole == models.RoleOwner:
		raise(LevelAdmin)
	case f.NamespaceKind == models.NamespaceOrg && f.OrgRole == models.RoleMember:
		if l, err := ParseLevel(f.OrgMemberPerm); err == nil {
			raise(l)
		}
	}
	if f.Collaborator != "" && f.RepoExists {
		if l, err := ParseLevel(f.Collaborator); err == nil {
			raise(l)
		}
	}
	if l, err := ParseLevel(f.Team); err == nil {
		raise(l) // also for a new repository, through a team of all of them
	}
	if id.Robot != nil && f.RepoExists {
		raise(id.Robot.Levels[name])
	}
	return level, nil
}

// NamespaceLevel is id's permission on a new repository in namespace ns:
// what creating one there needs, whatever repositories exist.
func (p *Policy) NamespaceLevel(ctx context.Context, id *Identity, ns string) (Level, error) {
	// "ns/" is never a repository, so only the namespace facts count.
	return p.Level(ctx, id, ns+"/")
}

// AuthorizeOrg decides whether id may manage organization org: its
// owners and site administrators may, through a session, a password, or a
// token that may manage the account.
func (p *Policy) AuthorizeOrg(ctx context.Context, id *Identity, org *models.Organization) error {
	if id == nil {
		return ErrUnauthenticated
	}
	if !id.CanManageAccount() {
		return ErrDenied
	}
	if id.IsAdmin {
		return nil
	}
	role, err := p.db.Orgs.Role(ctx, org.ID, id.UserID)
	if err != nil {
		return err
	}
	if role != models.RoleOwner {
		return ErrDenied
	}
	return nil
}

// Authorize decides whether id may do action on repository name: nil,
// ErrUnauthenticated, ErrDenied or ErrNotFound.
func (p *Policy) Authorize(ctx context.Context, id *Identity, name string, action Action) error {
	level, err := p.Level(ctx, id, name)
	if err != nil {
		return err
	}
	return p.Decide(id, name, level, action)
}

// Decide is the package's Decide with the policy's own rules: nobody
// pushes to a mirror.
func (p *Policy) Decide(id *Identity, name string, level Level, action Action) error {
	if action == ActionPush && p.IsMirror(name) {
		return ErrDenied
	}
	return Decide(id, name, level, action)
}

// Decide turns a permission level into the decision for action, applying
// the limits of the caller's token.
func Decide(id *Identity, name string, level Level, action Action) error {
	if level >= needs[action] && id.TokenAllows(action, name) {
		return nil
	}
	switch {
	case id == nil:
		// Anonymous callers are asked to log in, whatever the reason.
		return ErrUnauthenticated
	case level >= LevelRead && id.TokenAllows(ActionPull, name):
		return ErrDenied
	default:
		return ErrNotFound
	}
}

// Catalog lists, after last, at most n names of repositories id may pull,
// in one query however many repositories are hidden: the visibility rule
// and the limits of id's token (its scopes, its repositories) both run in
// the database.
func (p *Policy) Catalog(ctx context.Context, id *Identity, last string, n int) ([]string, error) {
	if id != nil && !id.HasScope(ScopeRead) {
		return []string{}, nil // a token without the read scope pulls nothing
	}
	var v models.Viewer
	var only []string
	if id != nil {
		v = models.Viewer{UserID: id.UserID, Username: id.Username, Admin: id.IsAdmin}
		if id.Robot != nil {
			v = models.Viewer{RobotID: id.Robot.ID}
		}
		if len(id.Repos) > 0 {
			only = id.Repos
		}
	}
	names, err := p.db.Repositories.ReadableNames(ctx, v, only, last, n)
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	out := names[:0]
	for _, name := range names {
		if id.TokenAllows(ActionPull, name) {
			out = append(out, name)
		}
	}
	return out, nil
}
