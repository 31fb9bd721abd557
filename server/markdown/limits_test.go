package markdown

import (
	"strings"
	"testing"
	"time"
)

// repeat fills n bytes with s.
func repeat(s string) func(n int) string {
	return func(n int) string { return strings.Repeat(s, n/len(s)) }
}

// pathological are texts on which goldmark, unbounded, works in time
// that grows with the square of their length (13.6 s for a README of
// 99,000 ">" in Wharf's audit).
var pathological = []struct {
	name string
	gen  func(n int) string
}{
	{"nested block quotes", repeat(">")},
	{"nested block quotes with spaces", repeat("> ")},
	{"nested bullet lists", repeat("- * ")},
	{"nested ordered lists", repeat("1. ")},
	{"quotes in lists", repeat("> - ")},
	{"indented lists", func(n int) string {
		var b strings.Builder
		for i := 0; b.Len() < n; i++ {
			b.WriteString(strings.Repeat("  ", i) + "- a\n")
		}
		return b.String()
	}},
	{"unclosed links", repeat("[a](")},
	{"unclosed images", repeat("![a](")},
	{"unclosed destinations", repeat("[a](b")},
	{"unclosed pointy destinations", repeat("[a](<")},
	{"unclosed titles", repeat("[a](b (")},
	{"brackets", repeat("[")},
	{"labels on lines", repeat("[a]\n")},
	{"references on lines", repeat("[a][b]\n")},
	{"link reference definitions", repeat("[a]: b\n")},
	{"emphasis runs", repeat("*")},
	{"emphasis openers", repeat("*a")},
	{"underscore openers", repeat("_a")},
	{"mixed emphasis", repeat("*a_")},
	{"mixed emphasis 2", repeat("_*a")},
	{"strikethrough and emphasis", repeat("*a~")},
	{"backtick runs", func(n int) string {
		var b strings.Builder
		for i := 1; b.Len() < n; i++ {
			b.WriteString(strings.Repeat("`", i) + "a")
		}
		return b.String()
	}},
	{"less-thans", repeat("<")},
	{"raw html openers", repeat("<a ")},
	{"wide table", func(n int) string {
		c := n / 8
		return "|" + strings.Repeat("a|", c) + "\n|" + strings.Repeat("-|", c) + "\n" + strings.Repeat("|a", c) + "\n"
	}},
	{"table of padded rows", func(n int) string {
		return "|" + strings.Repeat("a|", 120) + "\n|" + strings.Repeat(":-:|", 120) + "\n" + strings.Repeat("|\n", n/2)
	}},
	{"table of escaped pipes in code", func(n int) string { return "|a|\n|-|\n" + strings.Repeat("|`\\|`|\n", n/7) }},
}

// TestRenderIsLinear renders each pathological text of a README's full
// size: each takes well under a second and its HTML stays within
// maxOutput. The best of three tries counts, as the machine may be busy.
func TestRenderIsLinear(t *testing.T) {
	const size = 100_000
	budget := 500 * time.Millisecond * slowdown
	for _, tc := range pathological {
		t.Run(tc.name, func(t *testing.T) {
			src := tc.gen(size)
			best := time.Duration(1<<63 - 1)
			var out string
			for try := 0; try < 3 && best > budget; try++ {
				start := time.Now()
				out = string(Render(src))
				best = min(best, time.Since(start))
			}
			if best > budget {
				t.Errorf("rendering %d bytes took %v, want under %v", len(src), best, budget)
			}
			if len(out) > maxOutput(len(src)) {
				t.Errorf("%d bytes rendered to %d bytes of HTML, more than %d", len(src), len(out), maxOutput(len(src)))
			}
			checkSafe(t, out, false)
		})
	}
}

func TestRenderNestsAtMostMaxDepth(t *testing.T) {
	for _, tc := range []struct{ name, src, tag string }{
		{"block quotes", strings.Repeat(">", 99_000), "<blockquote>"},
		{"lists", strings.Repeat("- * ", 24_000), "<ul>"},
		{"mixed", strings.Repeat("> 1. ", 19_000), "<blockquote>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := string(Render(tc.src))
			if n := strings.Count(out, "<blockquote>") + strings.Count(out, "<ul>") + strings.Count(out, "<ol>"); n != MaxDepth {
				t.Errorf("%d levels, want %d", n, MaxDepth)
			}
			if !strings.Contains(out, tc.tag) {
				t.Errorf("no %s in %.200q", tc.tag, out)
			}
		})
	}
}

