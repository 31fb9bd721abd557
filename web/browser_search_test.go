package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/wharfhub/wharf/server"
	"github.com/wharfhub/wharf/server/servertest"
)

// TestBrowserSearch drives the header's search box with the keyboard in
// headless Chromium: typing opens the suggestions, the arrow keys move
// the active option (aria-activedescendant, aria-selected), Enter opens
// it, or searches when none is active, Escape closes the list, and the
// mouse still opens a suggestion. It saves screenshots of the open list,
// light and dark, in WHARF_SCREENSHOTS. make test installs Chromium and
// sets WHARF_BROWSER_E2E=1.
func TestBrowserSearch(t *testing.T) {
	shots := browserE2E(t, "")
	e := openEnv(t, server.Options{Search: true}, "bob")
	servertest.Run(t, e.app)
	bob := e.browser()
	bob.signin("bob")
	for _, name := range []string{"toolbox", "toolkit", "toolshed"} {
		bob.must(bob.post("/new", "/new", map[string][]string{"namespace": {"bob"}, "name": {name}, "visibility": {"public"},
			"description": {"Tools"}}), http.StatusSeeOther, name)
	}
	var want []string
	for deadline := time.Now().Add(5 * time.Second); len(want) != 3; {
		var items []struct{ Name string }
		_ = json.Unmarshal([]byte(e.browser().get("/search/suggest?q=tool").body), &items)
		want = want[:0]
		for _, it := range items {
			want = append(want, it.Name)
		}
		if len(want) != 3 && time.Now().After(deadline) {
			t.Fatalf("suggestions for tool are %v, want three, within 5s", want)
		}
		if len(want) != 3 {
			time.Sleep(20 * time.Millisecond)
		}
	}

	ctx := chrome(t, 2*time.Minute)

	base := e.srv.URL
	run := runner(t, ctx)
	// until waits for a JavaScript condition on the page.
	until := func(step, cond string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](cond, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
			t.Fatalf("%s: %s is not true: %v", step, cond, err)
		}
	}
	// arrive waits for the page to be at path?query, through the
	// navigation, which Poll does not survive.
	arrive := func(step, want string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			loc, err := chromedp.Run(ctx, chromedp.Location())
			if u, perr := url.Parse(loc); err == nil && perr == nil && u.RequestURI() == want {
				if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("main"))); err != nil {
					t.Fatalf("%s: %v", step, err)
				}
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the page is at %q (%v), want %s", step, loc, err, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	eval := func(expr string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		return s
	}
	shot := shooter(shots, true)
	const (
		expanded = `document.querySelector("#q").getAttribute("aria-expanded")`
		activeID = `(document.querySelector("#q").getAttribute("aria-activedescendant") || "")`
		selected = `[...document.querySelectorAll("#q-suggest [role=option][aria-selected=true]")].map(o => o.id).join(",")`
		open     = `document.querySelectorAll("#q-suggest [role=option]").length === 3 && ` + expanded + ` === "true"`
	)
	typeTool := func(step string) {
		t.Helper()
		run(step, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(`#q`)))
		if got := eval(expanded); got != "false" {
			t.Fatalf("%s: aria-expanded %q before typing", step, got)
		}
		run(step, chromedp.SendKeys(chromedp.CSS(`#q`), "tool"))
		until(step, open)
	}

	typeTool("type a prefix")
	var shown []string
	if err := json.Unmarshal([]byte(eval(`JSON.stringify([...document.querySelectorAll("#q-suggest [role=option]")].map(o => o.textContent))`)), &shown); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(shown, want) {
		t.Fatalf("the list shows %v, want %v", shown, want)
	}
	if got := eval(activeID); got != "" {
		t.Errorf("an option is active before any arrow key: %q", got)
	}
	until("the list is announced", `document.querySelector("#q-status").textContent === "3 suggestions."`)
	run("ArrowDown", chromedp.KeyEvent(kb.ArrowDown))
	until("the first option is active", activeID+` === "q-suggest-0" && `+selected+` === "q-suggest-0"`)
	run("ArrowDown again", chromedp.KeyEvent(kb.ArrowDown))
	until("the second option is active", activeID+` === "q-suggest-1" && `+selected+` === "q-suggest-1"`)
	if got := eval(`document.getElementById(` + activeID + `).textContent`); got != want[1] {
		t.Errorf("the active option is %q, want %q", got, want[1])
	}
	run("screenshots of the open list", shot("search-suggest-light"), colorScheme("dark"), shot("search-suggest-dark"), colorScheme(""))
	run("Enter", chromedp.KeyEvent(kb.Enter))
	arrive("Enter opens the second suggestion", "/r/"+want[1])

	typeTool("ArrowUp wraps")
	run("ArrowUp", chromedp.KeyEvent(kb.ArrowUp))
	until("ArrowUp from none is the last option", activeID+` === "q-suggest-2" && `+selected+` === "q-suggest-2"`)
	run("Escape", chromedp.KeyEvent(kb.Escape))
	until("Escape closes the list", expanded+` === "false" && document.querySelector("#q-suggest").hidden && `+activeID+` === ""`)
	if got := eval(`document.querySelector("#q").value`); got != "tool" {
		t.Errorf("Escape with the list open changed the text to %q", got)
	}
	run("ArrowDown opens a closed list", chromedp.KeyEvent(kb.ArrowDown))
	until("ArrowDown reopens the list", open)
	run("Enter with no active option", chromedp.KeyEvent(kb.Enter))
	arrive("Enter searches", "/search?q=tool")

	typeTool("the mouse")
	run("click a suggestion", chromedp.Click(chromedp.CSS(`#q-suggest a[href="/r/`+want[2]+`"]`)))
	arrive("a click opens it", "/r/"+want[2])
	t.Logf("screenshots in %s", shots)
}
