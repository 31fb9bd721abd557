package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wharfhub/wharf/server"
	"github.com/wharfhub/wharf/server/servertest"
	"github.com/wharfhub/wharf/server/testutil"
)

// TestTrustPages registers a key and a policy through the settings forms
// and checks what the tags list, the tag page and the repository page
// then say of a cosign-signed image.
func TestTrustPages(t *testing.T) {
	// The job worker wakes on the push and on the new key: no polling.
	e := openEnv(t, server.Options{}, "alice", "mallory")
	servertest.Run(t, e.app)
	a := e.browser()
	a.signin("alice")
	e.pushImage("alice", "alice/app", "v1")
	img, err := e.app.DB.Manifests.GetTagged(t.Context(), "alice/app", "v1")
	if err != nil {
		t.Fatal(err)
	}
	ci := testutil.NewSigner(t)
	payload, sig := ci.SimpleSigning(t, "wharf.test/alice/app", img.Digest)
	p := e.pusher("alice", "alice/app")
	layer := p.blob(payload, "application/vnd.dev.cosign.simplesigning.v1+json")
	layer["annotations"] = map[string]string{"dev.cosignproject.cosign/signature": sig}
	p.manifest("sha256-"+strings.TrimPrefix(img.Digest, "sha256:")+".sig", ociManifest,
		map[string]any{"config": p.blob([]byte(`{}`), ociConfig), "layers": []any{layer}})

	refused := a.must(a.post("/r/alice/app/settings", "/r/alice/app/signing-keys", url.Values{"name": {"ci"}, "public_key": {"not a key"}}),
		http.StatusBadRequest, "a bad key")
	if !strings.Contains(refused.body, `id="keys-error"`) || !strings.Contains(refused.body, "not a PEM public key") {
		t.Errorf("the bad key's error is not next to its form:\n%.3000s", refused.body)
	}
	a.must(a.post("/r/alice/app/settings", "/r/alice/app/signing-keys", url.Values{"name": {"ci"}, "public_key": {ci.PEM}}),
		http.StatusSeeOther, "add key")
	if !strings.Contains(a.get("/r/alice/app/settings").body, "<b>ci</b>") {
		t.Error("the settings do not list the key")
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(a.get("/r/alice/app/tags").body, "✓ Signed") {
		if time.Now().After(deadline) {
			t.Fatal("the tags list never shows the image as signed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	tag := a.get("/r/alice/app/tags/v1").body
	if !strings.Contains(tag, `id="signatures"`) || !strings.Contains(tag, "✓ Verified") || !strings.Contains(tag, "key ci") {
		t.Errorf("the tag page does not list the verified signature:\n%.6000s", tag)
	}
	if strings.Contains(a.get("/r/alice/app").body, `id="policy-note"`) {
		t.Error("a policy note without a policy")
	}
	a.must(a.post("/r/alice/app/settings", "/r/alice/app/policy", url.Values{"require_signature": {"on"}}), http.StatusSeeOther, "policy")
	p.manifest("unsigned-newer", ociManifest, map[string]any{"config": p.blob([]byte(`{"architecture":"arm64","os":"linux"}`), ociConfig),
		"layers": []any{p.blob([]byte("other bytes"), ociLayer)}})
	repo := a.get("/r/alice/app").body
	if !strings.Contains(repo, `id="policy-note"`) {
		t.Error("the repository page does not show its policy")
	}
	// The pull command names what the policy lets through.
	if !strings.Contains(repo, "alice/app:v1</code>") {
		t.Errorf("the pull command does not name the signed tag:\n%.3000s", repo)
	}
	// The namespace's owner manages its keys and policy on its page.
	a.must(a.post("/u/alice", "/u/alice/signing-keys", url.Values{"name": {"org-ci"}, "public_key": {"nope"}}), http.StatusSeeOther, "a bad namespace key")
	if body := a.get("/u/alice").body; !strings.Contains(body, "not a PEM public key") {
		t.Errorf("the namespace page does not say why the key was refused:\n%.3000s", body)
	}
	a.must(a.post("/u/alice", "/u/alice/signing-keys", url.Values{"name": {"org-ci"}, "public_key": {testutil.NewSigner(t).PEM}}), http.StatusSeeOther, "namespace key")
	a.must(a.post("/u/alice", "/u/alice/policy", url.Values{"require_signature": {"on"}}), http.StatusSeeOther, "namespace policy")
	ns := a.get("/u/alice").body
	if !strings.Contains(ns, "<b>org-ci</b>") || !strings.Contains(ns, `name="require_signature" checked`) {
		t.Errorf("the namespace page does not show its key and policy:\n%.6000s", ns)
	}
	keys, err := e.app.Hub.Trust.Keys(t.Context(), mustID(t, e, "alice"), hubTarget("alice/app"))
	if err != nil || len(keys) != 1 {
		t.Errorf("the repository's own keys: %v %v", keys, err)
	}
	// Nobody else sees or changes them.
	m := e.browser()
	m.signin("mallory")
	if body := m.get("/u/alice").body; strings.Contains(body, "org-ci") || strings.Contains(body, `id="signing-keys"`) {
		t.Error("another user sees alice's signing keys")
	}
	if p := m.post("/u/mallory", "/u/alice/policy", url.Values{}); p.status < 400 {
		t.Errorf("mallory changes alice's policy: %d", p.status)
	}
}
