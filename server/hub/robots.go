package hub

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/auth"
)

// Robots is the service of robot accounts: machine identities of a
// namespace (a user's or an organization's), managed by its owners, that
// sign in as NAMESPACE+NAME with a secret shown once and may do on each
// of the namespace's repositories what their permission there says.
type Robots struct{ *base }

// RobotInput is a new robot, or new permissions of one.
type RobotInput struct {
	Name        string
	Description string
	// Permissions map a repository of the namespace (its full name, or
	// its name within the namespace) to read, write or admin.
	Permissions map[string]string
	ExpiresAt   *time.Time
}

// NewRobot is a robot as created: its secret is shown once.
type NewRobot struct {
	models.Robot
	Secret string
}

// maxRobotPermissions bounds the permissions of one robot.
const maxRobotPermissions = 1000

// owner checks that the caller owns namespace ns (and is no robot).
func (s *Robots) owner(ctx context.Context, id *auth.Identity, ns string) error {
	if id.IsRobot() {
		return auth.ErrDenied // robots make no robots
	}
	_, err := s.authorizeTarget(ctx, id, Target{Namespace: ns})
	return err
}

// permissions checks in.Permissions and names their repositories in full.
func permissions(ns string, in map[string]string) (map[string]string, error) {
	if len(in) > maxRobotPermissions {
		return nil, invalid("A robot may have at most %d permissions.", maxRobotPermissions)
	}
	out := make(map[string]string, len(in))
	for repo, level := range in {
		repo = strings.TrimSpace(repo)
		if !strings.Contains(repo, "/") {
			repo = ns + "/" + repo
		}
		if models.NamespaceOf(repo) != ns || !sayable(repo, 256) {
			return nil, invalid("A robot of %s has permissions on repositories of %s only.", ns, ns)
		}
		if _, err := auth.ParseLevel(level); err != nil || level == "" {
			return nil, invalid("A permission is read, write or admin, not %q.", level)
		}
		out[repo] = level
	}
	return out, nil
}

// Create makes a robot of namespace ns; its secret is in the answer,
// and nowhere else.
func (s *Robots) Create(ctx context.Context, id *auth.Identity, ns string, in RobotInput) (*NewRobot, error) {
	noteNamespace(ctx, "robot.create", ns, ns+"+"+in.Name, permissionsDetail(in.Permissions))
	if err := s.owner(ctx, id, ns); err != nil {
		return nil, err
	}
	in.Name = strings.TrimSpace(in.Name)
	if !auth.ValidRobotName(in.Name) {
		return nil, invalid("A robot's name is 1 to 64 lowercase letters, digits, '.', '_' and '-', starting with a letter or digit.")
	}
	if err := checkText(robotDescriptionText, in.Description); err != nil {
		return nil, err
	}
	if in.ExpiresAt != nil && !in.ExpiresAt.After(time.Now()) {
		return nil, invalid("The expiry time (expires_at) must be in the future.")
	}
	perms, err := permissions(ns, in.Permissions)
	if err != nil {
		return nil, err
	}
	secret, hash := auth.NewRobotSecret()
	r := &models.Robot{Namespace: ns, Name: in.Name, SecretHash: hash, Description: in.Description, ExpiresAt: in.ExpiresAt,
		CreatedBy: actorOf(id)}
	if err := s.db.Robots.Create(ctx, r, perms); err != nil {
		return nil, robotError(err, ns, in.Name)
	}
	full, err := s.db.Robots.Get(ctx, r.ID)
	if err != nil {
		return nil, err
	}
	return &NewRobot{Robot: *full, Secret: secret}, nil
}

func robotError(err error, ns, name string) error {
	var missing *models.MissingRepositoryError
	switch {
	case errors.As(err, &missing):
		return invalid("There is no repository %s: create it first, then give the robot a permission on it.", missing.Name)
	case errors.Is(err, models.ErrConflict):
		return invalid("%s has a robot named %s already.", ns, name)
	case errors.Is(err, models.ErrNotFound):
		return ErrNotFound
	}
	return err
}

// List lists namespace ns's robots (never their secrets).
func (s *Robots) List(ctx context.Context, id *auth.Identity, ns string) ([]models.Robot, error) {
	if err := s.owner(ctx, id, ns); err != nil {
		return nil, err
	}
	return s.db.Robots.List(ctx, ns)
}

// robot loads robot robotID of namespace ns for its owner.
func (s *Robots) robot(ctx context.Context, id *auth.Identity, ns string, robotID int64) (*models.Robot, error) {
	if err := s.owner(ctx, id, ns); err != nil {
		return nil, err
	}
	r, err := s.db.Robots.Get(ctx, robotID)
	if errors.Is(err, models.ErrNotFound) || (err == nil && r.Namespace != ns) {
		return nil, ErrNotFound
	}
	return r, err
}

// SetPermissions replaces a robot's permissions; tokens it holds keep
// theirs for the few minutes they live.
func (s *Robots) SetPermissions(ctx context.Context, id *auth.Identity, ns string, robotID int64, in map[string]string) (*models.Robot, error) {
	noteNamespace(ctx, "robot.permissions", ns, fmt.Sprintf("%s robot %d", ns, robotID), permissionsDetail(in))
	r, err := s.robot(ctx, id, ns, robotID)
	if err != nil {
		return nil, err
	}
	perms, err := permissions(ns, in)
	if err != nil {
		return nil, err
	}
	if err := s.db.Robots.SetPermissions(ctx, r, perms); err != nil {
		return nil, robotError(err, ns, r.Name)
	}
	return s.db.Robots.Get(ctx, robotID)
}

// Delete removes a robot: its secret stops working at once.
func (s *Robots) Delete(ctx context.Context, id *auth.Identity, ns string, robotID int64) error {
	noteNamespace(ctx, "robot.delete", ns, fmt.Sprintf("%s robot %d", ns, robotID), "")
	if _, err := s.robot(ctx, id, ns, robotID); err != nil {
		return err
	}
	return s.db.Robots.Delete(ctx, robotID)
}
