package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"regexp"
	"strings"
	"time"

	"github.com/wharfhub/wharf/models"
)

// RobotPrefix starts every robot secret, so that secret scanners can
// tell one.
const RobotPrefix = "wharf_robot_"

// RobotAccess is what a robot may do: its level on each repository it
// has a permission on (by name), and nothing else.
type RobotAccess struct {
	ID     int64
	Levels map[string]Level
}

// robotNameRE is what a robot's own name (after the +) may be.
var robotNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// ValidRobotName reports whether name may be a robot's own name.
func ValidRobotName(name string) bool { return robotNameRE.MatchString(name) }

// NewRobotSecret makes a robot's secret and the hash that is stored.
func NewRobotSecret() (secret, hash string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	secret = RobotPrefix + base64.RawURLEncoding.EncodeToString(b)
	return secret, hashToken(secret)
}

// IsRobotName reports whether a sign-in name is a robot's
// (NAMESPACE+NAME): no account's name has a "+".
func IsRobotName(name string) bool { return strings.Contains(name, "+") }

// authenticateRobot checks a robot's name and secret. A robot that
// expired, or was deleted, fails at once: nothing about it is cached.
func (a *Accounts) authenticateRobot(ctx context.Context, ip, name, secret string) (*Identity, error) {
	if ns, short, ok := models.SplitRobotName(name); !ok || !ValidNamespaceName(ns) || !robotNameRE.MatchString(short) {
		return nil, ErrBadCredentials // no robot has such a name: nothing to look up or count
	}
	if err := a.throttle.Check(ip, name); err != nil {
		return nil, err
	}
	r, err := a.db.Robots.ByName(ctx, name)
	if err != nil && !errors.Is(err, models.ErrNotFound) {
		return nil, err
	}
	// The hash is compared even for an unknown name, in constant time.
	want := strings.Repeat("0", 64)
	if r != nil {
		want = r.SecretHash
	}
	ok := ConstantTimeEqual(hashToken(secret), want) && r != nil
	now := time.Now()
	if !ok || (r.ExpiresAt != nil && now.After(*r.ExpiresAt)) {
		a.throttle.Fail(ip, name)
		return nil, ErrBadCredentials
	}
	a.touchRobot(auditUse(ctx, ip, r.FullName(), models.ActorRobot, "robot.use", r.FullName()), r.ID, now)
	return robotIdentity(r), nil
}

// robotIdentity is the caller a robot is: no account, its levels on its
// repositories, and what anyone may do elsewhere (pull what is public).
// Its scopes leave out admin, so that it manages nothing: a permission
// of admin lets it delete, not change settings.
func robotIdentity(r *models.Robot) *Identity {
	access := &RobotAccess{ID: r.ID, Levels: map[string]Level{}}
	for _, p := range r.Permissions {
		if l, err := ParseLevel(p.Level); err == nil {
			access.Levels[p.Repository] = l
		}
	}
	return &Identity{Username: r.FullName(), Robot: access, Scopes: []string{ScopeRead, ScopeWrite, ScopeDelete},
		TokenExpires: r.ExpiresAt}
}

// touchRobot records a robot's last use, at most once a minute.
func (a *Accounts) touchRobot(ctx context.Context, id int64, now time.Time) {
	key := -id // robots and tokens share the throttle map, apart
	a.mu.Lock()
	if now.Sub(a.touched[key]) < time.Minute {
		a.mu.Unlock()
		return
	}
	if len(a.touched) >= 10000 {
		clear(a.touched)
	}
	a.touched[key] = now
	a.mu.Unlock()
	_ = a.db.Robots.Touch(ctx, id, now.UTC())
}
