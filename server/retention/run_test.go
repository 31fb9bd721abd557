package retention_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/gc"
	"github.com/wharfhub/wharf/server/retention"
)

const repo = "acme/app"

// scene is a multi-arch repository with referrers, signatures, an
// immutable tag and untagged manifests old and new, and what its policy
// must remove.
type scene struct {
	f                 *fixture
	tags, manifests   []string
	spared, keptNames []string
}

func newScene(t *testing.T) *scene {
	f := newFixture(t)
	shared := []byte("a layer two platforms share" + strings.Repeat("-", 500))
	// v1 and v2: indexes sharing a child (c); only v1 goes, so c stays.
	a1 := f.image(repo, "", "a1", "", shared)
	c := f.image(repo, "", "c", "")
	v1 := f.index(repo, "v1", a1, c)
	f.age(repo, v1, "v1", 30)
	b1 := f.image(repo, "", "b1", "", shared)
	v2 := f.index(repo, "v2", b1, c)
	f.age(repo, v2, "v2", 20)
	f.age(repo, b1, "", 30) // old, untagged, but its index stays
	// prod is v2 too: the tag v2 goes, its index stays.
	f.put(repo, "prod", indexOf(t, f, v2))
	v3 := f.image(repo, "v3", "v3", "")
	f.age(repo, v3, "v3", 10)
	latest := f.image(repo, "latest", "latest", "")
	// Referrers: v1's goes with it, v2's (old) stays with v2.
	r1 := f.image(repo, "", "sbom-v1", v1)
	r2 := f.image(repo, "", "sbom-v2", v2)
	f.age(repo, r2, "", 30)
	// dev-1 goes with its cosign signature tag and its SBOM.
	d1 := f.image(repo, "dev-1", "d1", "")
	f.age(repo, d1, "dev-1", 40)
	sigTag := "sha256-" + d1.Encoded() + ".sig"
	sig := f.image(repo, sigTag, "sig-d1", "")
	sbom := f.image(repo, "", "sbom-d1", d1)
	// dev-2 is immutable: spared.
	d2 := f.image(repo, "dev-2", "d2", "")
	f.age(repo, d2, "dev-2", 40)
	id := f.repoID(repo)
	if err := f.db.Immutables.Create(context.Background(), &models.ImmutableRule{RepositoryID: &id, Pattern: "dev-2"}); err != nil {
		t.Fatal(err)
	}
	// Untagged: u is older than the policy's 7 days, u2 is not.
	u := f.image(repo, "", "u", "")
	f.age(repo, u, "", 10)
	f.image(repo, "", "u2", "")

	f.policy(repo, retention.Policy{Rules: []retention.Rule{
		{Keep: retention.KeepNewest, Count: 1, Pattern: "v*"},
		{Keep: retention.KeepAlways, Pattern: "prod"},
		{Keep: retention.KeepPushedWithin, Days: 3, Pattern: "*"},
	}, UntaggedDays: 7})
	_ = latest
	s := &scene{f: f,
		tags:      []string{sigTag, "dev-1", "v1", "v2"},
		spared:    []string{"dev-2"},
		keptNames: []string{"dev-2", "latest", "prod", "v3"},
	}
	for _, d := range []digest.Digest{v1, a1, r1, d1, sig, sbom, u} {
		s.manifests = append(s.manifests, d.String())
	}
	slices.Sort(s.manifests)
	slices.Sort(s.tags)
	return s
}

