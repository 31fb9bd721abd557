package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/opencontainers/go-digest"

	"github.com/wharfhub/wharf/server"
	"github.com/wharfhub/wharf/server/config"
	"github.com/wharfhub/wharf/server/servertest"
)

// pushImage pushes a tiny linux/amd64 image to repo:tag through /v2/.
func (e *env) pushImage(user, repo, tag string) {
	e.t.Helper()
	r := e.pusher(user, repo)
	cfg := r.blob([]byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`), ociConfig)
	layer := r.blob(bytes.Repeat([]byte("wharf layer "), 4000), ociLayer)
	r.manifest(tag, ociManifest, map[string]any{"config": cfg, "layers": []any{layer}})
}

const (
	ociManifest = "application/vnd.oci.image.manifest.v1+json"
	ociIndex    = "application/vnd.oci.image.index.v1+json"
	ociConfig   = "application/vnd.oci.image.config.v1+json"
	ociLayer    = "application/vnd.oci.image.layer.v1.tar+gzip"
)

// pusher pushes blobs and manifests of one repository as one user.
type pusher struct {
	e          *env
	user, repo string
}

func (e *env) pusher(user, repo string) *pusher { return &pusher{e: e, user: user, repo: repo} }

func (r *pusher) put(method, path string, body []byte, ct string) *http.Response {
	r.e.t.Helper()
	req, _ := http.NewRequest(method, r.e.srv.URL+path, bytes.NewReader(body))
	req.SetBasicAuth(r.user, pw)
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		r.e.t.Fatal(err)
	}
	res.Body.Close()
	return res
}

// blob pushes b and returns its descriptor, of mediaType.
func (r *pusher) blob(b []byte, mediaType string) map[string]any {
	r.e.t.Helper()
	d := digest.FromBytes(b)
	if res := r.put("POST", "/v2/"+r.repo+"/blobs/uploads/?digest="+d.String(), b, ""); res.StatusCode != 201 {
		r.e.t.Fatalf("push blob: %s", res.Status)
	}
	return map[string]any{"mediaType": mediaType, "digest": d.String(), "size": len(b)}
}

// manifest pushes fields (plus schemaVersion and mediaType) as ref, and
// returns its descriptor.
func (r *pusher) manifest(ref, mediaType string, fields map[string]any) map[string]any {
	r.e.t.Helper()
	doc := map[string]any{"schemaVersion": 2, "mediaType": mediaType}
	for k, v := range fields {
		doc[k] = v
	}
	b, _ := json.Marshal(doc)
	if res := r.put("PUT", "/v2/"+r.repo+"/manifests/"+ref, b, mediaType); res.StatusCode != 201 {
		r.e.t.Fatalf("push manifest %s: %s", ref, res.Status)
	}
	return map[string]any{"mediaType": mediaType, "digest": digest.FromBytes(b).String(), "size": len(b)}
}

// TestBrowserJourney drives headless Chromium through a whole visit and
// saves screenshots of the main pages. make test installs Chromium and
// sets WHARF_BROWSER_E2E=1.
func TestBrowserJourney(t *testing.T) {
	shots := browserE2E(t, "")
	e := configEnv(t, func(c *config.Config) { c.BaseURL = "" }, server.Options{Search: true}, "friend", "bob")
	servertest.Run(t, e.app)
	// Something public to find, star and discuss.
	bob := e.browser()
	bob.signin("bob")
	bob.must(bob.post("/new", "/new", map[string][]string{"namespace": {"bob"}, "name": {"toolbox"}, "visibility": {"public"},
		"description": {"Handy tools for debugging containers"}}), http.StatusSeeOther, "public repo")
	bob.must(bob.post("/r/bob/toolbox/settings", "/r/bob/toolbox/settings", map[string][]string{"visibility": {"public"},
		"description": {"Handy tools for debugging containers"},
		"readme":      {"# Toolbox\n\nA small image with **curl**, `dig` and friends.\n\n```sh\ndocker run --rm -it toolbox\n```\n\n| tool | why |\n|---|---|\n| curl | HTTP |\n| dig | DNS |\n"}}), http.StatusSeeOther, "readme")
	e.pushImage("bob", "bob/toolbox", "latest")

	ctx := chrome(t, 3*time.Minute)

	base := e.srv.URL
	shot := shooter(shots, false)
	run := runner(t, ctx)
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}

	run("home", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("h1")), shot("01-home"))
	checkAxe(t, ctx, "the home page")
	checkContrast(t, ctx, "the home page", "header a, header button, main .btn, main a")
	run("sign up",
		chromedp.Navigate(base+"/signup"), chromedp.WaitVisible(chromedp.CSS(`input[name=username]`)), shot("02-signup"),
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), "journey"),
		chromedp.SendKeys(chromedp.CSS(`input[name=email]`), "journey@example.com"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), pw),
		chromedp.SendKeys(chromedp.CSS(`input[name=password2]`), pw),
		chromedp.Submit(chromedp.CSS(`form[action="/signup"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.flash-ok`)))
	run("sign out", chromedp.Click(chromedp.CSS(`form[action="/signout"] button`)), chromedp.WaitVisible(chromedp.CSS(`a[href="/signin"]`)))
	run("sign in",
		chromedp.Navigate(base+"/signin"), chromedp.WaitVisible(chromedp.CSS(`input[name=username]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), "journey"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), pw),
		chromedp.Submit(chromedp.CSS(`form[action="/signin"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/signout"]`)))
	checkContrast(t, ctx, "the dashboard", "header a, header button, main .btn, main a")
	run("create a private repository",
		chromedp.Navigate(base+"/new"), chromedp.WaitVisible(chromedp.CSS(`input[name=name]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=name]`), "secret-app"),
		chromedp.SendKeys(chromedp.CSS(`input[name=description]`), "Our private service"),
		chromedp.Click(chromedp.CSS(`input[value=private]`)), shot("03-new-repository"),
		chromedp.Submit(chromedp.CSS(`form[action="/new"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.badge-private`)))
	e.pushImage("journey", "journey/secret-app", "v1")
	run("repository page", chromedp.Navigate(base+"/r/journey/secret-app"), chromedp.WaitVisible(chromedp.CSS("#pullcmd")), shot("04-repository"))
	checkAxe(t, ctx, "a repository")
	if cmd := text("#pullcmd"); !strings.Contains(cmd, "/journey/secret-app:v1") {
		t.Fatalf("pull command %q", cmd)
	}
	run("tags", chromedp.Navigate(base+"/r/journey/secret-app/tags"), chromedp.WaitVisible(chromedp.CSS("table.tags")), shot("05-tags"))
	checkAxe(t, ctx, "the tags tab")
	if tags := text("table.tags tbody"); !strings.Contains(tags, "v1") || !strings.Contains(tags, "linux/amd64") || !strings.Contains(tags, "journey") {
		t.Fatalf("tags table: %q", tags)
	}
	run("add a collaborator",
		chromedp.Navigate(base+"/r/journey/secret-app/settings"), chromedp.WaitVisible(chromedp.CSS(`#collaborators input[name=user]`)),
		chromedp.SendKeys(chromedp.CSS(`#collaborators input[name=user]`), "friend"),
		chromedp.Submit(chromedp.CSS(`#collaborators form.form-inline`)),
		chromedp.WaitVisible(chromedp.CSS(`#collaborators table`)), shot("06-settings"))
	checkAxe(t, ctx, "repository settings")
	if c := text("#collaborators table"); !strings.Contains(c, "friend") {
		t.Fatalf("collaborators: %q", c)
	}
	run("add a webhook",
		chromedp.SendKeys(chromedp.CSS(`#webhooks input[name=name]`), "deploy"),
		chromedp.SendKeys(chromedp.CSS(`#webhooks input[name=url]`), "https://deploy.example.com/hook"),
		chromedp.SendKeys(chromedp.CSS(`#webhooks input[name=secret]`), "s3cret"),
		chromedp.Submit(chromedp.CSS(`#webhooks form.form-inline`)),
		chromedp.WaitVisible(chromedp.CSS(`#webhooks table a`)),
		chromedp.Click(chromedp.CSS(`#webhooks table a`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/test"] button`)),
		chromedp.Click(chromedp.CSS(`form[action$="/test"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`.deliveries .delivery summary`)),
		chromedp.Click(chromedp.CSS(`.deliveries .delivery summary`)),
		chromedp.WaitVisible(chromedp.CSS(`.deliveries .delivery .delivery-body`)), shot("06b-webhook"))
	checkAxe(t, ctx, "a webhook")
	run("star a public repository",
		chromedp.Navigate(base+"/r/bob/toolbox"), chromedp.WaitVisible(chromedp.CSS("#star-button")),
		chromedp.Click(chromedp.CSS("#star-button")), chromedp.WaitVisible(chromedp.CSS(`form[action="/r/bob/toolbox/unstar"]`)),
		shot("07-public-repository"))
	if n := text("#star-count"); n != "1" {
		t.Fatalf("star count %q", n)
	}
	run("preview a comment",
		chromedp.Navigate(base+"/r/bob/toolbox/comments"), chromedp.WaitVisible(chromedp.CSS(`textarea[name=body]`)),
		chromedp.SendKeys(chromedp.CSS(`form[action="/r/bob/toolbox/comments"] textarea`), "Works great with **dig**!"),
		chromedp.Click(chromedp.CSS(`#comment-form button[name=preview]`)),
		chromedp.WaitVisible(chromedp.CSS(`.preview strong`)), shot("08a-comment-preview"))
	checkAxe(t, ctx, "a comment's preview")
	if p := text(".preview"); !strings.Contains(p, "Works great with dig!") {
		t.Fatalf("preview: %q", p)
	}
	run("comment",
		chromedp.Submit(chromedp.CSS(`form[action="/r/bob/toolbox/comments"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.comment strong`)), shot("08-comments"))
	checkAxe(t, ctx, "comments")
	run("search as you type",
		chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(`#q`)),
		chromedp.SendKeys(chromedp.CSS(`#q`), "toolb"),
		chromedp.WaitVisible(chromedp.CSS(`.suggest a[href="/r/bob/toolbox"]`)))
	run("search results", chromedp.Navigate(base+"/search?q=debugging"), chromedp.WaitVisible(chromedp.CSS(".results")), shot("09-search"))
	checkAxe(t, ctx, "search results")
	if r := text(".results"); !strings.Contains(r, "bob/toolbox") {
		t.Fatalf("search results: %q", r)
	}
	run("explore", chromedp.Navigate(base+"/explore"), chromedp.WaitVisible(chromedp.CSS(".grid")), shot("10-explore"))
	checkAxe(t, ctx, "explore")
	run("account settings", chromedp.Navigate(base+"/settings"), chromedp.WaitVisible(chromedp.CSS("#tokens")), shot("11-account-settings"))
	checkAxe(t, ctx, "account settings")
	// Inside what a team ships: a multi-platform image, its signature and
	// SBOM, a Helm chart; the tags tab filtered to artifacts.
	shop := e.stock("journey", "journey/shop")
	// And a CycloneDX SBOM attached with the oras CLI, as a team would.
	orasAttach(t, e, "journey", "journey/shop@"+shop.image, "application/vnd.cyclonedx+json", "bom.cdx.json", `{"bomFormat":"CycloneDX","specVersion":"1.5"}`)
	// And a Sigstore bundle, the way cosign 2 attaches a signature.
	orasAttach(t, e, "journey", "journey/shop@"+shop.image, "application/vnd.dev.sigstore.bundle.v0.3+json", "sig.sigstore.json", `{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`)
	run("a multi-platform tag", chromedp.Navigate(base+"/r/journey/shop/tags/multi"), chromedp.WaitVisible(chromedp.CSS("table.platforms")), shot("14-multi-platform"))
	checkAxe(t, ctx, "a multi-platform tag")
	if p := text("table.platforms"); !strings.Contains(p, "linux/arm64") || !strings.Contains(p, "attestation of") {
		t.Fatalf("platforms: %q", p)
	}
	run("an image, its history and what is attached", chromedp.Navigate(base+"/r/journey/shop/tags/v1"), chromedp.WaitVisible(chromedp.CSS("table.history")), shot("15-image"))
	if r := text(".referrers"); !strings.Contains(r, "SBOM") || !strings.Contains(r, "Signature") || !strings.Contains(r, "cyclonedx") ||
		strings.Count(r, "sigstore.bundle") < 2 {
		t.Fatalf("referrers: %q", r)
	}
	checkAxe(t, ctx, "an image's page")
	run("a Helm chart", chromedp.Navigate(base+"/r/journey/shop/digests/"+shop.chart), chromedp.WaitVisible(chromedp.CSS("#cmd-tag, #cmd-digest")), shot("16-helm"))
	checkAxe(t, ctx, "a Helm chart's page")
	run("artifacts only", chromedp.Navigate(base+"/r/journey/shop/tags"), chromedp.WaitVisible(chromedp.CSS("select[name=show]")),
		chromedp.SetValue(chromedp.CSS("select[name=show]"), "artifacts"), chromedp.Submit(chromedp.CSS("form.tag-filter")),
		chromedp.WaitVisible(chromedp.CSS("#tag-count")), shot("17-artifacts"))
	if c := text("#tag-count"); !strings.Contains(c, "artifacts") {
		t.Fatalf("filtered count: %q", c)
	}
	checkAxe(t, ctx, "the tags tab, filtered")
	run("pick two tags and ask to delete them", chromedp.Navigate(base+"/r/journey/shop/tags?sort=name"), chromedp.WaitVisible(chromedp.CSS("#tags-form")),
		chromedp.Click(chromedp.CSS(`input[name=tag][value="1.2.3"]`)), chromedp.Click(chromedp.CSS(`input[name=tag][value="provenance"]`)),
		shot("19-tags-picked"), chromedp.Submit(chromedp.CSS("#tags-form")), chromedp.WaitVisible(chromedp.CSS("#confirm-delete")), shot("20-confirm-delete"))
	if h := text("#confirm-title"); h != "Delete 2 tags and 1 manifest?" {
		t.Fatalf("confirmation: %q", h)
	}
	checkAxe(t, ctx, "the deletion's confirmation")
	run("confirm", chromedp.Click(chromedp.CSS("#confirm-delete")), chromedp.WaitVisible(chromedp.CSS(".flash-ok")))
	if f := text(".flash-ok"); !strings.Contains(f, "Deleted 2 tags and 1 manifest.") {
		t.Fatalf("after the deletion: %q", f)
	}
	if tags := text("table.tags tbody"); strings.Contains(tags, "1.2.3") || strings.Contains(tags, "provenance") || !strings.Contains(tags, "multi") {
		t.Fatalf("tags after the deletion: %q", tags)
	}
	// Dark, as a person with that preference sees them.
	for _, p := range []struct{ name, path string }{{"21-dark-image", "/r/journey/shop/tags/v1"}, {"22-dark-tags", "/r/journey/shop/tags"}, {"23-dark-multi", "/r/journey/shop/tags/multi"}} {
		run(p.name, colorScheme("dark"), chromedp.Navigate(base+p.path), chromedp.WaitVisible(chromedp.CSS("main")), shot(p.name), colorScheme(""))
	}
	run("sign out again", chromedp.Navigate(base+"/"), chromedp.Click(chromedp.CSS(`form[action="/signout"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/signin"]`)))
	run("the private repository is gone for a visitor",
		chromedp.Navigate(base+"/r/journey/secret-app"), chromedp.WaitVisible(chromedp.CSS(".error-page")), shot("12-private-as-visitor"))
	checkAxe(t, ctx, "the 404 page")
	if h := text(".error-code"); h != "404" {
		t.Fatalf("visitor sees %q", h)
	}
	for _, page := range []string{"/explore", "/search?q=secret", "/search?q=private+service"} {
		run("as visitor "+page, chromedp.Navigate(base+page), chromedp.WaitVisible(chromedp.CSS("main")))
		if strings.Contains(text("main"), "secret-app") {
			t.Fatalf("%s shows the private repository to a visitor", page)
		}
	}
	run("phone width", chromedp.EmulateViewport(390, 844), chromedp.Navigate(base+"/r/bob/toolbox"), chromedp.WaitVisible(chromedp.CSS("#pullcmd")), shot("13-phone"))
	overflow, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
	if err != nil {
		t.Fatal(err)
	}
	if overflow {
		t.Error("the repository page scrolls sideways at phone width")
	}
	for i, page := range []string{"/r/journey/shop/tags/v1", "/r/journey/shop/tags/multi", "/r/journey/shop/tags"} {
		run("phone "+page, chromedp.Navigate(base+page), chromedp.WaitVisible(chromedp.CSS("main")), shot(fmt.Sprintf("18-phone-%d", i)))
		overflow, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
		if err != nil {
			t.Fatal(err)
		}
		if overflow {
			t.Errorf("%s scrolls sideways at phone width", page)
		}
	}
	run("phone, dark", colorScheme("dark"), chromedp.Navigate(base+"/r/journey/shop/tags/v1"), chromedp.WaitVisible(chromedp.CSS("main")), shot("24-phone-dark"), colorScheme(""))
	t.Logf("screenshots in %s", shots)
}

// orasAttach attaches a file to ref (repo@digest) with the oras CLI
// (WHARF_ORAS, or the one scripts/browser-e2e.sh builds into .cache/bin).
func orasAttach(t *testing.T, e *env, user, ref, artifactType, name, content string) {
	t.Helper()
	oras := os.Getenv("WHARF_ORAS")
	if oras == "" {
		oras = "../.cache/bin/oras"
	}
	oras, err := filepath.Abs(oras)
	if err == nil {
		_, err = os.Stat(oras)
	}
	if err != nil {
		t.Fatalf("oras: %v (scripts/browser-e2e.sh builds it)", err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(e.srv.URL, "http://")
	cmd := exec.Command(oras, "attach", "--plain-http", "--no-tty", "-u", user, "-p", pw, "--artifact-type", artifactType,
		host+"/"+ref, name+":"+artifactType)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+dir, "DOCKER_CONFIG="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("oras attach: %v\n%s", err, out)
	}
}

func chromiumPath() string {
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "chromium"
}
