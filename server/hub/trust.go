package hub

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/auth"
	"github.com/wharfhub/wharf/server/events"
	"github.com/wharfhub/wharf/server/trust"
)

// Trust is the service of signing keys, policies and what verifying
// signatures found.
type Trust struct{ *base }

// KeyInput is a new signing key.
type KeyInput struct {
	Name      string
	PublicKey string
}

// AddKey registers a public key whose signatures the target (a
// repository, or every repository of a namespace) trusts. What the
// target holds is verified again with it, off the request path.
func (s *Trust) AddKey(ctx context.Context, id *auth.Identity, t Target, in KeyInput) (*models.SigningKey, error) {
	noteTarget(ctx, "signing_key.create", t, "key "+in.Name, "")
	repoID, err := s.authorizeTarget(ctx, id, t)
	if err != nil {
		return nil, err
	}
	in.Name = strings.TrimSpace(in.Name)
	in.PublicKey = strings.TrimSpace(in.PublicKey) + "\n"
	if in.Name == "" {
		return nil, invalid("A key needs a name of 1 to 100 characters.")
	}
	if err := checkTexts(textField{signingKeyNameText, in.Name}, textField{publicKeyText, in.PublicKey}); err != nil {
		return nil, err
	}
	fingerprint, err := trust.ParsePublicKey(in.PublicKey)
	if err != nil {
		return nil, invalidErr(err)
	}
	k := &models.SigningKey{Name: in.Name, PublicKey: in.PublicKey, Fingerprint: fingerprint, CreatedBy: actorOf(id)}
	if repoID != 0 {
		k.RepositoryID = &repoID
	} else {
		ns := t.Namespace
		k.Namespace = &ns
	}
	if err := s.db.SigningKeys.Create(ctx, k); errors.Is(err, models.ErrConflict) {
		return nil, invalid("That key is registered already.")
	} else if err != nil {
		return nil, err
	}
	s.trustChanged(t, id)
	return k, nil
}

// Keys lists the target's own signing keys.
func (s *Trust) Keys(ctx context.Context, id *auth.Identity, t Target) ([]models.SigningKey, error) {
	repoID, err := s.authorizeTarget(ctx, id, t)
	if err != nil {
		return nil, err
	}
	if repoID != 0 {
		return s.db.SigningKeys.ListForRepository(ctx, repoID)
	}
	return s.db.SigningKeys.ListForNamespace(ctx, t.Namespace)
}

