package retention_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/content"
	"github.com/wharfhub/wharf/server/gc"
	"github.com/wharfhub/wharf/server/retention"
	"github.com/wharfhub/wharf/server/storage/filesystem"
	"github.com/wharfhub/wharf/server/testutil"
)

// fixture is a content service, a collector and a retention runner on one
// database (SQLite, or PostgreSQL with WHARF_TEST_DATABASE) and one blob
// directory.
type fixture struct {
	t      *testing.T
	db     *models.DB
	svc    *content.Service
	gc     *gc.Collector
	runner *retention.Runner
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	db := testutil.OpenDB(t, dir)
	store, err := filesystem.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	return &fixture{t: t, db: db, svc: content.New(db, store, log, content.Options{}), gc: gc.New(db, store, log, gc.Hooks{}),
		runner: retention.New(db, log, nil)}
}

func (f *fixture) blob(repo string, data []byte) digest.Digest {
	f.t.Helper()
	d := digest.FromBytes(data)
	if err := f.svc.Uploads.Put(context.Background(), repo, d, content.Chunk{Length: int64(len(data)), Body: bytes.NewReader(data)}); err != nil {
		f.t.Fatalf("push blob to %s: %v", repo, err)
	}
	return d
}

func (f *fixture) put(repo, tag string, m map[string]any) digest.Digest {
	f.t.Helper()
	d, err := f.tryPut(repo, tag, m)
	if err != nil {
		f.t.Fatalf("put manifest %s:%s: %v", repo, tag, err)
	}
	return d
}

func (f *fixture) tryPut(repo, tag string, m map[string]any) (digest.Digest, error) {
	b, _ := json.Marshal(m)
	ref := content.Reference{Tag: tag}
	if tag == "" {
		ref = content.Reference{Digest: digest.FromBytes(b)}
	}
	res, err := f.svc.Manifests.Put(context.Background(), content.PutManifestRequest{Name: repo, Ref: ref,
		ContentType: m["mediaType"].(string), Payload: b, Pusher: "alice"})
	if err != nil {
		return "", err
	}
	return res.Digest, nil
}

// image pushes an image of its own config and a layer (name makes them
// unique), plus shared layers, tagged tag ("" for none); subject, if
// set, makes it a referrer.
func (f *fixture) image(repo, tag, name string, subject digest.Digest, shared ...[]byte) digest.Digest {
	f.t.Helper()
	m, err := f.imageManifest(repo, name, subject, shared...)
	if err != nil {
		f.t.Fatal(err)
	}
	return f.put(repo, tag, m)
}