// indexOf is the index v as pushed, to push again under another tag.
func indexOf(t *testing.T, f *fixture, v digest.Digest) map[string]any {
	m, err := f.db.Manifests.Get(context.Background(), repo, v.String())
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(m.Payload, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func (s *scene) repo() models.GovernedRepository {
	return models.GovernedRepository{ID: s.f.repoID(repo), Name: repo}
}

func (s *scene) check(t *testing.T, what string, d *models.TagDeletion) {
	t.Helper()
	if !slices.Equal(d.Tags, s.tags) || !slices.Equal(d.Manifests, s.manifests) || !slices.Equal(d.Spared, s.spared) {
		t.Fatalf("%s removes tags %q, manifests %q, spares %q;\nwant %q, %q, %q", what, d.Tags, d.Manifests, d.Spared,
			s.tags, s.manifests, s.spared)
	}
	if d.Bytes <= 0 {
		t.Errorf("%s reclaims %d bytes", what, d.Bytes)
	}
}

// A dry run says exactly what the run then removes, and changes nothing;
// the run keeps every kept image whole (children, blobs, referrers),
// records itself and its audit entry, and garbage collection reclaims
// the bytes it said.
func TestDryRunThenRun(t *testing.T) {
	s := newScene(t)
	f := s.f
	ctx, _ := models.WithAuditing(context.Background(), models.Actor{Name: "alice", Kind: models.ActorUser, Address: "192.0.2.1"})
	before := f.state(repo)

	preview, err := f.runner.Preview(ctx, s.repo())
	if err != nil {
		t.Fatal(err)
	}
	s.check(t, "the preview", preview.Removed)
	if after := f.state(repo); len(after.tags) != len(before.tags) || len(after.manifests) != len(before.manifests) {
		t.Fatalf("the preview changed the repository: %d→%d tags, %d→%d manifests", len(before.tags), len(after.tags),
			len(before.manifests), len(after.manifests))
	}
	if preview.Run != nil || preview.Policy != "repository" {
		t.Errorf("preview = %+v", preview)
	}
	reasons := map[string]string{}
	for _, d := range preview.Decisions {
		reasons[d.Tag.Name] = d.Reason
	}
	if reasons["v3"] != "rule 1: the newest 1 of tags matching v*" || reasons["prod"] != "rule 2: always tags matching prod" ||
		reasons["v1"] != "no rule keeps it" || reasons["dev-2"] != "immutable: a rule protects it" {
		t.Errorf("reasons = %q", reasons)
	}

	run, err := f.runner.Run(ctx, s.repo(), retention.CauseManual, "alice")
	if err != nil {
		t.Fatal(err)
	}
	s.check(t, "the run", run.Removed)
	if run.Removed.Bytes != preview.Removed.Bytes {
		t.Errorf("the run reclaims %d bytes, the preview said %d", run.Removed.Bytes, preview.Removed.Bytes)
	}
	after := f.state(repo)
	var names []string
	for n := range after.tags {
		names = append(names, n)
	}
	slices.Sort(names)
	if !slices.Equal(names, s.keptNames) {
		t.Errorf("tags left %q, want %q", names, s.keptNames)
	}
	f.intact(repo, before)

	runs, err := f.db.Retention.Runs(ctx, models.RunFilter{RepositoryID: s.repo().ID}, 10)
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs = %+v, %v", runs, err)
	}
	r := runs[0]
	if r.TagCount != 4 || r.ManifestCount != 7 || r.Bytes != run.Removed.Bytes || r.Cause != "manual" || r.Actor != "alice" ||
		r.Status != models.RunOK || !strings.Contains(r.Tags, `"dev-1"`) {
		t.Errorf("run = %+v", r)
	}
	es, err := f.db.Audit.List(ctx, models.AuditFilter{Action: "retention.run"}, 10)
	if err != nil || len(es) != 1 || es[0].Repository != repo || es[0].Actor != "alice" || es[0].Address != "192.0.2.1" {
		t.Fatalf("audit = %+v, %v", es, err)
	}

	// Nothing more to remove: a second run removes nothing, and a
	// scheduled one that removes nothing records nothing.
	again, err := f.runner.Run(ctx, s.repo(), retention.CauseSchedule, "")
	if err != nil || len(again.Removed.Tags)+len(again.Removed.Manifests) != 0 || again.Run != nil {
		t.Fatalf("second run = %+v, %v", again, err)
	}

	report, err := f.gc.Run(context.Background(), gc.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if report.BlobBytes != run.Removed.Bytes {
		t.Errorf("garbage collection reclaimed %d bytes of blobs, the run said %d (%s)", report.BlobBytes, run.Removed.Bytes, report)
	}
	f.intact(repo, before)
}

// A tag pushed again since the rules were weighed stays: the run removes
// a tag only where it still points.
func TestRunSparesATagPushedMeanwhile(t *testing.T) {
	f := newFixture(t)
	old := f.image(repo, "old", "old", "")
	f.age(repo, old, "old", 30)
	f.policy(repo, retention.Policy{Rules: []retention.Rule{{Keep: retention.KeepPushedWithin, Days: 7}}})
	id := f.repoID(repo)
	req := models.PruneRequest{Tags: map[string]int64{"old": -1}} // weighed when it pointed elsewhere
	d, err := f.db.Tags.Prune(context.Background(), id, repo, req, "", false)
	if err != nil || len(d.Tags) != 0 {
		t.Fatalf("prune = %+v, %v", d, err)
	}
	if _, ok := f.state(repo).tags["old"]; !ok {
		t.Fatal("the tag went")
	}
}
