package hub

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/wharfhub/wharf/models"
)

// The hub says what each change is before making it (models.Note): the
// change's transaction writes the entry, so an entry exists exactly when
// the change does. Actions are AREA.VERB, such as team.create.

// noteRepo notes action on repository repo; target defaults to repo.
func noteRepo(ctx context.Context, action, repo, target, detail string) {
	if target == "" {
		target = repo
	}
	models.Note(ctx, models.AuditNote{Action: action, Target: target, Namespace: models.NamespaceOf(repo),
		Repository: repo, Detail: detail})
}

// noteNamespace notes action in namespace ns; target defaults to ns.
func noteNamespace(ctx context.Context, action, ns, target, detail string) {
	if target == "" {
		target = ns
	}
	models.Note(ctx, models.AuditNote{Action: action, Target: target, Namespace: ns, Detail: detail})
}

// noteTarget notes action on a repository's or a namespace's object,
// named what (a rule, a key, a webhook).
func noteTarget(ctx context.Context, action string, t Target, what, detail string) {
	if t.Repository != "" {
		noteRepo(ctx, action, t.Repository, t.Repository+" "+what, detail)
		return
	}
	noteNamespace(ctx, action, t.Namespace, t.Namespace+" "+what, detail)
}

// noteSite notes a site-wide action (mirrors, the scanner).
func noteSite(ctx context.Context, action, target, detail string) {
	models.Note(ctx, models.AuditNote{Action: action, Target: target, Detail: detail})
}

// listed is a short list for an entry's detail.
func listed(xs []string) string {
	const max = 20
	if len(xs) > max {
		return strings.Join(xs[:max], ", ") + fmt.Sprintf(" and %d more", len(xs)-max)
	}
	return strings.Join(xs, ", ")
}

// refText is a manifest reference as it follows a repository's name.
func refText(ref ManifestRef) string {
	if ref.Digest != "" {
		return "@" + ref.Digest
	}
	return ":" + ref.Tag
}

func orgPatchDetail(p OrgPatch) string {
	var parts []string
	if p.MemberPermission != nil {
		parts = append(parts, "member permission "+*p.MemberPermission)
	}
	if p.Description != nil {
		parts = append(parts, "description")
	}
	return strings.Join(parts, ", ")
}

func repoPatchDetail(p RepositoryPatch) string {
	var parts []string
	if p.Visibility != nil {
		parts = append(parts, "visibility "+*p.Visibility)
	}
	if p.Description != nil {
		parts = append(parts, "description")
	}
	if p.Readme != nil {
		parts = append(parts, "README")
	}
	return strings.Join(parts, ", ")
}

// permissionsDetail lists repository permissions, sorted.
func permissionsDetail(perms map[string]string) string {
	parts := make([]string, 0, len(perms))
	for _, repo := range slices.Sorted(maps.Keys(perms)) {
		parts = append(parts, repo+" "+perms[repo])
	}
	return listed(parts)
}

func teamDetail(in TeamInput) string {
	repos := "repositories " + listed(in.Repositories)
	if in.AllRepositories {
		repos = "all repositories"
	}
	return fmt.Sprintf("permission %s on %s; members %s", in.Permission, repos, listed(in.Members))
}

func policyDetail(p models.Policy) string {
	return fmt.Sprintf("require signature %t, block severity %q", p.RequireSignature, p.BlockSeverity)
}
