package static

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// rule is one CSS rule: the @media it is in ("" for none), its selectors
// and its declarations.
type rule struct {
	media     string
	selectors []string
	decls     map[string]string
}

var cssComment = regexp.MustCompile(`(?s)/\*.*?\*/`)

// parseCSS reads the rules of a stylesheet as simple as Wharf's: rules
// and @media blocks of rules, nothing nested deeper.
func parseCSS(t *testing.T, css, media string) []rule {
	t.Helper()
	css = cssComment.ReplaceAllString(css, "")
	var rules []rule
	for {
		open := strings.IndexByte(css, '{')
		if open < 0 {
			if strings.TrimSpace(css) != "" {
				t.Fatalf("CSS left over: %q", css)
			}
			return rules
		}
		prelude := strings.TrimSpace(css[:open])
		depth, end := 0, -1
		for i := open; i < len(css) && end < 0; i++ {
			switch css[i] {
			case '{':
				depth++
			case '}':
				if depth--; depth == 0 {
					end = i
				}
			}
		}
		if end < 0 {
			t.Fatalf("unbalanced braces after %q", prelude)
		}
		body := css[open+1 : end]
		css = css[end+1:]
		if strings.HasPrefix(prelude, "@media") {
			rules = append(rules, parseCSS(t, body, prelude)...)
			continue
		}
		r := rule{media: media, decls: map[string]string{}}
		for _, s := range strings.Split(prelude, ",") {
			r.selectors = append(r.selectors, strings.Join(strings.Fields(s), " "))
		}
		for _, d := range strings.Split(body, ";") {
			if k, v, ok := strings.Cut(d, ":"); ok {
				r.decls[strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
		}
		rules = append(rules, r)
	}
}

// declared is what the rules outside @media give selector for property,
// the last one winning; "" if none does.
func declared(rules []rule, selector, property string) string {
	v := ""
	for _, r := range rules {
		if r.media != "" {
			continue
		}
		for _, s := range r.selectors {
			if s == selector {
				if d, ok := r.decls[property]; ok {
					v = d
				}
			}
		}
	}
	return v
}

// variables are the custom properties of :root, in light (media "") and
// in the dark theme's @media, which overrides the light ones.
func variables(rules []rule, dark bool) map[string]string {
	vars := map[string]string{}
	for _, pass := range []bool{false, true} {
		if pass && !dark {
			break
		}
		for _, r := range rules {
			isDark := strings.Contains(r.media, "prefers-color-scheme: dark")
			if (r.media == "" && !pass) || (isDark && pass) {
				for _, s := range r.selectors {
					if s == ":root" {
						for k, v := range r.decls {
							if strings.HasPrefix(k, "--") {
								vars[k] = v
							}
						}
					}
				}
			}
		}
	}
	return vars
}

// luminance is the WCAG relative luminance of a #rrggbb color.
func luminance(t *testing.T, hex string) float64 {
	t.Helper()
	if len(hex) != 7 || hex[0] != '#' {
		t.Fatalf("color %q is not #rrggbb", hex)
	}
	var c [3]float64
	for i := range c {
		n, err := strconv.ParseUint(hex[1+2*i:3+2*i], 16, 8)
		if err != nil {
			t.Fatalf("color %q: %v", hex, err)
		}
		v := float64(n) / 255
		if v <= 0.04045 {
			c[i] = v / 12.92
		} else {
			c[i] = math.Pow((v+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*c[0] + 0.7152*c[1] + 0.0722*c[2]
}

func contrast(t *testing.T, a, b string) float64 {
	la, lb := luminance(t, a), luminance(t, b)
	return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)
}

// Rendered Markdown, in READMEs and comments: a block quote has a left
// border and muted text that keeps AA contrast in both themes, and a
// table scrolls sideways instead of breaking its words on a phone.
func TestMarkdownStyles(t *testing.T) {
	css, err := FS.ReadFile("style.css")
	if err != nil {
		t.Fatal(err)
	}
	rules := parseCSS(t, string(css), "")
	for _, root := range []string{".readme", ".comment-body"} {
		tests := []struct{ selector, property, want string }{
			{root + " blockquote", "color", "var(--muted)"},
			{root + " blockquote", "border-left", "4px solid var(--quote)"},
			{root + " table", "display", "block"},
			{root + " table", "overflow-x", "auto"},
			{root + " table", "max-width", "100%"},
			{root + " th", "word-break", "normal"},
			{root + " th", "overflow-wrap", "normal"},
			{root + " td", "word-break", "normal"},
			{root + " td", "overflow-wrap", "normal"},
		}
		for _, tc := range tests {
			if got := declared(rules, tc.selector, tc.property); got != tc.want {
				t.Errorf("%s { %s: %q }, want %q", tc.selector, tc.property, got, tc.want)
			}
		}
	}
	for _, dark := range []bool{false, true} {
		vars := variables(rules, dark)
		for _, bg := range []string{"--panel", "--bg"} {
			for _, c := range []struct {
				fg  string
				min float64
			}{
				{"--text", 4.5}, {"--muted", 4.5}, // text: AA
				{"--quote", 3}, // the quote's border: AA for graphics
			} {
				if r := contrast(t, vars[c.fg], vars[bg]); r < c.min {
					t.Errorf("dark=%v: %s %s on %s %s has contrast %.2f, want at least %.1f",
						dark, c.fg, vars[c.fg], bg, vars[bg], r, c.min)
				}
			}
		}
	}
}

// The search box's active suggestion (aria-selected, which the arrow keys
// move) is marked by more than a hover's tint: a bar of the accent color,
// which stands out from the tint, and text that keeps AA contrast on it,
// in both themes.
func TestActiveSuggestion(t *testing.T) {
	css, err := FS.ReadFile("style.css")
	if err != nil {
		t.Fatal(err)
	}
	rules := parseCSS(t, string(css), "")
	const sel = `.suggest [aria-selected="true"] a`
	for prop, want := range map[string]string{"background": "var(--accent-soft)", "color": "var(--text)", "box-shadow": "inset 3px 0 0 var(--accent)"} {
		if got := declared(rules, sel, prop); got != want {
			t.Errorf("%s { %s: %q }, want %q", sel, prop, got, want)
		}
	}
	for _, dark := range []bool{false, true} {
		vars := variables(rules, dark)
		for _, c := range []struct {
			fg, bg string
			min    float64
		}{
			{"--text", "--accent-soft", 4.5}, {"--accent", "--accent-soft", 3}, {"--accent", "--panel", 3},
		} {
			if r := contrast(t, vars[c.fg], vars[c.bg]); r < c.min {
				t.Errorf("dark=%v: %s on %s has contrast %.2f, want at least %.1f", dark, c.fg, c.bg, r, c.min)
			}
		}
	}
}

// A webhook delivery's state reads in both themes: each state's text on
// its own background, and on the panel its row's border stands on.
func TestDeliveryStateStyles(t *testing.T) {
	css, err := FS.ReadFile("style.css")
	if err != nil {
		t.Fatal(err)
	}
	rules := parseCSS(t, string(css), "")
	for _, state := range []struct{ selector, fg, bg string }{
		{".state-delivered .state", "--ok-text", "--ok-bg"},
		{".state-retrying .state", "--warn-text", "--warn-bg"},
		{".state-failed .state", "--err-text", "--err-bg"},
		{".state", "--text", "--code"},
	} {
		if got := declared(rules, state.selector, "color"); got != "var("+state.fg+")" {
			t.Errorf("%s { color: %q }, want var(%s)", state.selector, got, state.fg)
		}
		if got := declared(rules, state.selector, "background"); got != "var("+state.bg+")" {
			t.Errorf("%s { background: %q }, want var(%s)", state.selector, got, state.bg)
		}
		for _, dark := range []bool{false, true} {
			vars := variables(rules, dark)
			if r := contrast(t, vars[state.fg], vars[state.bg]); r < 4.5 {
				t.Errorf("dark=%v: %s on %s has contrast %.2f, want at least 4.5", dark, state.fg, state.bg, r)
			}
			if r := contrast(t, vars[state.fg], vars["--panel"]); r < 3 {
				t.Errorf("dark=%v: the %s border on --panel has contrast %.2f, want at least 3", dark, state.fg, r)
			}
		}
	}
}
