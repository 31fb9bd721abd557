package web_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/wharfhub/wharf/server"
)

// TestRobotPages: a namespace's owner makes a robot on its page, sees its
// secret once, and the secret works as docker login credentials would;
// a refused form says why; nobody else sees the robots.
func TestRobotPages(t *testing.T) {
	e := openEnv(t, server.Options{}, "alice", "mallory")
	a := e.browser()
	a.signin("alice")
	e.pushImage("alice", "alice/app", "v1")

	a.must(a.post("/u/alice", "/u/alice/robots", url.Values{"name": {"ci"}, "permissions": {"app write\nnope"}}), http.StatusSeeOther, "a bad line")
	if body := a.get("/u/alice").body; !strings.Contains(body, "one permission a line") {
		t.Errorf("the bad permissions are not explained:\n%.3000s", body)
	}
	a.must(a.post("/u/alice", "/u/alice/robots", url.Values{"name": {"ci"}, "permissions": {"ghost read"}}), http.StatusSeeOther, "a missing repository")
	if body := a.get("/u/alice").body; !strings.Contains(body, "no repository alice/ghost") {
		t.Errorf("the missing repository is not said:\n%.3000s", body)
	}
	a.must(a.post("/u/alice", "/u/alice/robots", url.Values{"name": {"ci"}, "description": {"builds"}, "permissions": {"app write"},
		"expires_days": {"30"}}), http.StatusSeeOther, "create")
	page := html.UnescapeString(a.get("/u/alice").body)
	m := regexp.MustCompile(`<code id="robot-secret">(wharf_robot_[A-Za-z0-9_-]+)</code>`).FindStringSubmatch(page)
	if m == nil || !strings.Contains(page, "<code>alice+ci</code>") || !strings.Contains(page, "<code>alice/app</code> write") {
		t.Fatalf("the new robot and its secret are not shown:\n%.6000s", page)
	}
	if again := a.get("/u/alice").body; strings.Contains(again, m[1]) {
		t.Error("the secret is shown twice")
	}
	req, _ := http.NewRequest("GET", e.srv.URL+"/v2/alice/app/tags/list", nil)
	req.SetBasicAuth("alice+ci", m[1])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("the robot's secret on /v2/: %d", res.StatusCode)
	}
	// A robot's secret is no way into the hub's pages.
	if p := e.browser().post("/signin", "/signin", url.Values{"username": {"alice+ci"}, "password": {m[1]}}); p.status != http.StatusUnauthorized ||
		!strings.Contains(p.body, "robot accounts are for docker") {
		t.Errorf("a robot signs in to the hub: %d", p.status)
	}
	mal := e.browser()
	mal.signin("mallory")
	if body := html.UnescapeString(mal.get("/u/alice").body); strings.Contains(body, "alice+ci") || strings.Contains(body, `id="robots"`) {
		t.Error("mallory sees alice's robots")
	}
	if p := mal.post("/u/mallory", "/u/alice/robots", url.Values{"name": {"evil"}}); p.status < 400 {
		t.Errorf("mallory makes a robot of alice: %d", p.status)
	}
	id := regexp.MustCompile(`/u/alice/robots/(\d+)/delete`).FindStringSubmatch(a.get("/u/alice").body)
	if id == nil {
		t.Fatal("no remove button")
	}
	// Its permissions change on the page: with none, it reads only what
	// is public.
	a.must(a.post("/u/alice", "/u/alice/robots/"+id[1], url.Values{"permissions": {"ghost write"}}), http.StatusSeeOther, "bad permissions")
	if body := a.get("/u/alice").body; !strings.Contains(body, "no repository alice/ghost") {
		t.Errorf("the missing repository is not said:\n%.3000s", body)
	}
	a.must(a.post("/u/alice", "/u/alice/robots/"+id[1], url.Values{"permissions": {""}}), http.StatusSeeOther, "no permissions")
	if body := html.UnescapeString(a.get("/u/alice").body); !strings.Contains(body, "none: it pulls only what is public") {
		t.Errorf("the robot's permissions are not gone:\n%.6000s", body)
	}
	a.must(a.post("/u/alice", "/u/alice/robots/"+id[1]+"/delete", nil), http.StatusSeeOther, "remove")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("a removed robot's secret: %d", res.StatusCode)
	}
}