func TestRenderRefusesWhatItBounds(t *testing.T) {
	tests := []struct {
		name, src string
		want      string // in the HTML
		not       string // not in the HTML
	}{
		{"deeply nested parentheses are not a destination",
			"[a](/" + strings.Repeat("(", maxLinkParens+1) + "x" + strings.Repeat(")", maxLinkParens+1) + ")", "[a]", "<a "},
		{"nested parentheses within the bound are",
			"[a](/" + strings.Repeat("(", maxLinkParens) + "x" + strings.Repeat(")", maxLinkParens) + ")", "<a ", "[a]"},
		{"< inside <...> is not a destination", "[a](<b<c>)", "[a]", "<a "},
		{"a shortcut reference still works after a refused destination",
			"[a](<b<c>)\n\n[a]: https://example.com/", `<a href="https://example.com/" rel="nofollow noopener">a</a>`, ""},
		{"emphasis past the bound is text",
			strings.Repeat("*a* ", maxDelimiters/2) + "*b*", "*b*", "<em>b</em>"},
		{"emphasis within the bound is not",
			strings.Repeat("*a* ", maxDelimiters/2-1) + "*b*", "<em>b</em>", "*b*"},
		{"the bound is per paragraph",
			strings.Repeat("*a* ", maxDelimiters/2) + "\n\n*b*", "<em>b</em>", "*b*"},
		{"a table wider than the bound is text",
			"|" + strings.Repeat("a|", maxTableColumns+1) + "\n|" + strings.Repeat("-|", maxTableColumns+1), "|a|a|", "<table>"},
		{"a table as wide as the bound is a table",
			"|" + strings.Repeat("a|", maxTableColumns) + "\n|" + strings.Repeat("-|", maxTableColumns), "<table>", "|a|a|"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := string(Render(tc.src))
			if !strings.Contains(out, tc.want) {
				t.Errorf("Render(%.80q) = %.300q, want %q in it", tc.src, out, tc.want)
			}
			if tc.not != "" && strings.Contains(out, tc.not) {
				t.Errorf("Render(%.80q) = %.300q, want no %q in it", tc.src, out, tc.not)
			}
		})
	}
}

func TestRenderFallsBackToText(t *testing.T) {
	t.Run("longer than MaxInput", func(t *testing.T) {
		src := "<b>é" + strings.Repeat("é", MaxInput) // cut inside a rune
		out := string(Render(src))
		if !strings.Contains(out, "too long to format") || !strings.Contains(out, "<pre>&lt;b&gt;é") {
			t.Errorf("no note and escaped text: %.200q", out)
		}
		if len(out) > MaxOutput || !strings.HasSuffix(out, "é</pre>\n") {
			t.Errorf("%d bytes ending %q", len(out), out[len(out)-20:])
		}
		checkSafe(t, out, true)
	})
	t.Run("HTML longer than the limit", func(t *testing.T) {
		out := string(render("# "+strings.Repeat("[a](https://example.com) ", 20), 200))
		if !strings.Contains(out, "too large once formatted") || !strings.Contains(out, "<pre># [a](https://example.com)") {
			t.Errorf("no note and escaped text: %q", out)
		}
	})
	t.Run("sanitized HTML longer than the limit", func(t *testing.T) {
		// goldmark writes ' as it is; bluemonday writes &#39;.
		out := string(render(strings.Repeat("'", 100), 300))
		if !strings.Contains(out, "too large once formatted") {
			t.Errorf("no note: %q", out)
		}
	})
	t.Run("the worst escaping fits maxOutput", func(t *testing.T) {
		for _, n := range []int{0, 1, 1000, MaxInput} {
			src := strings.Repeat("'", n)
			if out := plain(src, "note"); len(out) > maxOutput(n) {
				t.Errorf("%d bytes: %d of fallback, more than %d", n, len(out), maxOutput(n))
			}
		}
	})
}
