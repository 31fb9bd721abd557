package search

import (
	"context"
	"errors"
	"time"
)

// Repo is a repository as the index sees it.
type Repo struct {
	Name        string // full name, ns/name
	Namespace   string
	Description string
	Readme      string
	Tags        []string
	Stars       int64
	Pulls       int64
	Updated     time.Time
	// Readers are the principals that may see the repository: PublicReader
	// for a public one, NamespaceReader(ns) for the namespace's owner or
	// members, CollaboratorReader(id) for each collaborator.
	Readers []string
}

// Namespace is a user or an organization.
type Namespace struct {
	Name string
	Kind string // "user" or "org"
}

// Principals that may read a document.
const PublicReader = "public"

// NamespaceReader is the principal of whoever reads a namespace's
// repositories by owning it or belonging to it.
func NamespaceReader(ns string) string { return "ns:" + ns }

// CollaboratorReader is the principal of one collaborator.
func CollaboratorReader(userID int64) string { return "collab:" + itoa(userID) }

func itoa(n int64) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// Sorts a query may ask for; anything else sorts by relevance.
const (
	SortRelevance = ""
	SortStars     = "stars"
	SortPulls     = "pulls"
	SortUpdated   = "updated"
)

// Query is a search.
type Query struct {
	Text string
	// Principals are the caller's; AllReaders searches everything (site
	// administrators).
	Principals []string
	AllReaders bool
	Sort       string
	Offset     int
	Limit      int
}

// Hit is one matching repository.
type Hit struct {
	Name  string
	Score float64
}

// Result is a page of hits and how many match in all.
type Result struct {
	Total uint64
	Hits  []Hit
}

// ErrCorrupt means the index on disk cannot be used and must be rebuilt.
var ErrCorrupt = errors.New("search index is corrupt")

// ErrInUse means another process (or another open in this one) holds the
// index open. It is not corrupt: it must not be removed.
var ErrInUse = errors.New("search index is in use")

// Index is the search index.
type Index interface {
	// IndexRepos adds or replaces repositories.
	IndexRepos(ctx context.Context, repos []Repo) error
	// DeleteRepos removes repositories by name.
	DeleteRepos(ctx context.Context, names []string) error
	// IndexNamespaces adds or replaces users and organizations.
	IndexNamespaces(ctx context.Context, nss []Namespace) error
	// DeleteNamespace removes a namespace and all its repositories.
	DeleteNamespace(ctx context.Context, ns string) error
	// Search finds repositories the query's principals may see.
	Search(ctx context.Context, q Query) (*Result, error)
	// Suggest completes a prefix into repository names.
	Suggest(ctx context.Context, q Query) ([]string, error)
	// SearchNamespaces finds users and organizations by name.
	SearchNamespaces(ctx context.Context, text string, limit int) ([]Namespace, error)
	// Count is the number of documents.
	Count() (uint64, error)
	// Close releases the index.
	Close() error
}