// DeleteKey removes one of the target's keys; what it verified is
// verified again without it.
func (s *Trust) DeleteKey(ctx context.Context, id *auth.Identity, t Target, keyID int64) error {
	noteTarget(ctx, "signing_key.delete", t, fmt.Sprintf("key %d", keyID), "")
	repoID, err := s.authorizeTarget(ctx, id, t)
	if err != nil {
		return err
	}
	k, err := s.db.SigningKeys.Get(ctx, keyID)
	if errors.Is(err, models.ErrNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	if !t.owns(repoID, k.RepositoryID, k.Namespace) {
		return ErrNotFound
	}
	if err := s.db.SigningKeys.Delete(ctx, k); errors.Is(err, models.ErrNotFound) {
		return ErrNotFound
	} else if err != nil {
		return err
	}
	s.trustChanged(t, id)
	return nil
}

// trustChanged tells the workers and the policy gate that what the
// target trusts changed.
func (s *base) trustChanged(t Target, id *auth.Identity) {
	e := events.Event{Kind: events.TrustChanged, Repository: t.Repository, Namespace: t.Namespace, Actor: actorOf(id)}
	if t.Repository != "" {
		e.Namespace = models.NamespaceOf(t.Repository)
	}
	s.events.Publish(e)
}

// PolicyView is a target's policy: its own and, for a repository, the
// one pulls must pass (joined with its namespace's).
type PolicyView struct {
	Own       models.Policy
	Effective models.Policy
}

// Policy returns the target's policy. Whoever may see a repository may see
// its policy (the repository's page shows it); a namespace's, whoever
// manages it.
func (s *Trust) Policy(ctx context.Context, id *auth.Identity, t Target) (*PolicyView, error) {
	if t.Repository != "" {
		r, err := s.authorizeRepo(ctx, id, t.Repository, auth.ActionPull)
		if err != nil {
			return nil, err
		}
		ns, err := s.db.Policies.Namespace(ctx, r.Namespace)
		if err != nil {
			return nil, err
		}
		return &PolicyView{Own: r.Policy, Effective: r.Policy.Join(ns)}, nil
	}
	if _, err := s.authorizeTarget(ctx, id, t); err != nil {
		return nil, err
	}
	p, err := s.db.Policies.Namespace(ctx, t.Namespace)
	if err != nil {
		return nil, err
	}
	return &PolicyView{Own: p, Effective: p}, nil
}

// SetPolicy sets the target's own policy.
func (s *Trust) SetPolicy(ctx context.Context, id *auth.Identity, t Target, p models.Policy) (*PolicyView, error) {
	noteTarget(ctx, "policy.set", t, "policy", policyDetail(p))
	repoID, err := s.authorizeTarget(ctx, id, t)
	if err != nil {
		return nil, err
	}
	p.BlockSeverity = strings.ToLower(strings.TrimSpace(p.BlockSeverity))
	if p.BlockSeverity != "" && !slices.Contains(models.Severities, p.BlockSeverity) {
		return nil, invalid("The severity must be low, medium, high or critical (or empty for none).")
	}
	if p.BlockSeverity != "" && !s.scanning() {
		// Nothing scans here, so nothing could tell a pull apart by its
		// findings: refuse rather than pretend to enforce it.
		return nil, invalid("Vulnerability scanning is not set up on this server, so a severity cannot be enforced.")
	}
	if repoID != 0 {
		err = s.db.Policies.SetRepository(ctx, repoID, p)
	} else {
		err = s.db.Policies.SetNamespace(ctx, t.Namespace, p)
	}
	if errors.Is(err, models.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	s.trustChanged(t, id)
	return s.Policy(ctx, id, t)
}

// SignatureEntry is one signature or attestation of a manifest, as the
// tag page lists it.
type SignatureEntry struct {
	Digest        string    `json:"digest"` // the manifest that holds it
	Kind          string    `json:"kind"`   // signature or attestation
	Status        string    `json:"status"`
	Key           string    `json:"key,omitempty"`
	Identity      string    `json:"identity,omitempty"`
	PredicateType string    `json:"predicate_type,omitempty"`
	Reason        string    `json:"reason,omitempty"`
	SignedAt      time.Time `json:"signed_at"`
}

// SignatureSummary is what the signatures of a manifest say.
type SignatureSummary struct {
	// Status is verified, unverified or unsigned.
	Status     string           `json:"status"`
	Signatures []SignatureEntry `json:"signatures"`
}

// signatures loads the signature summary of digest in repository repoID.
func (s *base) signatures(ctx context.Context, repoID int64, digest string) (SignatureSummary, error) {
	rows, err := s.db.Signatures.ForSubject(ctx, repoID, digest)
	if err != nil {
		return SignatureSummary{}, err
	}
	out := SignatureSummary{Status: models.SignatureUnsigned, Signatures: []SignatureEntry{}}
	for _, r := range rows {
		out.Signatures = append(out.Signatures, SignatureEntry{Digest: r.SignatureDigest, Kind: r.Kind, Status: r.Status,
			Key: r.KeyName, Identity: r.Identity, PredicateType: r.PredicateType, Reason: r.Reason, SignedAt: r.SignedAt})
		if r.Status == models.SignatureVerified {
			out.Status = models.SignatureVerified
		} else if out.Status == models.SignatureUnsigned {
			out.Status = models.SignatureUnverified
		}
	}
	return out, nil
}
