package hub

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/auth"
)

// Teams is the service of an organization's teams: groups of its members
// with a permission (read, write or admin) on chosen repositories of the
// organization, or on all of them. Its owners manage them; the policy
// (auth.Policy.Level) and every listing (models visibleTo) count them.
type Teams struct{ *base }

// TeamInput is a team as its owners describe it. Members are usernames
// of the organization's members; Repositories are names within the
// organization (app) or in full (acme/app).
type TeamInput struct {
	Name            string
	Description     string
	Permission      string
	AllRepositories bool
	Members         []string
	Repositories    []string
}

var teamNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// maxTeamEntries bounds the members and repositories of one team.
const maxTeamEntries = 5000

// teamOf checks in and makes the team row of organization o.
func teamOf(o *models.Organization, in TeamInput) (*models.Team, error) {
	if _, err := auth.ParseLevel(in.Permission); err != nil {
		return nil, invalid("A team's permission is read, write or admin, not %q.", in.Permission)
	}
	if err := checkText(descriptionText, in.Description); err != nil {
		return nil, err
	}
	if len(in.Members) > maxTeamEntries || len(in.Repositories) > maxTeamEntries {
		return nil, invalid("A team has at most %d members and %d repositories.", maxTeamEntries, maxTeamEntries)
	}
	t := &models.Team{OrgID: o.ID, Name: in.Name, Description: in.Description, Permission: in.Permission,
		AllRepositories: in.AllRepositories, Members: []string{}, Repositories: []string{}}
	for _, m := range in.Members {
		m = strings.ToLower(strings.TrimSpace(m))
		if !sayable(m, 64) {
			return nil, invalid("A team's members are usernames.")
		}
		if !slices.Contains(t.Members, m) {
			t.Members = append(t.Members, m)
		}
	}
	for _, r := range in.Repositories {
		r = strings.TrimSpace(r)
		if !strings.Contains(r, "/") {
			r = o.Name + "/" + r
		}
		if !sayable(r, 256) || models.NamespaceOf(r) != o.Name {
			return nil, invalid("A team of %s holds repositories of %s only.", o.Name, o.Name)
		}
		if !slices.Contains(t.Repositories, r) {
			t.Repositories = append(t.Repositories, r)
		}
	}
	return t, nil
}

func teamError(err error, org, name string) error {
	var missing *models.MissingRepositoryError
	var notMember *models.ErrNotMember
	switch {
	case errors.As(err, &missing):
		return invalid("There is no repository %s.", missing.Name)
	case errors.As(err, &notMember):
		return invalid("The user %s is no member of %s: add them to the organization first.", notMember.Username, org)
	case errors.Is(err, models.ErrConflict):
		return invalid("%s has a team named %s already.", org, name)
	}
	return err
}

// List lists an organization's teams; its owners only.
func (s *Teams) List(ctx context.Context, id *auth.Identity, org string) ([]models.Team, error) {
	o, err := s.manageOrg(ctx, id, org)
	if err != nil {
		return nil, err
	}
	return s.db.Teams.List(ctx, o.ID)
}

// Get returns one team of an organization; its owners only.
func (s *Teams) Get(ctx context.Context, id *auth.Identity, org, name string) (*models.Team, error) {
	o, err := s.manageOrg(ctx, id, org)
	if err != nil {
		return nil, err
	}
	if !teamNameRE.MatchString(name) {
		return nil, ErrNotFound // no team has such a name
	}
	t, err := s.db.Teams.Get(ctx, o.ID, name)
	if errors.Is(err, models.ErrNotFound) {
		return nil, ErrNotFound
	}
	return t, err
}

// Create makes a team of an organization.
func (s *Teams) Create(ctx context.Context, id *auth.Identity, org string, in TeamInput) (*models.Team, error) {
	noteNamespace(ctx, "team.create", org, org+"/"+in.Name, teamDetail(in))
	o, err := s.manageOrg(ctx, id, org)
	if err != nil {
		return nil, err
	}
	in.Name = strings.TrimSpace(in.Name)
	if !teamNameRE.MatchString(in.Name) {
		return nil, invalid("A team's name is 1 to 64 lowercase letters, digits, '.', '_' and '-', starting with a letter or digit.")
	}
	t, err := teamOf(o, in)
	if err != nil {
		return nil, err
	}
	if err := s.db.Teams.Create(ctx, t, o.Name); err != nil {
		return nil, teamError(err, o.Name, in.Name)
	}
	return s.db.Teams.Get(ctx, o.ID, t.Name)
}

// Update replaces a team's description, permission, scope, members and
// repositories (in.Name is ignored: a team keeps its name).
func (s *Teams) Update(ctx context.Context, id *auth.Identity, org, name string, in TeamInput) (*models.Team, error) {
	noteNamespace(ctx, "team.update", org, org+"/"+name, teamDetail(in))
	old, err := s.Get(ctx, id, org, name)
	if err != nil {
		return nil, err
	}
	o, err := s.db.Orgs.Get(ctx, org)
	if err != nil {
		return nil, err
	}
	t, err := teamOf(o, in)
	if err != nil {
		return nil, err
	}
	t.ID, t.Name = old.ID, old.Name
	if err := s.db.Teams.Update(ctx, t, o.Name); err != nil {
		return nil, teamError(err, o.Name, name)
	}
	return s.db.Teams.Get(ctx, o.ID, name)
}

// Delete removes a team; its members keep what the organization gives
// them otherwise.
func (s *Teams) Delete(ctx context.Context, id *auth.Identity, org, name string) error {
	noteNamespace(ctx, "team.delete", org, org+"/"+name, "")
	t, err := s.Get(ctx, id, org, name)
	if err != nil {
		return err
	}
	if err := s.db.Teams.Delete(ctx, t.ID); err != nil {
		return err
	}
	return nil
}
