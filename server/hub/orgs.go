package hub

import (
	"context"
	"errors"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/auth"
	"github.com/wharfhub/wharf/server/events"
)

// Org is an organization with its members.
type Org struct {
	models.Organization
	Members []models.Member
}

// Create creates an organization owned by the caller.
func (s *Orgs) Create(ctx context.Context, id *auth.Identity, name, description string) (*Org, error) {
	noteNamespace(ctx, "org.create", name, "", "")
	if id == nil {
		return nil, auth.ErrUnauthenticated
	}
	if !id.CanManageAccount() {
		return nil, auth.ErrDenied
	}
	if !auth.ValidNamespaceName(name) {
		return nil, invalid("An organization name must be 2 to 64 characters: lowercase letters, digits, '-' or '_', starting with a letter or digit.")
	}
	if err := checkText(descriptionText, description); err != nil {
		return nil, err
	}
	o := &models.Organization{Name: name, Description: description}
	if err := s.db.Orgs.Create(ctx, o, id.UserID); err != nil {
		if errors.Is(err, models.ErrConflict) {
			return nil, ErrConflict
		}
		return nil, err
	}
	s.events.Publish(events.Event{Kind: events.NamespaceCreated, Namespace: name, Actor: "org"})
	return s.org(ctx, name)
}

// Get returns an organization; organizations and their members are
// public, like Docker Hub's.
func (s *Orgs) Get(ctx context.Context, name string) (*Org, error) { return s.org(ctx, name) }

func (s *base) org(ctx context.Context, name string) (*Org, error) {
	if !auth.ValidNamespaceName(name) {
		return nil, ErrNotFound
	}
	o, err := s.db.Orgs.Get(ctx, name)
	if errors.Is(err, models.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	members, err := s.db.Orgs.Members(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	return &Org{Organization: *o, Members: members}, nil
}

func (s *base) manageOrg(ctx context.Context, id *auth.Identity, name string) (*models.Organization, error) {
	if !auth.ValidNamespaceName(name) {
		return nil, ErrNotFound
	}
	o, err := s.db.Orgs.Get(ctx, name)
	if errors.Is(err, models.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if err := s.policy.AuthorizeOrg(ctx, id, o); err != nil {
		return nil, err
	}
	return o, nil
}

// Delete deletes an organization with its repositories, members and
// everything its namespace owns; owners only.
func (s *Orgs) Delete(ctx context.Context, id *auth.Identity, name string) error {
	noteNamespace(ctx, "org.delete", name, "", "")
	o, err := s.manageOrg(ctx, id, name)
	if err != nil {
		return err
	}
	if err := s.db.Orgs.Delete(ctx, o.ID); err != nil {
		return err
	}
	s.events.Publish(events.Event{Kind: events.NamespaceDeleted, Namespace: name})
	return nil
}

// OrgPatch holds the organization fields to change.
type OrgPatch struct {
	Description      *string
	MemberPermission *string
}

// Update changes an organization's description or what its members
// may do with its repositories; owners only.
func (s *Orgs) Update(ctx context.Context, id *auth.Identity, name string, p OrgPatch) (*Org, error) {
	noteNamespace(ctx, "org.update", name, "", orgPatchDetail(p))
	o, err := s.manageOrg(ctx, id, name)
	if err != nil {
		return nil, err
	}
	if p.Description != nil {
		if err := checkText(descriptionText, *p.Description); err != nil {
			return nil, err
		}
		o.Description = *p.Description
	}
	if p.MemberPermission != nil {
		if _, err := auth.ParseLevel(*p.MemberPermission); err != nil && *p.MemberPermission != models.MemberPermissionNone {
			return nil, invalid("The member permission must be none (teams decide), read, write or admin.")
		}
		o.MemberPermission = *p.MemberPermission
	}
	if err := s.db.Orgs.Update(ctx, o); err != nil {
		return nil, err
	}
	return s.org(ctx, name)
}

// SetMember adds a member or changes a member's role; owners only.
func (s *Orgs) SetMember(ctx context.Context, id *auth.Identity, org, user, role string) error {
	noteNamespace(ctx, "org.member.set", org, org+" member "+user, "role "+role)
	if role != models.RoleOwner && role != models.RoleMember {
		return invalid("The role must be owner or member.")
	}
	o, err := s.manageOrg(ctx, id, org)
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
	if err := s.db.Orgs.SetMember(ctx, o.ID, u.ID, role); errors.Is(err, models.ErrLastOwner) {
		return invalidErr(err)
	} else if err != nil {
		return err
	}
	return nil
}

// RemoveMember removes a member; owners only, and never the last owner.
func (s *Orgs) RemoveMember(ctx context.Context, id *auth.Identity, org, user string) error {
	noteNamespace(ctx, "org.member.remove", org, org+" member "+user, "")
	o, err := s.manageOrg(ctx, id, org)
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
	switch err := s.db.Orgs.RemoveMember(ctx, o.ID, u.ID); {
	case errors.Is(err, models.ErrLastOwner):
		return invalidErr(err)
	case errors.Is(err, models.ErrNotFound):
		return ErrNotFound
	default:
		return err
	}
}
