package mirror_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/wharfhub/wharf/server/mirror/mirrortest"
)

// TestMirrorMirrorsReferrers: a signature attached upstream to a cached
// image (through the referrers API, or the tag-schema index for a
// registry without one) is listed by the mirror's referrers answer,
// and stays listed when the upstream goes away.
func TestMirrorMirrorsReferrers(t *testing.T) {
	f := newFixture(t)
	img := mirrortest.RandomImage(5, 1, 16<<10)
	mirrortest.Push(t, f.dist, "library/alpine", "3.20", "", "", img)
	f.mustManifest("3.20", img)

	empty := []byte("{}")
	sig := []byte("a signature, as cosign would attach it")
	desc := func(mt string, b []byte) map[string]any {
		return map[string]any{"mediaType": mt, "digest": digest.FromBytes(b), "size": len(b)}
	}
	refManifest, _ := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"artifactType": "application/vnd.dev.cosign.artifact.sig.v1+json",
		"config":       desc("application/vnd.oci.empty.v1+json", empty),
		"layers":       []any{desc("application/vnd.dev.cosign.simplesigning.v1+json", sig)},
		"subject":      desc(img.MediaType, img.Manifest),
	})
	ref := mirrortest.Image{Manifest: refManifest, MediaType: "application/vnd.oci.image.manifest.v1+json",
		Digest: digest.FromBytes(refManifest), Config: empty, Layers: [][]byte{sig}}
	mirrortest.Push(t, f.dist, "library/alpine", "sig", "", "", ref)
	// The tag-schema index too, for an upstream without the referrers API.
	index, _ := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
		"manifests": []any{map[string]any{"mediaType": ref.MediaType, "digest": ref.Digest, "size": len(refManifest),
			"artifactType": "application/vnd.dev.cosign.artifact.sig.v1+json"}},
	})
	mirrortest.Push(t, f.dist, "library/alpine", img.Digest.Algorithm().String()+"-"+img.Digest.Encoded(), "", "",
		mirrortest.Image{Manifest: index, MediaType: "application/vnd.oci.image.index.v1+json", Config: empty})

	listed := func() []string {
		t.Helper()
		if err := f.svc.SyncReferrers(context.Background(), "hub/library/alpine", img.Digest); err != nil {
			t.Fatal(err)
		}
		rs, err := f.content.Manifests.Referrers(context.Background(), "hub/library/alpine", img.Digest, "")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range rs {
			out = append(out, r.Digest.String())
		}
		return out
	}
	if got := listed(); len(got) != 1 || got[0] != ref.Digest.String() {
		t.Fatalf("referrers %v, want the signature %s", got, ref.Digest)
	}
	f.proxy.SetMode(mirrortest.Unavailable)
	f.advance(6 * time.Minute)
	if got := listed(); len(got) != 1 || got[0] != ref.Digest.String() {
		t.Fatalf("referrers with the upstream down: %v, want the cached signature", got)
	}
}
