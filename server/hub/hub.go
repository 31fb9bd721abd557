package hub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/search"
	"github.com/wharfhub/wharf/server/auth"
	"github.com/wharfhub/wharf/server/content"
	"github.com/wharfhub/wharf/server/events"
	"github.com/wharfhub/wharf/server/retention"
	"github.com/wharfhub/wharf/server/textcheck"
)

// Errors the hub answers besides the policy's decisions.
var (
	ErrInvalid  = errors.New("invalid input")
	ErrConflict = models.ErrConflict
	ErrNotFound = auth.ErrNotFound
)

// Invalid is an input error with a message for the user: sentences, as
// the pages and the API show them.
type Invalid struct{ Msg string }

func (e *Invalid) Error() string { return e.Msg }
func (e *Invalid) Unwrap() error { return ErrInvalid }

// invalid is an input error; format makes whole sentences.
func invalid(format string, args ...any) error { return &Invalid{Msg: fmt.Sprintf(format, args...)} }

// invalidErr is an input error with the text of another package's
// refusal, made a sentence.
func invalidErr(err error) error { return &Invalid{Msg: textcheck.Sentence(err.Error())} }

// sayable reports whether s, something the caller typed, may be said
// back in a message: short, and one line of text.
func sayable(s string, max int) bool { return s != "" && len(s) <= max && textcheck.Key.Valid(s) }

// noUser refuses user, a name no account has.
func noUser(user string) error {
	if sayable(user, 64) {
		return invalid("There is no user named %s.", user)
	}
	return invalid("There is no user by that name.")
}

// errVisibility refuses a visibility other than public or private.
var errVisibility = invalid("The visibility must be public or private.")

// Service is the hub: one small service per area, over one shared base
// (the database, the one authorization policy and the event bus), so that
// each HTTP handler takes the part it uses.
type Service struct {
	// Repos are repositories: reading, creating, changing and deleting
	// them, their collaborators, tags and README.
	Repos *Repos
	// Orgs are organizations and their members.
	Orgs *Orgs
	// Namespaces are user and organization namespaces: who owns one, its
	// storage use and its quota.
	Namespaces *Namespaces
	// Social holds stars and comments.
	Social *Social
	// Webhooks are namespace and repository webhooks with their deliveries.
	Webhooks *Webhooks
	// Discover lists and searches repositories.
	Discover *Discover
	// Inspect looks inside manifests: platforms, layers, config,
	// referrers.
	Inspect *Inspect
	// Trust holds signing keys and policies, and what verifying
	// signatures found.
	Trust *Trust
	// Scans are what vulnerability scans found, and the scanner.
	Scans *Scans
	// Immutability keeps tags from moving or going.
	Immutability *Immutability
	// Retention prunes tags and untagged manifests by policy.
	Retention *Retention
	// Robots are the namespaces' machine accounts.
	Robots *Robots
	// Teams are the organizations' teams.
	Teams *Teams
	// Audit shows the audit log.
	Audit *Audit

	base *base
}

// base is what every area of the hub shares.
type base struct {
	db     *models.DB
	policy *auth.Policy
	events *events.Bus
	md     Markdown
	// mirrors know the mirror namespaces and their upstreams.
	mirrors MirrorDirectory
	// rootMirror answers Docker Hub style names at the root.
	rootMirror string
	// scanner is the vulnerability scanner (nil if none).
	scanner Scanner
}

// MirrorDirectory knows the mirrors, which can be added and removed while
// the server runs (mirror.Service is one).
type MirrorDirectory interface {
	// Upstream is the upstream URL of mirror ns, if ns is one.
	Upstream(ns string) (string, bool)
	// Names lists the mirrors.
	Names() []string
	// Source says where mirror ns is defined ("flags" or "api").
	Source(ns string) string
	// Origin is where mirrored repository name comes from, such as
	// docker.io/library/alpine.
	Origin(name string) (string, bool)
}

type noMirrors struct{}

