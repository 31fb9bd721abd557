package trust

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/artifact"
)

// Refused is a pull the policy refuses, with the reason a client sees.
type Refused struct{ Reason string }

func (e *Refused) Error() string { return e.Reason }

// Caller is who pulls, as far as the policy cares.
type Caller struct {
	// Name is the account's name ("" for anonymous).
	Name string
	// Admin is a site admin: the policy lets them through, and says so
	// in the log.
	Admin bool
	// Scanner is the scanner Wharf runs against itself, which must read
	// what the policy refuses in order to scan it.
	Scanner bool
}

// policyTTL is how long a repository's policy is trusted in memory: a
// change made on another replica applies within it.
const policyTTL = 5 * time.Second

// Gate answers whether a pull passes its repository's policy. It keeps
// policies in memory for policyTTL, so that pulls of repositories
// without a policy cost no query.
type Gate struct {
	db  *models.DB
	log *slog.Logger
	now func() time.Time

	mu       sync.Mutex
	policies map[string]cachedPolicy
}

type cachedPolicy struct {
	repoID int64
	p      models.Policy
	at     time.Time
}

// NewGate makes the gate over db.
func NewGate(db *models.DB, log *slog.Logger) *Gate {
	return &Gate{db: db, log: log, now: time.Now, policies: map[string]cachedPolicy{}}
}

// Forget drops what the gate holds of repository name, or of every
// repository when name is "" (a policy changed here).
func (g *Gate) Forget(name string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if name == "" {
		clear(g.policies)
		return
	}
	delete(g.policies, name)
}

// Policy is the policy a pull of repository name must pass: the
// repository's joined with its namespace's.
func (g *Gate) Policy(ctx context.Context, name string) (int64, models.Policy, error) {
	g.mu.Lock()
	c, ok := g.policies[name]
	g.mu.Unlock()
	if ok && g.now().Sub(c.at) < policyTTL {
		return c.repoID, c.p, nil
	}
	r, err := g.db.Repositories.Get(ctx, name)
	if errors.Is(err, models.ErrNotFound) {
		return 0, models.Policy{}, nil
	}
	if err != nil {
		return 0, models.Policy{}, err
	}
	ns, err := g.db.Policies.Namespace(ctx, models.NamespaceOf(name))
	if err != nil {
		return 0, models.Policy{}, err
	}
	c = cachedPolicy{repoID: r.ID, p: r.Policy.Join(ns), at: g.now()}
	g.mu.Lock()
	if len(g.policies) > 10000 {
		clear(g.policies) // bounded: a burst of names costs queries, not memory
	}
	g.policies[name] = c
	g.mu.Unlock()
	return c.repoID, c.p, nil
}

// Check decides whether caller may pull manifest m of repository name.
// Signatures, attestations and SBOMs always pass, so that cosign and
// scanners can fetch them.
func (g *Gate) Check(ctx context.Context, name string, m *models.Manifest, caller Caller) error {
	switch artifact.Kind(m.Kind) {
	case artifact.Signature, artifact.Attestation, artifact.SBOM:
		return nil
	}
	if caller.Scanner {
		return nil
	}
	repoID, p, err := g.Policy(ctx, name)
	if err != nil || p.IsZero() {
		return err
	}
	reason, err := g.fails(ctx, repoID, name, m, p)
	if err != nil || reason == "" {
		return err
	}
	if caller.Admin {
		g.log.Warn("policy: a site admin pulls what the policy refuses", "admin", caller.Name,
			"repository", name, "digest", m.Digest, "reason", reason)
		return nil
	}
	return &Refused{Reason: reason}
}

// fails says why m fails p, or "" if it passes.
func (g *Gate) fails(ctx context.Context, repoID int64, name string, m *models.Manifest, p models.Policy) (string, error) {
	if p.RequireSignature {
		ok, err := g.signed(ctx, repoID, m.Digest)
		if err != nil {
			return "", err
		}
		if !ok {
			return fmt.Sprintf("%s@%s has no signature verified by a key of %s or %s, as its policy requires",
				name, m.Digest, name, models.NamespaceOf(name)), nil
		}
	}
	if p.BlockSeverity != "" && artifact.Kind(m.Kind) != artifact.Index {
		// An index is judged by its platforms, as each is pulled.
		return g.vulnerable(ctx, repoID, name, m.Digest, p.BlockSeverity)
	}
	return "", nil
}

// vulnerable says why digest fails a policy that blocks findings at or
// above severity: it has such findings, or no scan vouches for it yet.
func (g *Gate) vulnerable(ctx context.Context, repoID int64, name, digest, severity string) (string, error) {
	sc, err := g.db.Scans.Get(ctx, repoID, digest)
	if errors.Is(err, models.ErrNotFound) || (err == nil && sc.ScannedAt == nil) {
		return fmt.Sprintf("%s@%s has not been scanned for vulnerabilities yet, and its policy refuses what has not been scanned", name, digest), nil
	}
	if err != nil {
		return "", err
	}
	if sc.Status != models.ScanDone {
		return fmt.Sprintf("%s@%s could not be scanned for vulnerabilities (%s), and its policy refuses what has not been scanned", name, digest, sc.Reason), nil
	}
	n := sc.AtLeast(severity)
	if n == 0 {
		return "", nil
	}
	fs, err := g.db.Scans.Findings(ctx, repoID, digest, "severity", 3)
	if err != nil {
		return "", err
	}
	var ids []string
	for _, f := range fs {
		if models.SeverityRank(f.Severity) >= models.SeverityRank(severity) {
			ids = append(ids, f.VulnerabilityID)
		}
	}
	what := "vulnerabilities"
	if n == 1 {
		what = "vulnerability"
	}
	return fmt.Sprintf("%s@%s has %d %s of %s severity or above (%s), which its policy refuses",
		name, digest, n, what, severity, strings.Join(ids, ", ")), nil
}

// signed reports whether a signature of digest, or of an index that
// holds it (a platform of a signed multi-platform image), is verified.
func (g *Gate) signed(ctx context.Context, repoID int64, digest string) (bool, error) {
	parents, err := g.db.Manifests.Parents(ctx, repoID, digest)
	if err != nil {
		return false, err
	}
	st, err := g.db.Signatures.Statuses(ctx, repoID, append(parents, digest))
	if err != nil {
		return false, err
	}
	for _, s := range st {
		if s == models.SignatureVerified {
			return true, nil
		}
	}
	return false, nil
}
