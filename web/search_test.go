package web_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wharfhub/wharf/server"
	"github.com/wharfhub/wharf/server/servertest"
)

// The header's search box is an ARIA 1.2 combobox: the input names the
// listbox it controls, which exists, with a status region to announce
// suggestions, and no inline script or style.
func TestSearchBoxIsCombobox(t *testing.T) {
	e := openEnv(t, server.Options{Search: true})
	p := e.browser().must(e.browser().get("/"), http.StatusOK, "home")
	input := regexp.MustCompile(`<input id="q"[^>]*>`).FindString(p.body)
	if input == "" {
		t.Fatalf("no search box:\n%.2000s", p.body)
	}
	for _, attr := range []string{`role="combobox"`, `aria-expanded="false"`, `aria-controls="q-suggest"`, `aria-autocomplete="list"`, `aria-describedby="q-hint"`, `data-suggest="/search/suggest"`} {
		if !strings.Contains(input, attr) {
			t.Errorf("search box lacks %s: %s", attr, input)
		}
	}
	if strings.Contains(input, "aria-activedescendant") {
		t.Errorf("search box has an active option before any list: %s", input)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`<ul class="suggest" id="q-suggest" role="listbox" aria-label="[^"]+" hidden></ul>`),
		regexp.MustCompile(`<span class="sr" id="q-hint">[^<]+</span>`),
		regexp.MustCompile(`id="q-status" role="status"`),
	} {
		if !want.MatchString(p.body) {
			t.Errorf("the page lacks %s", want)
		}
	}
	if regexp.MustCompile(`<script>|<script [^>]*>[^<]|\sstyle=|\son[a-z]+=`).MatchString(p.body) {
		t.Error("the page has inline script or style")
	}
}

// The search page finds a name with a typo, and not a private one for a
// visitor.
func TestSearchPageTypos(t *testing.T) {
	e := openEnv(t, server.Options{Search: true}, "bob")
	servertest.Run(t, e.app)
	bob := e.browser()
	bob.signin("bob")
	for name, vis := range map[string]string{"nginx": "public", "nginx-vault": "private"} {
		bob.must(bob.post("/new", "/new", map[string][]string{"namespace": {"bob"}, "name": {name}, "visibility": {vis},
			"description": {"A web server"}}), http.StatusSeeOther, name)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(bob.get("/search?q=nignx").body, `href="/r/bob/nginx-vault"`) {
		if time.Now().After(deadline) {
			t.Fatal("the owner does not find bob/nginx-vault by nignx within 5s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	body := e.browser().must(e.browser().get("/search?q=nignx"), http.StatusOK, "visitor search").body
	if !strings.Contains(body, `href="/r/bob/nginx"`) || strings.Contains(body, "nginx-vault") {
		t.Errorf("visitor searching nignx: want bob/nginx alone:\n%.3000s", body)
	}
	if !strings.Contains(body, ">1 repository<") {
		t.Errorf("visitor's count is not 1:\n%.3000s", body)
	}
}