func (noMirrors) Upstream(string) (string, bool) { return "", false }
func (noMirrors) Names() []string                { return nil }
func (noMirrors) Source(string) string           { return "" }
func (noMirrors) Origin(string) (string, bool)   { return "", false }

// Repos is the repository service.
type Repos struct{ *base }

// Orgs is the organization service.
type Orgs struct{ *base }

// Namespaces is the namespace service.
type Namespaces struct{ *base }

// Social is the service of stars and comments.
type Social struct{ *base }

// Webhooks is the webhook service.
type Webhooks struct {
	*base
	checkURL func(ctx context.Context, rawURL string) error
}

// Discover is the service of listings and search.
type Discover struct {
	*base
	index search.Index
}

// Options are the hub's optional parts.
type Options struct {
	// Search answers searches; without it they are ErrSearchUnavailable.
	Search search.Index
	// CheckWebhookURL is the check every webhook target passes when it is
	// saved (the SSRF guard; it runs again when a delivery connects).
	CheckWebhookURL func(ctx context.Context, rawURL string) error
	// Mirrors know the mirror namespaces (none if nil).
	Mirrors MirrorDirectory
	// RootMirror is the mirror that answers Docker Hub style names.
	RootMirror string
	// Blobs reads configs for the manifest pages (none shown if nil).
	Blobs BlobOpener
	// Scanner is the vulnerability scanner (none if nil).
	Scanner Scanner
	// Retention runs retention policies (a runner over the hub's
	// database if nil).
	Retention *retention.Runner
}

// New makes the hub service; bus (which may be nil) receives repository
// changes.
func New(db *models.DB, policy *auth.Policy, bus *events.Bus, opts Options) *Service {
	mirrors := opts.Mirrors
	if mirrors == nil {
		mirrors = noMirrors{}
	}
	if opts.Retention == nil {
		opts.Retention = retention.New(db, slog.Default(), nil)
	}
	b := &base{db: db, policy: policy, events: bus, md: defaultMarkdown(), mirrors: mirrors, rootMirror: opts.RootMirror,
		scanner: opts.Scanner}
	return &Service{
		Repos:        &Repos{b},
		Orgs:         &Orgs{b},
		Namespaces:   &Namespaces{b},
		Social:       &Social{b},
		Webhooks:     &Webhooks{base: b, checkURL: opts.CheckWebhookURL},
		Discover:     &Discover{base: b, index: opts.Search},
		Inspect:      &Inspect{base: b, blobs: opts.Blobs},
		Trust:        &Trust{b},
		Scans:        &Scans{base: b, scanner: opts.Scanner},
		Immutability: &Immutability{b},
		Retention:    &Retention{base: b, runner: opts.Retention},
		Audit:        &Audit{b},
		Robots:       &Robots{b},
		Teams:        &Teams{b},
		base:         b,
	}
}

func (s *base) changed(name string, id *auth.Identity) {
	actor := ""
	if id != nil {
		actor = id.Username
	}
	s.events.Publish(events.Event{Kind: events.RepositoryChanged, Repository: name, Namespace: models.NamespaceOf(name), Actor: actor})
}

// Limits on hub text, in bytes. Descriptions are plain text; READMEs and
// comments (MaxComment) are Markdown, rendered once when they are saved.
const (
	maxDescription = 300
	MaxReadme      = 100_000
)

// Repository is a repository as the hub shows it.
type Repository struct {
	models.Repository
	// Level is the caller's permission, for pages that offer settings.
	Level auth.Level
	// Upstream, for a mirrored repository, is where it comes from, such
	// as docker.io/library/alpine.
	Upstream string
}

