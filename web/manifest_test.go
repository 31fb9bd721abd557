package web_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
)

// shop is a repository with what a team ships: a two-platform image with
// a buildx attestation, an image with a rich config, a Helm chart, a
// cosign signature attached by tag, and an SBOM attached by subject with
// a signature of its own.
type shop struct {
	image, multi, sbom, sig, chart string // digests
}

func (e *env) stock(user, repo string) shop {
	e.t.Helper()
	r := e.pusher(user, repo)
	var s shop
	layer := r.blob(bytes.Repeat([]byte("wharf layer "), 4000), ociLayer)
	cfg, _ := json.Marshal(map[string]any{
		"architecture": "amd64", "os": "linux", "created": "2026-11-30T10:00:00Z",
		"config": map[string]any{
			"Entrypoint": []string{"/bin/sh", "-c"}, "Cmd": []string{"serve && wait"},
			"Env": []string{"PATH=/usr/bin:/bin", "APP_MODE=production"}, "WorkingDir": "/srv", "User": "app",
			"ExposedPorts": map[string]any{"8080/tcp": map[string]any{}}, "Volumes": map[string]any{"/data": map[string]any{}},
			"Labels": map[string]string{"org.opencontainers.image.source": "https://git.example.com/shop", "team": "<b>payments</b>"},
		},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{}},
		"history": []map[string]any{
			{"created_by": "ADD rootfs.tar /"},
			{"created_by": "ENV APP_MODE=production", "empty_layer": true},
		},
	})
	img := r.manifest("v1", ociManifest, map[string]any{"config": r.blob(cfg, ociConfig), "layers": []any{layer},
		"annotations": map[string]string{"org.opencontainers.image.revision": "abc123"}})
	r.manifest("latest", ociManifest, map[string]any{"config": r.blob(cfg, ociConfig), "layers": []any{layer},
		"annotations": map[string]string{"org.opencontainers.image.revision": "abc123"}})
	s.image = img["digest"].(string)

	arm := []byte(`{"architecture":"arm64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
	armLayer := r.blob(bytes.Repeat([]byte("arm layer "), 9000), ociLayer)
	armImg := r.manifest("arm64-only", ociManifest, map[string]any{"config": r.blob(arm, ociConfig), "layers": []any{armLayer}})
	att := r.manifest("provenance", ociManifest, map[string]any{
		"config": r.blob([]byte(`{"architecture":"unknown","os":"unknown"}`), ociConfig),
		"layers": []any{r.blob([]byte(`{"_type":"https://in-toto.io/Statement/v0.1"}`), "application/vnd.in-toto+json")}})
	amd := withPlatform(img, "linux", "amd64")
	armEntry := withPlatform(armImg, "linux", "arm64")
	attEntry := withPlatform(att, "unknown", "unknown")
	attEntry["annotations"] = map[string]string{"vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": s.image}
	s.multi = r.manifest("multi", ociIndex, map[string]any{"manifests": []any{amd, armEntry, attEntry}})["digest"].(string)

	chart := r.manifest("1.2.3", ociManifest, map[string]any{
		"config": r.blob([]byte(`{"name":"shopchart","version":"1.2.3","appVersion":"4.5","description":"The shop, on Kubernetes","apiVersion":"v2"}`),
			"application/vnd.cncf.helm.config.v1+json"),
		"layers": []any{r.blob([]byte("not really a tarball"), "application/vnd.cncf.helm.chart.content.v1.tar+gzip")}})
	s.chart = chart["digest"].(string)

	empty := r.blob([]byte("{}"), "application/vnd.oci.empty.v1+json")
	sig := r.manifest("sha256-"+strings.TrimPrefix(s.image, "sha256:")+".sig", ociManifest, map[string]any{
		"config": r.blob([]byte(`{"architecture":"","os":""}`), ociConfig),
		"layers": []any{r.blob([]byte(`{"critical":{}}`), "application/vnd.dev.cosign.simplesigning.v1+json")}})
	s.sig = sig["digest"].(string)
	sbomFields := map[string]any{"artifactType": "application/spdx+json", "config": empty, "subject": img,
		"layers": []any{withTitle(r.blob([]byte(`{"spdxVersion":"SPDX-2.3"}`), "application/spdx+json"), "sbom.spdx.json")}}
	s.sbom = r.manifest(digestOfFields(sbomFields, ociManifest), ociManifest, sbomFields)["digest"].(string)
	sbomDesc := map[string]any{"mediaType": ociManifest, "digest": s.sbom, "size": sizeOfFields(sbomFields, ociManifest)}
	sbomSig := map[string]any{"artifactType": "application/vnd.dev.sigstore.bundle.v0.3+json", "config": empty, "subject": sbomDesc,
		"layers": []any{r.blob([]byte(`{"bundle":1}`), "application/vnd.dev.sigstore.bundle.v0.3+json")}}
	r.manifest(digestOfFields(sbomSig, ociManifest), ociManifest, sbomSig)
	return s
}

func manifestBytes(fields map[string]any, mediaType string) []byte {
	doc := map[string]any{"schemaVersion": 2, "mediaType": mediaType}
	for k, v := range fields {
		doc[k] = v
	}
	b, _ := json.Marshal(doc)
	return b
}

func digestOfFields(fields map[string]any, mediaType string) string {
	return digest.FromBytes(manifestBytes(fields, mediaType)).String()
}

func sizeOfFields(fields map[string]any, mediaType string) int {
	return len(manifestBytes(fields, mediaType))
}

func withPlatform(d map[string]any, os, arch string) map[string]any {
	out := map[string]any{"platform": map[string]string{"os": os, "architecture": arch}}
	for k, v := range d {
		out[k] = v
	}
	return out
}

func withTitle(d map[string]any, title string) map[string]any {
	d["annotations"] = map[string]string{"org.opencontainers.image.title": title}
	return d
}

// The page of a tag shows what is inside, how to fetch it, and what is
// attached to it; each kind gets its own command.
func TestManifestPages(t *testing.T) {
	e := newEnv(t, "alice", "eve")
	s := e.stock("alice", "alice/shop")
	a := e.browser()
	a.signin("alice")
	hex := strings.TrimPrefix(s.image, "sha256:")
	for _, c := range []struct {
		path string
		want []string
		not  []string
	}{
		{"/r/alice/shop/tags/v1", []string{
			"Image</span>", `<code id="digest" tabindex="0">` + s.image + "</code>",
			`<code id="cmd-tag" tabindex="0">docker pull wharf.test/alice/shop:v1</code>`,
			`<code id="cmd-digest" tabindex="0">docker pull wharf.test/alice/shop@` + s.image + "</code>",
			`href="/r/alice/shop/tags/latest"`, // the other tag of the digest
			"ADD rootfs.tar /", "ENV APP_MODE=production", "no layer",
			"PATH=/usr/bin:/bin", `<code>[&#34;/bin/sh&#34;,&#34;-c&#34;]</code>`, "serve &amp;&amp; wait",
			"<code>8080/tcp</code>", "<code>/data</code>", "<code>/srv</code>", "2026-11-30 10:00 UTC",
			`<a href="https://git.example.com/shop" rel="nofollow noopener noreferrer">`, "&lt;b&gt;payments&lt;/b&gt;",
			"org.opencontainers.image.revision", "abc123",
			// Attached: the SBOM by subject, the cosign signature by tag,
			// and the SBOM's own signature below it.
			"SBOM</span>", `href="/r/alice/shop/digests/` + s.sbom + `"`, "application/spdx&#43;json",
			"Signature</span>", "as tag <code>sha256-" + hex + ".sig</code>", "application/vnd.dev.sigstore.bundle.v0.3&#43;json",
		}, []string{"<b>payments</b>", "No signatures", "config.v1&#43;json</span>"}},
		{"/r/alice/shop/tags/multi", []string{"Multi-platform image</span>", "linux/amd64", "linux/arm64",
			"attestation of", "Attestation</span>", `href="/r/alice/shop/digests/` + s.image + `"`, "(largest platform)",
			"docker pull wharf.test/alice/shop:multi"}, nil},
		{"/r/alice/shop/tags/1.2.3", []string{"Helm chart</span>", "helm pull oci://wharf.test/alice/shop --version 1.2.3",
			"shopchart", "The shop, on Kubernetes", "4.5"}, []string{"docker pull"}},
		{"/r/alice/shop/digests/" + s.chart, []string{"helm pull oci://wharf.test/alice/shop --version 1.2.3"}, nil},
		{"/r/alice/shop/tags/sha256-" + hex + ".sig", []string{"Signature</span>",
			"cosign verify --key cosign.pub wharf.test/alice/shop@" + s.image, "Attached to", `href="/r/alice/shop/digests/` + s.image + `"`}, nil},
		{"/r/alice/shop/digests/" + s.sbom, []string{"SBOM</span>", "oras pull wharf.test/alice/shop@" + s.sbom,
			"sbom.spdx.json", "Files", "Attached to", "Signature</span>"}, []string{"docker pull"}},
	} {
		a.shows(c.path, c.want, c.not)
	}
	for _, c := range []struct {
		path string
		want int
	}{
		{"/r/alice/shop/tags/nope", http.StatusNotFound},
		{"/r/alice/shop/tags/" + url.PathEscape("bad tag!"), http.StatusNotFound},
		{"/r/alice/shop/digests/sha256:abc", http.StatusBadRequest},
		{"/r/alice/shop/digests/sha256:" + strings.Repeat("0", 64), http.StatusNotFound},
		{"/r/alice/nothing/tags/v1", http.StatusNotFound},
	} {
		a.must(a.get(c.path), c.want, c.path)
	}
	// A private repository's manifests are as hidden as the repository.
	a.must(a.post("/r/alice/shop/settings", "/r/alice/shop/settings", url.Values{"visibility": {"private"}}), http.StatusSeeOther, "private")
	ev := e.browser()
	ev.signin("eve")
	for _, path := range []string{"/r/alice/shop/tags/v1", "/r/alice/shop/digests/" + s.image, "/r/alice/shop/tags/nope"} {
		p := ev.must(ev.get(path), http.StatusNotFound, path)
		if strings.Contains(p.body, "v1") && strings.Contains(p.body, s.image) {
			t.Errorf("%s leaks to eve", path)
		}
		if anon := e.browser().get(path); anon.status != http.StatusNotFound {
			t.Errorf("%s, signed out: %d", path, anon.status)
		}
	}
}