func (f *fixture) imageManifest(repo, name string, subject digest.Digest, shared ...[]byte) (map[string]any, error) {
	cfg := []byte(fmt.Sprintf(`{"architecture":"amd64","os":"linux","name":%q}`, name))
	layers := append([][]byte{[]byte("layer of " + name + strings.Repeat(".", 1000))}, shared...)
	ls := []any{}
	for _, l := range append([][]byte{cfg}, layers...) {
		d := digest.FromBytes(l)
		if err := f.svc.Uploads.Put(context.Background(), repo, d, content.Chunk{Length: int64(len(l)), Body: bytes.NewReader(l)}); err != nil {
			return nil, err
		}
	}
	for _, l := range layers {
		ls = append(ls, map[string]any{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": digest.FromBytes(l), "size": len(l)})
	}
	m := map[string]any{"schemaVersion": 2, "mediaType": content.MediaTypeOCIManifest, "layers": ls,
		"config": map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest.FromBytes(cfg), "size": len(cfg)}}
	if subject != "" {
		m["artifactType"] = "application/vnd.example.sbom"
		m["subject"] = map[string]any{"mediaType": content.MediaTypeOCIManifest, "digest": subject, "size": 1}
	}
	return m, nil
}

// index pushes an index of children, tagged tag.
func (f *fixture) index(repo, tag string, children ...digest.Digest) digest.Digest {
	f.t.Helper()
	ms := []any{}
	for i, c := range children {
		ms = append(ms, map[string]any{"mediaType": content.MediaTypeOCIManifest, "digest": c, "size": 1,
			"platform": map[string]string{"os": "linux", "architecture": []string{"amd64", "arm64", "s390x"}[i%3]}})
	}
	return f.put(repo, tag, map[string]any{"schemaVersion": 2, "mediaType": content.MediaTypeOCIIndex, "manifests": ms})
}

// age makes manifest d of repo, and tag (if set), look days old.
func (f *fixture) age(repo string, d digest.Digest, tag string, days int) {
	f.t.Helper()
	at := time.Now().UTC().Add(-time.Duration(days) * 24 * time.Hour)
	w := f.db.Writer()
	id := f.repoID(repo)
	if err := w.Exec("UPDATE manifests SET created_at = ?, used_at = ? WHERE repository_id = ? AND digest = ?", at, at, id, d.String()).Error; err != nil {
		f.t.Fatal(err)
	}
	if tag != "" {
		if err := w.Exec("UPDATE tags SET updated_at = ? WHERE repository_id = ? AND name = ?", at, id, tag).Error; err != nil {
			f.t.Fatal(err)
		}
	}
}

func (f *fixture) repoID(repo string) int64 {
	f.t.Helper()
	r, err := f.db.Repositories.Get(context.Background(), repo)
	if err != nil {
		f.t.Fatal(err)
	}
	return r.ID
}

func (f *fixture) policy(repo string, p retention.Policy) {
	f.t.Helper()
	if err := p.Check(); err != nil {
		f.t.Fatal(err)
	}
	id := f.repoID(repo)
	if err := f.db.Retention.Put(context.Background(), &models.RetentionPolicy{RepositoryID: &id, Rules: p.RulesJSON(), UntaggedDays: p.UntaggedDays}); err != nil {
		f.t.Fatal(err)
	}
}

// state is what repo holds: its tags (name → digest) and manifests
// (digest → subject).
type state struct {
	tags      map[string]string
	manifests map[string]string
}

func (f *fixture) state(repo string) state {
	f.t.Helper()
	s := state{tags: map[string]string{}, manifests: map[string]string{}}
	var tags []struct{ Name, Digest string }
	id := f.repoID(repo)
	w := f.db.Writer()
	if err := w.Raw("SELECT t.name, m.digest FROM tags t JOIN manifests m ON m.id = t.manifest_id WHERE t.repository_id = ?", id).Scan(&tags).Error; err != nil {
		f.t.Fatal(err)
	}
	for _, t := range tags {
		s.tags[t.Name] = t.Digest
	}
	var ms []struct{ Digest, SubjectDigest string }
	if err := w.Raw("SELECT digest, subject_digest FROM manifests WHERE repository_id = ?", id).Scan(&ms).Error; err != nil {
		f.t.Fatal(err)
	}
	for _, m := range ms {
		s.manifests[m.Digest] = m.SubjectDigest
	}
	return s
}

// intact fails unless every manifest left in repo has its children, its
// blobs readable, and every referrer of it that was there before (in
// was) still there, and every tag its manifest.
func (f *fixture) intact(repo string, was state) {
	f.t.Helper()
	now := f.state(repo)
	ctx := context.Background()
	for tag, d := range now.tags {
		if _, ok := now.manifests[d]; !ok {
			f.t.Errorf("tag %s points at %s, which is gone", tag, d)
		}
	}
	for d := range now.manifests {
		m, err := f.svc.Manifests.Get(ctx, repo, content.Reference{Digest: digest.Digest(d)})
		if err != nil {
			f.t.Errorf("manifest %s: %v", d, err)
			continue
		}
		var body struct {
			Config    struct{ Digest digest.Digest }
			Layers    []struct{ Digest digest.Digest }
			Manifests []struct{ Digest digest.Digest }
		}
		_ = json.Unmarshal(m.Payload, &body)
		for _, c := range body.Manifests {
			if _, ok := now.manifests[c.Digest.String()]; !ok {
				f.t.Errorf("index %s lost its child %s", d, c.Digest)
			}
		}
		blobs := []digest.Digest{}
		if body.Config.Digest != "" {
			blobs = append(blobs, body.Config.Digest)
		}
		for _, l := range body.Layers {
			blobs = append(blobs, l.Digest)
		}
		for _, b := range blobs {
			rc, err := f.svc.Blobs.Open(ctx, repo, b)
			if err != nil {
				f.t.Errorf("manifest %s lost its blob %s: %v", d, b, err)
				continue
			}
			rc.Close()
		}
	}
	for r, subject := range was.manifests {
		if _, kept := now.manifests[subject]; subject != "" && kept {
			if _, ok := now.manifests[r]; !ok {
				f.t.Errorf("referrer %s of kept %s is gone", r, subject)
			}
		}
	}
}

func slogDiscard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