// authorizeRepo loads a repository the caller may do action on. A
// repository the caller cannot see is ErrNotFound, like a missing one.
func (s *base) authorizeRepo(ctx context.Context, id *auth.Identity, name string, action auth.Action) (*Repository, error) {
	if !content.ValidName(name) {
		return nil, ErrNotFound
	}
	level, err := s.policy.Level(ctx, id, name)
	if err != nil {
		return nil, err
	}
	r, err := s.db.Repositories.Get(ctx, name)
	if errors.Is(err, models.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if err := auth.Decide(id, name, level, action); err != nil {
		if errors.Is(err, auth.ErrUnauthenticated) && level < auth.LevelRead {
			return nil, ErrNotFound // nothing to see: do not hint that logging in would help
		}
		return nil, err
	}
	origin, _ := s.mirrors.Origin(name)
	return &Repository{Repository: *r, Level: level, Upstream: origin}, nil
}

// Get returns a repository the caller may pull.
func (s *Repos) Get(ctx context.Context, id *auth.Identity, name string) (*Repository, error) {
	return s.authorizeRepo(ctx, id, name, auth.ActionPull)
}

// CreateRepositoryInput is a new repository.
type CreateRepositoryInput struct {
	Namespace, Name, Visibility, Description string
}

// Create creates an empty repository in a namespace the caller
// may write to.
func (s *Repos) Create(ctx context.Context, id *auth.Identity, in CreateRepositoryInput) (*Repository, error) {
	noteRepo(ctx, "repository.create", in.Namespace+"/"+in.Name, "", "visibility "+in.Visibility)
	full := in.Namespace + "/" + in.Name
	switch {
	case in.Namespace == "" || in.Name == "":
		return nil, invalid("A repository needs a namespace and a name.")
	case !content.ValidName(full):
		const rule = "use lowercase letters and digits, with '.', '_' or '-' between them"
		if sayable(full, 255) {
			return nil, invalid("%s is not a valid repository name: %s.", full, rule)
		}
		return nil, invalid("That is not a valid repository name: %s.", rule)
	}
	if in.Visibility == "" {
		in.Visibility = models.VisibilityPublic
	}
	if in.Visibility != models.VisibilityPublic && in.Visibility != models.VisibilityPrivate {
		return nil, errVisibility
	}
	if err := checkText(descriptionText, in.Description); err != nil {
		return nil, err
	}
	level, err := s.policy.NamespaceLevel(ctx, id, in.Namespace)
	if err != nil {
		return nil, err
	}
	if err := auth.Decide(id, full, level, auth.ActionPush); err != nil {
		if errors.Is(err, auth.ErrNotFound) {
			return nil, auth.ErrDenied // the namespace is public knowledge
		}
		return nil, err
	}
	r := &models.Repository{Name: full, Visibility: in.Visibility, Description: in.Description}
	if err := s.db.Repositories.Create(ctx, r); err != nil {
		if errors.Is(err, models.ErrConflict) {
			return nil, ErrConflict
		}
		return nil, err
	}
	s.changed(r.Name, id)
	return &Repository{Repository: *r, Level: level}, nil
}

// RepositoryPatch holds the fields to change; nil leaves a field alone.
type RepositoryPatch struct {
	Visibility  *string
	Description *string
	Readme      *string
}

// Update changes a repository's visibility, description or
// README; the caller must be able to manage it. Everything is decided
// before anything changes: the one authorization (manage, which also lets
// the caller see what it manages) and every field's validity. The answer
// is the repository as changed, never a second decision that could
// contradict the first.
func (s *Repos) Update(ctx context.Context, id *auth.Identity, name string, p RepositoryPatch) (*Repository, error) {
	noteRepo(ctx, "repository.update", name, "", repoPatchDetail(p))
	r, err := s.authorizeRepo(ctx, id, name, auth.ActionManage)
	if err != nil {
		return nil, err
	}
	fields := map[string]any{}
	if p.Visibility != nil {
		if *p.Visibility != models.VisibilityPublic && *p.Visibility != models.VisibilityPrivate {
			return nil, errVisibility
		}
		fields["visibility"] = *p.Visibility
	}
	if p.Description != nil {
		if err := checkText(descriptionText, *p.Description); err != nil {
			return nil, err
		}
		fields["description"] = *p.Description
	}
	if p.Readme != nil {
		if err := checkText(readmeText, *p.Readme); err != nil {
			return nil, err
		}
		// The HTML first: should the README's update then fail, the HTML
		// does not match the README that stays, and is not shown.
		if _, err := s.saveReadmeHTML(ctx, r.ID, *p.Readme); err != nil {
			return nil, fmt.Errorf("store the README of %s: %w", name, err)
		}
		fields["readme"] = *p.Readme
	}
	if len(fields) == 0 {
		return r, nil
	}
	if err := s.db.Repositories.Update(ctx, r.ID, fields); err != nil {
		return nil, err
	}
	s.changed(name, id)
	updated, err := s.db.Repositories.Get(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("read back %s after its update: %w", name, err)
	}
	return &Repository{Repository: *updated, Level: r.Level}, nil
}

// Delete deletes a repository with its tags, manifests and blob
// links; the caller must be able to manage it.
func (s *Repos) Delete(ctx context.Context, id *auth.Identity, name string) error {
	noteRepo(ctx, "repository.delete", name, "", "")
	r, err := s.authorizeRepo(ctx, id, name, auth.ActionManage)
	if err != nil {
		return err
	}
	if err := s.db.Repositories.Delete(ctx, r.ID, actorOf(id)); err != nil {
		return err
	}
	s.events.Publish(events.Event{Kind: events.RepositoryDeleted, Repository: name, Namespace: r.Namespace, Actor: actorOf(id)})
	return nil
}

// userByName finds an account by a name a caller gave; a name no account
// can have is not found, without asking the database.
func (s *base) userByName(ctx context.Context, name string) (*models.User, error) {
	if !auth.ValidNamespaceName(name) {
		return nil, models.ErrNotFound
	}
	return s.db.Users.GetByName(ctx, name)
}

func actorOf(id *auth.Identity) string {
	if id == nil {
		return ""
	}
	return id.Username
}

// Collaborators lists a repository's collaborators; managers only.
func (s *Repos) Collaborators(ctx context.Context, id *auth.Identity, name string) ([]models.CollaboratorName, error) {
	r, err := s.authorizeRepo(ctx, id, name, auth.ActionManage)
	if err != nil {
		return nil, err
	}
	return s.db.Repositories.Collaborators(ctx, r.ID)
}

// SetCollaborator grants user a permission on a repository.
func (s *Repos) SetCollaborator(ctx context.Context, id *auth.Identity, name, user, permission string) error {
	noteRepo(ctx, "collaborator.set", name, name+" collaborator "+user, "permission "+permission)
	if _, err := auth.ParseLevel(permission); err != nil {
		return invalid("The permission must be read, write or admin.")
	}
	r, err := s.authorizeRepo(ctx, id, name, auth.ActionManage)
	if err != nil {
		return err
	}
	u, err := s.userByName(ctx, user)
	if errors.Is(err, models.ErrNotFound) {
		return noUser(user)
	}
	if err != nil {
		return err
	}
	if err := s.db.Repositories.SetCollaborator(ctx, r.ID, u.ID, permission); err != nil {
		return err
	}
	s.changed(name, id)
	return nil
}

// RemoveCollaborator takes a user's collaboration away.
func (s *Repos) RemoveCollaborator(ctx context.Context, id *auth.Identity, name, user string) error {
	noteRepo(ctx, "collaborator.remove", name, name+" collaborator "+user, "")
	r, err := s.authorizeRepo(ctx, id, name, auth.ActionManage)
	if err != nil {
		return err
	}
	u, err := s.userByName(ctx, user)
	if errors.Is(err, models.ErrNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	if err := s.db.Repositories.RemoveCollaborator(ctx, r.ID, u.ID); errors.Is(err, models.ErrNotFound) {
		return ErrNotFound
	} else if err != nil {
		return err
	}
	s.changed(name, id)
	return nil
}