// The tags tab names each tag's kind, links it to its page, sizes each
// platform, and shows images or artifacts alone.
func TestTagsKindsAndFilter(t *testing.T) {
	e := newEnv(t, "alice")
	s := e.stock("alice", "alice/shop")
	a := e.browser()
	a.signin("alice")
	p := a.must(a.get("/r/alice/shop/tags"), http.StatusOK, "tags")
	for _, w := range []string{`href="/r/alice/shop/tags/multi"`, "Helm chart", "Multi-platform image", "Signature",
		"linux/arm64", `href="/r/alice/shop/tags/1.2.3"`} {
		if !strings.Contains(p.body, w) {
			t.Errorf("tags: no %q", w)
		}
	}
	images := a.must(a.get("/r/alice/shop/tags?show=images"), http.StatusOK, "images").body
	artifacts := a.must(a.get("/r/alice/shop/tags?show=artifacts"), http.StatusOK, "artifacts").body
	if !strings.Contains(images, "/tags/multi\"") || strings.Contains(images, "/tags/1.2.3\"") || strings.Contains(images, ".sig\"") {
		t.Errorf("show=images lists the wrong tags")
	}
	if strings.Contains(artifacts, "/tags/multi\"") || !strings.Contains(artifacts, "/tags/1.2.3\"") || !strings.Contains(artifacts, ".sig\"") {
		t.Errorf("show=artifacts lists the wrong tags")
	}
	a.must(a.get("/r/alice/shop/tags?show=bogus"), http.StatusBadRequest, "a bad show")
	// The API says the same.
	var tags []struct {
		Name, Kind   string
		ArtifactType string `json:"artifact_type"`
		Platforms    []struct {
			Architecture, Digest string
			Size                 int64
		}
	}
	getJSON := func(path string, v any) {
		t.Helper()
		req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
		req.SetBasicAuth("alice", pw)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %s", path, res.Status)
		}
		if err := json.NewDecoder(res.Body).Decode(v); err != nil {
			t.Fatal(err)
		}
	}
	getJSON("/api/v1/repositories/alice/shop/tags?show=artifacts", &tags)
	kinds := map[string]string{}
	for _, tg := range tags {
		kinds[tg.Name] = tg.Kind
	}
	if kinds["1.2.3"] != "helm" || kinds["sha256-"+strings.TrimPrefix(s.image, "sha256:")+".sig"] != "signature" || kinds["multi"] != "" {
		t.Errorf("API kinds: %v", kinds)
	}
	getJSON("/api/v1/repositories/alice/shop/tags?show=images", &tags)
	for _, tg := range tags {
		if tg.Name == "multi" && (len(tg.Platforms) != 2 || tg.Platforms[0].Digest == "" || tg.Platforms[0].Size == 0) {
			t.Errorf("multi's platforms: %+v", tg.Platforms)
		}
	}
	// And describes a manifest as its page does.
	var m struct {
		Kind      string
		Platforms []struct{ Platform, Kind string }
		Referrers []struct {
			Kind     string
			Children []struct{ Kind string }
		}
		Image struct{ Config struct{ Env []string } }
	}
	getJSON("/api/v1/repositories/alice/shop/manifests/multi", &m)
	if m.Kind != "index" || len(m.Platforms) != 3 || m.Platforms[1].Platform != "linux/arm64" || m.Platforms[2].Kind != "attestation" {
		t.Errorf("API multi: %+v", m)
	}
	getJSON("/api/v1/repositories/alice/shop/manifests/"+s.image, &m)
	if m.Kind != "image" || len(m.Referrers) != 2 || m.Referrers[0].Kind != "sbom" || len(m.Referrers[0].Children) != 1 ||
		len(m.Image.Config.Env) != 2 {
		t.Errorf("API image: %+v", m)
	}
	// A repository of charts offers helm, not docker, at its head.
	c := e.pusher("alice", "alice/charts")
	c.manifest("0.1.0", ociManifest, map[string]any{
		"config": c.blob([]byte(`{"name":"c","version":"0.1.0"}`), "application/vnd.cncf.helm.config.v1+json"),
		"layers": []any{c.blob([]byte("chart"), "application/vnd.cncf.helm.chart.content.v1.tar+gzip")}})
	if p := a.get("/r/alice/charts"); !strings.Contains(p.body, "helm pull oci://wharf.test/alice/charts --version 0.1.0") {
		t.Errorf("a chart repository's head command:\n%.2000s", p.body)
	}
}
