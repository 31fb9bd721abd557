package events

import (
	"sync"
	"time"
)

// Kind names what happened.
type Kind string

// Event kinds.
const (
	// Push: a manifest was pushed and Tag (if any) points to Digest.
	Push Kind = "push"
	// TagDeleted: Tag was removed from the repository.
	TagDeleted Kind = "tag_deleted"
	// ManifestDeleted: the manifest Digest was deleted, with its tags.
	ManifestDeleted Kind = "manifest_deleted"
	// RepositoryChanged: hub fields, visibility, collaborators or stars.
	RepositoryChanged Kind = "repository_changed"
	// RepositoryDeleted: the whole repository is gone.
	RepositoryDeleted Kind = "repository_deleted"
	// NamespaceDeleted: an account or organization and its repositories
	// are gone; Repository is empty and Namespace is set.
	NamespaceDeleted Kind = "namespace_deleted"
	// NamespaceCreated: a new account or organization.
	NamespaceCreated Kind = "namespace_created"
	// TrustChanged: the signing keys or the policy of Repository, or of
	// Namespace (Repository empty), changed.
	TrustChanged Kind = "trust_changed"
)

// Event is one thing that happened.
type Event struct {
	Kind       Kind
	Repository string
	Namespace  string
	Tag        string
	Digest     string
	MediaType  string
	Actor      string
	At         time.Time
}

// Bus fans events out to subscribers. Publish never blocks on a slow
// subscriber: each subscriber must hand events off quickly (to a queue).
type Bus struct {
	mu   sync.RWMutex
	subs []func(Event)
}

// New makes an empty bus.
func New() *Bus { return &Bus{} }

// Subscribe adds fn, called synchronously for every later event.
func (b *Bus) Subscribe(fn func(Event)) {
	b.mu.Lock()
	b.subs = append(b.subs, fn)
	b.mu.Unlock()
}

// Publish sends e to every subscriber. A nil bus drops events, so
// services work without one in tests.
func (b *Bus) Publish(e Event) {
	if b == nil {
		return
	}
	if e.At.IsZero() {
		e.At = time.Now().UTC()
	}
	b.mu.RLock()
	subs := b.subs
	b.mu.RUnlock()
	for _, fn := range subs {
		fn(e)
	}
}
