package models

import (
	"context"
	"slices"

	"gorm.io/gorm"
)

// PolicyStore keeps what a pull must pass: a repository's policy and its
// namespace's.
type PolicyStore struct{ *conn }

// Severities, lowest first; "" blocks nothing.
var Severities = []string{"low", "medium", "high", "critical"}

// SeverityRank orders severities: 0 for "" or an unknown one, then 1 (low)
// to 4 (critical).
func SeverityRank(s string) int { return slices.Index(Severities, s) + 1 }

// Policy is what a pull of a manifest must pass.
type Policy struct {
	// RequireSignature asks for a signature verified by a key of the
	// repository or its namespace.
	RequireSignature bool
	// BlockSeverity refuses manifests with findings at or above it
	// ("" for none).
	BlockSeverity string
}

// IsZero reports whether p asks for nothing.
func (p Policy) IsZero() bool { return !p.RequireSignature && p.BlockSeverity == "" }

// Join is the stricter of p and o in each rule.
func (p Policy) Join(o Policy) Policy {
	out := Policy{RequireSignature: p.RequireSignature || o.RequireSignature, BlockSeverity: p.BlockSeverity}
	if r := SeverityRank(o.BlockSeverity); r > 0 && (SeverityRank(out.BlockSeverity) == 0 || r < SeverityRank(out.BlockSeverity)) {
		out.BlockSeverity = o.BlockSeverity
	}
	return out
}

func policyColumns(p Policy) map[string]any {
	return map[string]any{"require_signature": p.RequireSignature, "block_severity": p.BlockSeverity}
}

// SetRepository stores repository repoID's own policy.
func (s *PolicyStore) SetRepository(ctx context.Context, repoID int64, p Policy) error {
	res := s.change(ctx, func(tx *gorm.DB) *gorm.DB {
		return tx.Table("repositories").Where("id = ?", repoID).Updates(policyColumns(p))
	})
	if res.Error == nil && res.RowsAffected == 0 {
		return ErrNotFound
	}
	return res.Error
}

// SetNamespace stores namespace ns's policy.
func (s *PolicyStore) SetNamespace(ctx context.Context, ns string, p Policy) error {
	res := s.change(ctx, func(tx *gorm.DB) *gorm.DB {
		return tx.Table("namespaces").Where("name = ?", ns).Updates(policyColumns(p))
	})
	if res.Error == nil && res.RowsAffected == 0 {
		return ErrNotFound
	}
	return res.Error
}

// Namespace returns namespace ns's policy (none for a namespace with no
// row, such as a name only a site admin's push made).
func (s *PolicyStore) Namespace(ctx context.Context, ns string) (Policy, error) {
	var p Policy
	err := s.read(ctx).Table("namespaces").Select("require_signature, block_severity").Where("name = ?", ns).Scan(&p).Error
	return p, err
}
