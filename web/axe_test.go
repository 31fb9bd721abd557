package web_test

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
)

// axeSource is axe-core's script, from the pinned npm package that
// scripts/browser-e2e.sh installs (WHARF_AXE names the file).
var axeSource = sync.OnceValues(func() (string, error) {
	path := os.Getenv("WHARF_AXE")
	if path == "" {
		path = "../.cache/axe/node_modules/axe-core/axe.min.js"
	}
	b, err := os.ReadFile(path)
	return string(b), err
})

// axeViolation is one rule axe-core found broken, with up to three of
// the elements that break it.
type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// axeRunJS runs the WCAG 2.1 A and AA rules on the page and keeps the
// serious and critical violations.
const axeRunJS = `axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}, resultTypes: ["violations"]})
  .then(r => r.violations.filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))})))`

// checkAxe fails t for every serious or critical accessibility violation
// axe-core finds on the current page (contrast, roles, names, labels), in
// light and dark.
func checkAxe(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	src, err := axeSource()
	if err != nil {
		t.Fatalf("axe-core: %v (scripts/browser-e2e.sh installs it)", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](src+";true")); err != nil {
		t.Fatalf("inject axe-core on %s: %v", page, err)
	}
	for _, scheme := range []string{"light", "dark"} {
		if err := chromedp.Do(ctx, colorScheme(scheme)); err != nil {
			t.Fatal(err)
		}
		vs, err := chromedp.Run(ctx, chromedp.Evaluate[[]axeViolation](axeRunJS, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("axe on %s: %v", page, err)
		}
		for _, v := range vs {
			t.Errorf("%s (%s): %s %s: %s at %s", page, scheme, v.Impact, v.ID, v.Help, strings.Join(v.Nodes, "; "))
		}
	}
	if err := chromedp.Do(ctx, colorScheme("")); err != nil {
		t.Fatal(err)
	}
}
