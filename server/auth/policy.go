package auth

import (
	"context"
	"errors"
)

// Action is what a caller wants to do with a repository.
type Action string

// Actions, as in Docker token scopes.
const (
	ActionPull   Action = "pull"
	ActionPush   Action = "push"
	ActionDelete Action = "delete"
)

// Decisions other than "allowed".
var (
	// ErrUnauthenticated: an identity is needed; ask for credentials.
	ErrUnauthenticated = errors.New("authentication required")
	// ErrDenied: the caller is known and may not do this.
	ErrDenied = errors.New("access denied")
)

// Policy is the one place that answers authorization questions.
type Policy struct{}

// NewPolicy makes the authorization policy.
func NewPolicy() *Policy { return &Policy{} }

// Authorize decides whether id may do action on repository name. Until
// repositories have owners and visibility, anyone may pull and any
// account may push and delete.
func (p *Policy) Authorize(_ context.Context, id *Identity, name string, action Action) error {
	switch action {
	case ActionPull:
		return nil
	case ActionPush, ActionDelete:
		if id == nil {
			return ErrUnauthenticated
		}
		return nil
	}
	return ErrDenied
}
