package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/wharfhub/wharf/server"
)

// TestTeamPages: an organization's owner makes teams on its page (a
// mistake said in the page's message), and with members reaching only
// what their teams allow, the organization's page and the repository's
// show a private repository to the team's member and to nobody else.
func TestTeamPages(t *testing.T) {
	e := openEnv(t, server.Options{}, "olivia", "tina", "tess")
	o := e.browser()
	o.signin("olivia")
	o.must(o.post("/settings", "/settings/orgs", url.Values{"name": {"beta"}}), http.StatusSeeOther, "org")
	for _, u := range []string{"tina", "tess"} {
		o.must(o.post("/u/beta", "/u/beta/members", url.Values{"user": {u}, "role": {"member"}}), http.StatusSeeOther, "member "+u)
	}
	o.must(o.post("/u/beta", "/u/beta/settings", url.Values{"description": {""}, "member_permission": {"none"}}), http.StatusSeeOther, "settings")
	o.must(o.post("/new", "/new", url.Values{"namespace": {"beta"}, "name": {"api"}, "visibility": {"private"}}), http.StatusSeeOther, "repo")

	o.must(o.post("/u/beta", "/u/beta/teams", url.Values{"name": {"devs"}, "permission": {"write"}, "repositories": {"api"},
		"members": {"tina\nstranger"}}), http.StatusSeeOther, "a team with a stranger")
	if body := o.get("/u/beta").body; !strings.Contains(body, "The user stranger is no member of beta") {
		t.Errorf("the stranger is not said:\n%.3000s", body)
	}
	o.must(o.post("/u/beta", "/u/beta/teams", url.Values{"name": {"devs"}, "permission": {"write"}, "repositories": {"api"},
		"members": {"tina"}}), http.StatusSeeOther, "team")
	if body := o.get("/u/beta").body; !strings.Contains(body, "<b>devs</b> · write on 1 repository · 1 member") {
		t.Errorf("the team is not listed:\n%.6000s", body)
	}
	tina, tess := e.browser(), e.browser()
	tina.signin("tina")
	tess.signin("tess")
	if body := tina.get("/u/beta").body; !strings.Contains(body, "beta/api") {
		t.Error("tina does not see beta/api, which her team holds")
	}
	if body := tess.get("/u/beta").body; strings.Contains(body, "beta/api") {
		t.Error("tess, in no team, sees beta/api")
	}
	if p := tess.get("/r/beta/api"); p.status != http.StatusNotFound {
		t.Errorf("tess opens beta/api: %d", p.status)
	}
	if p := tina.get("/r/beta/api"); p.status != http.StatusOK {
		t.Errorf("tina opens beta/api: %d", p.status)
	}
	// Saving the team without tina takes it away again.
	o.must(o.post("/u/beta", "/u/beta/teams/devs", url.Values{"permission": {"write"}, "repositories": {"api"}}), http.StatusSeeOther, "save")
	if p := tina.get("/r/beta/api"); p.status != http.StatusNotFound {
		t.Errorf("tina opens beta/api after leaving the team: %d", p.status)
	}
	if p := tina.post("/u/tina", "/u/beta/teams", url.Values{"name": {"mine"}, "permission": {"admin"}, "all_repositories": {"on"}, "members": {"tina"}}); p.status < 400 {
		t.Errorf("tina makes herself a team: %d", p.status)
	}
	o.must(o.post("/u/beta", "/u/beta/teams/devs/delete", nil), http.StatusSeeOther, "delete")
	if body := o.get("/u/beta").body; strings.Contains(body, "<b>devs</b>") {
		t.Error("the deleted team is listed")
	}
}
