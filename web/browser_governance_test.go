package web_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/wharfhub/wharf/server"
)

// TestBrowserGovernance looks at an organization's page as its owner
// sees it, with a team, a robot and an immutable tag rule, in a real
// browser: it passes axe, and a team opens to be edited.
func TestBrowserGovernance(t *testing.T) {
	shots := browserE2E(t, "")
	e := openEnv(t, server.Options{}, "olivia", "tina")
	o := e.browser()
	o.signin("olivia")
	o.must(o.post("/settings", "/settings/orgs", url.Values{"name": {"beta"}}), http.StatusSeeOther, "org")
	o.must(o.post("/u/beta", "/u/beta/members", url.Values{"user": {"tina"}, "role": {"member"}}), http.StatusSeeOther, "member")
	o.must(o.post("/new", "/new", url.Values{"namespace": {"beta"}, "name": {"api"}, "visibility": {"private"}}), http.StatusSeeOther, "repo")
	o.must(o.post("/u/beta", "/u/beta/teams", url.Values{"name": {"backend"}, "permission": {"write"}, "repositories": {"api"},
		"members": {"tina"}, "description": {"The API's developers"}}), http.StatusSeeOther, "team")
	o.must(o.post("/u/beta", "/u/beta/robots", url.Values{"name": {"ci"}, "permissions": {"api write"}, "description": {"GitHub Actions"}}), http.StatusSeeOther, "robot")
	o.must(o.post("/u/beta", "/u/beta/immutable-tags", url.Values{"pattern": {"v*"}}), http.StatusSeeOther, "rule")
	// A retention policy on beta/api, with tags to weigh.
	for _, tag := range []string{"v1", "v2", "dev-1"} {
		r := e.pusher("olivia", "beta/api")
		cfg := r.blob([]byte(`{"architecture":"amd64","os":"linux","tag":"`+tag+`"}`), ociConfig)
		layer := r.blob([]byte(tag+" layer bytes, enough of them to count"), ociLayer)
		r.manifest(tag, ociManifest, map[string]any{"config": cfg, "layers": []any{layer}})
	}
	o.must(o.post("/r/beta/api/retention", "/r/beta/api/retention", url.Values{"keep_0": {"newest"}, "n_0": {"1"}, "pattern_0": {"v*"},
		"keep_1": {"pulled_within"}, "n_1": {"30"}, "untagged_days": {"14"}}), http.StatusSeeOther, "retention")
	_ = context.Background()

	cx := chrome(t, 2*time.Minute)
	run := runner(t, cx)
	shot := shooter(shots, false)
	run("sign in",
		chromedp.Navigate(e.srv.URL+"/signin"), chromedp.WaitVisible(chromedp.CSS(`input[name=username]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), "olivia"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), pw),
		chromedp.Submit(chromedp.CSS(`form[action="/signin"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/signout"]`)))
	run("the organization", chromedp.Navigate(e.srv.URL+"/u/beta"), chromedp.WaitVisible(chromedp.CSS("#teams")),
		chromedp.Click(chromedp.CSS("#teams details summary")), chromedp.WaitVisible(chromedp.CSS(`form[action="/u/beta/teams/backend"] textarea`)),
		shot("gov-01-org"))
	checkAxe(t, cx, "the organization's page with teams and robots")
	run("the retention page's preview", chromedp.Navigate(e.srv.URL+"/r/beta/api/retention"),
		chromedp.WaitVisible(chromedp.CSS("#retention-current")),
		chromedp.Click(chromedp.CSS(`form[action="/r/beta/api/retention/preview"] button`)),
		chromedp.WaitVisible(chromedp.CSS("#retention-preview table")), shot("gov-02-retention-preview"))
	checkAxe(t, cx, "the retention page with a preview")
}
