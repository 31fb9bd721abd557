package auth

import (
	"context"
	"errors"
	"fmt"

	"github.com/wharfhub/wharf/models"
)

// Acting names id as who acts in ctx's audit entries: every door that
// authenticates a caller (passwords, tokens, robots, certificates,
// sessions, registry tokens) comes through here.
func Acting(ctx context.Context, id *Identity) {
	if id == nil {
		return
	}
	models.AuditingOf(ctx).SetActor(id.Username, ActorKind(id))
}

// ActorKind is the kind of actor id is in the audit log.
func ActorKind(id *Identity) string {
	switch {
	case id == nil:
		return models.ActorAnonymous
	case id.IsRobot():
		return models.ActorRobot
	case id.TokenID != 0:
		return models.ActorToken
	}
	return models.ActorUser
}

// auditFailure records a failed sign-in as name (as typed; "" for a bare
// token) from ip. Throttled attempts are not checked, so not recorded.
func (a *Accounts) auditFailure(ctx context.Context, ip, name, kind string, err error) {
	if !errors.Is(err, ErrBadCredentials) {
		return
	}
	_ = a.db.Audit.Record(ctx, models.Actor{Name: name, Kind: kind, Address: ip},
		models.AuditNote{Action: "signin", Target: name, Namespace: actorNamespace(name)}, models.AuditFailed)
}

// auditUse records the use of a token or a robot (at most once a minute
// each, with its last-use time), in the same transaction.
func auditUse(ctx context.Context, ip, name, kind, action, target string) context.Context {
	ctx, _ = models.WithAuditing(ctx, models.Actor{Name: name, Kind: kind, Address: ip})
	models.Note(ctx, models.AuditNote{Action: action, Target: target, Namespace: actorNamespace(name)})
	return ctx
}

// actorNamespace is the namespace whose log shows what name did: a
// robot's owner, or the account's own.
func actorNamespace(name string) string {
	if ns, _, ok := models.SplitRobotName(name); ok {
		return ns
	}
	return name
}

// tokenTarget names a personal access token in the log.
func tokenTarget(t *models.AccessToken) string { return fmt.Sprintf("token %d (%s)", t.ID, t.Name) }

// noteAccount notes action on account username (models.Note).
func noteAccount(ctx context.Context, action, username, detail string) {
	models.Note(ctx, models.AuditNote{Action: action, Target: username, Namespace: username, Detail: detail})
}

// noteUser notes action on the account with userID, by its name.
func (a *Accounts) noteUser(ctx context.Context, action string, userID int64, detail string) {
	name := fmt.Sprintf("user %d", userID)
	if u, err := a.db.Users.Get(ctx, userID); err == nil {
		name = u.Username
	}
	noteAccount(ctx, action, name, detail)
}

// SignedIn records a sign-in by id that changes nothing else (how names
// the door: "registry token"); a web sign-in is recorded with the
// session it makes instead.
func (a *Accounts) SignedIn(ctx context.Context, id *Identity, how string) error {
	actor := models.AuditingOf(ctx).Actor()
	return a.db.Audit.Record(ctx, actor, models.AuditNote{Action: "signin", Target: id.Username,
		Namespace: actorNamespace(id.Username), Detail: how}, models.AuditOK)
}
