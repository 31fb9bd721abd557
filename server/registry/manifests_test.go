package registry_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
)

func TestManifestErrors(t *testing.T) {
	e := newEnv(t)
	repo := "alice/app"
	img := e.image(repo, "layer one")
	imgDigest := digest.FromBytes(img)
	if r := e.putManifest(repo, "v1", img, ociImage); r.status != 201 {
		t.Fatalf("seed manifest: %d %s", r.status, r.body)
	}
	var doc map[string]any
	_ = json.Unmarshal(img, &doc)
	with := func(k string, v any) []byte {
		m := map[string]any{}
		for kk, vv := range doc {
			m[kk] = vv
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return mustJSON(t, m)
	}
	missing := digest.FromString("never pushed")
	index := func(children ...digest.Digest) map[string]any {
		var ms []any
		for _, c := range children {
			ms = append(ms, map[string]any{"mediaType": ociImage, "digest": c, "size": 10})
		}
		return map[string]any{"schemaVersion": 2, "mediaType": ociIndex, "manifests": ms}
	}
	big := func(size int) []byte {
		b := append([]byte{}, img...)
		return append(b, bytes.Repeat([]byte(" "), size-len(b))...)
	}

	tests := []struct {
		name      string
		ref       string
		body      []byte
		mediaType string
		status    int
		code      string
	}{
		{"not JSON", "t", []byte("{nope"), ociImage, 400, "MANIFEST_INVALID"},
		{"trailing garbage", "t", append(append([]byte{}, img...), []byte(" {}")...), ociImage, 400, "MANIFEST_INVALID"},
		{"schemaVersion 1", "t", with("schemaVersion", 1), ociImage, 400, "MANIFEST_INVALID"},
		{"missing schemaVersion", "t", with("schemaVersion", nil), ociImage, 400, "MANIFEST_INVALID"},
		{"Content-Type disagrees with mediaType", "t", img, ociIndex, 400, "MANIFEST_INVALID"},
		{"unknown media type", "t", with("mediaType", "text/plain"), "text/plain", 400, "MANIFEST_INVALID"},
		{"image manifest carrying manifests", "t", with("manifests", []any{}), ociImage, 400, "MANIFEST_INVALID"},
		{"image manifest without config", "t", with("config", nil), ociImage, 400, "MANIFEST_INVALID"},
		{"index carrying layers", "t", func() []byte {
			m := index(imgDigest)
			m["layers"] = []any{}
			return mustJSON(t, m)
		}(), ociIndex, 400, "MANIFEST_INVALID"},
		{"layer with a bad digest", "t", with("layers", []any{map[string]any{"mediaType": "x/y", "digest": "sha256:zz", "size": 1}}), ociImage, 400, "MANIFEST_INVALID"},
		{"layer never pushed", "t", with("layers", []any{map[string]any{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": missing, "size": 1}}), ociImage, 400, "MANIFEST_BLOB_UNKNOWN"},
		{"non-distributable layer need not be pushed", "t", with("layers", []any{map[string]any{"mediaType": "application/vnd.oci.image.layer.nondistributable.v1.tar", "digest": missing, "size": 1}}), ociImage, 201, ""},
		{"index child never pushed", "t", mustJSON(t, index(missing)), ociIndex, 400, "MANIFEST_BLOB_UNKNOWN"},
		{"index of a pushed child", "t", mustJSON(t, index(imgDigest)), ociIndex, 201, ""},
		{"missing subject is allowed", "t", with("subject", map[string]any{"mediaType": ociImage, "digest": missing, "size": 5}), ociImage, 201, ""},
		{"digest reference that does not match", digest.FromString("x").String(), img, ociImage, 400, "DIGEST_INVALID"},
		{"malformed digest reference", "sha256:baddigeststring", img, ociImage, 400, "DIGEST_INVALID"},
		{"invalid tag", "-bad", img, ociImage, 400, "TAG_INVALID"},
		{"4 MiB is accepted", "big", big(4 << 20), ociImage, 201, ""},
		{"4 MiB and one byte is refused", "big", big(4<<20 + 1), ociImage, 413, "SIZE_INVALID"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.putManifest(repo, tc.ref, tc.body, tc.mediaType)
			if r.status != tc.status || r.code() != tc.code {
				t.Fatalf("got %d %q %s, want %d %q", r.status, r.code(), r.body, tc.status, tc.code)
			}
		})
	}
}

func TestManifestRoundTrip(t *testing.T) {
	e := newEnv(t)
	repo := "alice/rt"
	img := e.image(repo, "layer")
	d := digest.FromBytes(img)
	r := e.putManifest(repo, "latest", img, ociImage)
	if r.status != 201 || r.header.Get("Docker-Content-Digest") != d.String() ||
		r.header.Get("Location") != "/v2/"+repo+"/manifests/"+d.String() {
		t.Fatalf("put: %d %v", r.status, r.header)
	}
	for _, ref := range []string{"latest", d.String()} {
		g := e.do(req{method: "GET", path: "/v2/" + repo + "/manifests/" + ref, header: map[string]string{"Accept": ociImage}})
		if g.status != 200 || !bytes.Equal(g.body, img) || g.header.Get("Content-Type") != ociImage ||
			g.header.Get("Docker-Content-Digest") != d.String() {
			t.Fatalf("get %s: %d %v", ref, g.status, g.header)
		}
		h := e.do(req{method: "HEAD", path: "/v2/" + repo + "/manifests/" + ref})
		if h.status != 200 || len(h.body) != 0 || h.header.Get("Content-Length") != g.header.Get("Content-Length") {
			t.Fatalf("head %s: %d", ref, h.status)
		}
	}
	// A client that accepts only indexes is not handed an image manifest.
	g := e.do(req{method: "GET", path: "/v2/" + repo + "/manifests/latest", header: map[string]string{"Accept": ociIndex}})
	if g.status != 404 || g.code() != "MANIFEST_UNKNOWN" {
		t.Fatalf("accept mismatch: %d %s", g.status, g.body)
	}
	// Deleting the tag keeps the manifest; deleting the manifest removes both.
	if r := e.do(as("DELETE", "/v2/"+repo+"/manifests/latest", nil)); r.status != 202 {
		t.Fatalf("delete tag: %d", r.status)
	}
	if r := e.do(req{method: "GET", path: "/v2/" + repo + "/manifests/latest"}); r.code() != "MANIFEST_UNKNOWN" {
		t.Fatalf("tag after delete: %d", r.status)
	}
	if r := e.do(req{method: "GET", path: "/v2/" + repo + "/manifests/" + d.String()}); r.status != 200 {
		t.Fatalf("manifest after tag delete: %d", r.status)
	}
	if r := e.do(as("DELETE", "/v2/"+repo+"/manifests/"+d.String(), nil)); r.status != 202 {
		t.Fatalf("delete manifest: %d", r.status)
	}
	if r := e.do(as("DELETE", "/v2/"+repo+"/manifests/"+d.String(), nil)); r.code() != "MANIFEST_UNKNOWN" {
		t.Fatalf("second delete: %d", r.status)
	}
	if r := e.do(req{method: "DELETE", path: "/v2/" + repo + "/manifests/" + d.String(), user: bob, pw: bobPw}); r.status != 403 {
		t.Fatalf("outsider delete of a public repository: %d", r.status)
	}
	if r := e.do(req{method: "DELETE", path: "/v2/" + repo + "/manifests/" + d.String()}); r.status != 401 {
		t.Fatalf("anonymous delete: %d", r.status)
	}
}

func TestReferrers(t *testing.T) {
	e := newEnv(t)
	repo := "alice/ref"
	subject := e.image(repo, "subject layer")
	sd := digest.FromBytes(subject)
	if r := e.putManifest(repo, sd.String(), subject, ociImage); r.status != 201 {
		t.Fatal(r.status)
	}
	empty := e.pushBlob(repo, []byte("{}"))
	for i, at := range []string{"application/vnd.example.sbom", "application/vnd.example.sig"} {
		m := mustJSON(t, map[string]any{
			"schemaVersion": 2, "mediaType": ociImage, "artifactType": at,
			"config":      map[string]any{"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty, "size": 2},
			"layers":      []any{},
			"subject":     map[string]any{"mediaType": ociImage, "digest": sd, "size": len(subject)},
			"annotations": map[string]string{"n": strings.Repeat("x", i+1)},
		})
		r := e.putManifest(repo, digest.FromBytes(m).String(), m, ociImage)
		if r.status != 201 || r.header.Get("OCI-Subject") != sd.String() {
			t.Fatalf("referrer %d: %d %v", i, r.status, r.header)
		}
	}
	var idx struct {
		MediaType string
		Manifests []struct {
			ArtifactType string
			Annotations  map[string]string
		}
	}
	r := e.do(req{method: "GET", path: "/v2/" + repo + "/referrers/" + sd.String()})
	_ = json.Unmarshal(r.body, &idx)
	if r.status != 200 || r.header.Get("Content-Type") != ociIndex || len(idx.Manifests) != 2 {
		t.Fatalf("referrers: %d %s", r.status, r.body)
	}
	r = e.do(req{method: "GET", path: "/v2/" + repo + "/referrers/" + sd.String() + "?artifactType=application/vnd.example.sig"})
	idx.Manifests = nil
	_ = json.Unmarshal(r.body, &idx)
	if len(idx.Manifests) != 1 || idx.Manifests[0].ArtifactType != "application/vnd.example.sig" ||
		r.header.Get("OCI-Filters-Applied") != "artifactType" || idx.Manifests[0].Annotations["n"] != "xx" {
		t.Fatalf("filtered referrers: %s %v", r.body, r.header)
	}
	if r := e.do(req{method: "GET", path: "/v2/" + repo + "/referrers/sha256:nope"}); r.status != http.StatusBadRequest {
		t.Fatalf("bad digest: %d", r.status)
	}
}
