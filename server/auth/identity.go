package auth

import (
	"slices"
	"time"
)

// Identity is an authenticated caller; nil means anonymous.
type Identity struct {
	UserID   int64
	Username string
	IsAdmin  bool
	// TokenID is the personal access token the caller used, if any. Its
	// scopes and repositories bound what the caller may do.
	TokenID int64
	Scopes  []string // nil: not limited by a token
	Repos   []string // nil or empty: every repository
	// TokenExpires is when that token expires (nil: never). Nothing made
	// with it, a child token or a registry token, outlives it.
	TokenExpires *time.Time
	// Robot is set for a robot account (UserID is 0): its levels are all
	// it may do.
	Robot *RobotAccess
}

// IsRobot reports whether the caller is a robot account.
func (id *Identity) IsRobot() bool { return id != nil && id.Robot != nil }

// Token scopes. read pulls, write also pushes, delete also deletes, and
// admin manages the account and repositories through the API.
const (
	ScopeRead   = "read"
	ScopeWrite  = "write"
	ScopeDelete = "delete"
	ScopeAdmin  = "admin"
)

// AllScopes are the scopes a token may carry.
var AllScopes = []string{ScopeRead, ScopeWrite, ScopeDelete, ScopeAdmin}

// scopeFor is the token scope an action needs.
var scopeFor = map[Action]string{
	ActionPull:   ScopeRead,
	ActionPush:   ScopeWrite,
	ActionDelete: ScopeDelete,
	ActionManage: ScopeAdmin,
}

// TokenAllows reports whether the caller's token (if any) lets it do
// action on repository repo ("" for account-level actions).
func (id *Identity) TokenAllows(action Action, repo string) bool {
	if id == nil || id.Scopes == nil {
		return true
	}
	if !slices.Contains(id.Scopes, scopeFor[action]) {
		return false
	}
	if len(id.Repos) == 0 {
		return true
	}
	return repo != "" && slices.Contains(id.Repos, repo)
}

// HasScope reports whether the caller's token (if any) carries scope; a
// session or a password carries every scope.
func (id *Identity) HasScope(scope string) bool {
	return id != nil && (id.Scopes == nil || slices.Contains(id.Scopes, scope))
}

// CanManageAccount reports whether the caller may change account settings
// (tokens, organizations, password): a session or password login, or a
// token with the admin scope and no repository limit.
func (id *Identity) CanManageAccount() bool {
	return id != nil && (id.Scopes == nil || (slices.Contains(id.Scopes, ScopeAdmin) && len(id.Repos) == 0))
}

// CanAdministerSite reports whether the caller may do what only site
// administrators do (mirrors, quotas, the admin pages): a site admin, as
// a session, a password login or an unlimited admin-scope token.
func (id *Identity) CanAdministerSite() bool { return id != nil && id.IsAdmin && id.CanManageAccount() }
