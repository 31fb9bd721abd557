package migrations_test

import (
	"context"
	"testing"
	"time"

	"github.com/wharfhub/wharf/migrations"
)

// Manifests from before version 19 are given the kind their media types
// and layers tell, and an index's size becomes its biggest platform's.
func TestV19RecordsKinds(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	w := db.Writer()
	if err := migrations.RunTo(ctx, w, 18); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	exec := execer(t, w)
	exec("INSERT INTO repositories (name, namespace, visibility, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
		"alice/app", "alice", "public", now, now)
	const (
		image    = "application/vnd.oci.image.manifest.v1+json"
		index    = "application/vnd.oci.image.index.v1+json"
		imageCfg = "application/vnd.oci.image.config.v1+json"
	)
	rows := []struct {
		digest, mediaType, artifactType, payload string
		size                                     int64
		want                                     string
	}{
		{"sha256:a1", image, imageCfg, `{"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip"}]}`, 100, "image"},
		{"sha256:a2", image, imageCfg, `{"layers":[]}`, 300, "image"},
		{"sha256:ix", index, "", `{"manifests":[]}`, 400, "index"},
		{"sha256:sg", image, imageCfg, `{"layers":[{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json"}]}`, 5, "signature"},
		{"sha256:at", image, imageCfg, `{"layers":[{"mediaType":"application/vnd.dsse.envelope.v1+json"}]}`, 5, "attestation"},
		{"sha256:sb", image, "application/spdx+json", `{}`, 5, "sbom"},
		{"sha256:bu", image, "application/vnd.dev.sigstore.bundle.v0.3+json", `{}`, 5, "signature"},
		{"sha256:hm", image, "application/vnd.cncf.helm.config.v1+json", `{}`, 5, "helm"},
		{"sha256:zz", image, "application/x-something", `{}`, 5, ""},
	}
	for _, r := range rows {
		exec(`INSERT INTO manifests (repository_id, digest, media_type, size, artifact_type, payload, content_size, created_at)
			SELECT id, ?, ?, 1, ?, ?, ?, ? FROM repositories`, r.digest, r.mediaType, r.artifactType, []byte(r.payload), r.size, now)
	}
	for _, child := range []string{"sha256:a1", "sha256:a2"} {
		exec(`INSERT INTO manifest_references (manifest_id, digest, kind) SELECT id, ?, 'manifest' FROM manifests WHERE digest = 'sha256:ix'`, child)
	}
	if err := migrations.Run(ctx, w); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		var got struct {
			Kind        string
			ContentSize int64
		}
		if err := w.Raw("SELECT kind, content_size FROM manifests WHERE digest = ?", r.digest).Scan(&got).Error; err != nil {
			t.Fatal(err)
		}
		if got.Kind != r.want {
			t.Errorf("%s: kind %q, want %q", r.digest, got.Kind, r.want)
		}
		if want := map[string]int64{"sha256:ix": 300}[r.digest]; want != 0 && got.ContentSize != want {
			t.Errorf("the index's size: %d, want its biggest platform's, %d", got.ContentSize, want)
		}
	}
}
