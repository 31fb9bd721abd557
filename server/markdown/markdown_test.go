package markdown

import (
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
)

// hostile is Markdown that tries to run script: the THREATS.md corpus and
// the classics.
var hostile = []struct{ name, src string }{
	{"entity-encoded javascript link", "[x](&#106;avascript:alert(1))"},
	{"hex entity javascript link", "[x](&#x6A;avascript:alert(1))"},
	{"colon entity in text", "javascript&colon;alert(1)"},
	{"colon entity in link", "[x](javascript&colon;alert(1))"},
	{"javascript autolink", "<javascript:alert(1)>"},
	{"data html link", "[x](data:text/html,<script>alert(1)</script>)"},
	{"data html base64 link", "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)"},
	{"data html autolink", "<data:text/html,alert(1)>"},
	{"img onerror", "<img src=x onerror=alert(1)>"},
	{"img onerror inline", "hello <img src=x onerror=alert(1)> world"},
	{"script block", "<script>alert(1)</script>"},
	{"script inline", "a <script>alert(1)</script> b"},
	{"raw javascript anchor", `<a href="javascript:alert(1)">x</a>`},
	{"svg onload", "<svg onload=alert(1)>"},
	{"iframe", `<iframe src="https://evil.example"></iframe>`},
	{"mixed case scheme", "[x](JaVaScRiPt:alert(1))"},
	{"javascript image", "![x](javascript:alert(1))"},
	{"style block", "<style>body{background:url(javascript:alert(1))}</style>"},
	{"vbscript link", "[x](vbscript:msgbox(1))"},
	{"tab in scheme", "[x](java\tscript:alert(1))"},
	{"newline entity in scheme", "[x](java&#10;script:alert(1))"},
	{"leading space scheme", "[x]( javascript:alert(1))"},
	{"reference link", "[x][r]\n\n[r]: javascript:alert(1)"},
	{"link title breakout", `[x](https://example.com "a\" onmouseover=\"alert(1)")`},
	{"image alt breakout", `![" onerror="alert(1)](https://example.com/a.png)`},
	{"form", `<form action="javascript:alert(1)"><button>go</button></form>`},
	{"object", `<object data="javascript:alert(1)"></object>`},
	{"meta refresh", `<meta http-equiv="refresh" content="0;url=javascript:alert(1)">`},
	{"html comment", "<!-- <script>alert(1)</script> -->"},
	{"math", `<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>`},
	{"code fence language breakout", "```\"><script>alert(1)</script>\nx\n```"},
	{"code fence onclick language", "```go onclick=alert(1)\nx\n```"},
	{"table with html", "| a |\n|---|\n| <script>alert(1)</script> |"},
	{"linkify javascript", "see javascript:alert(1) and javascript://example.com/%0aalert(1)"},
	{"file scheme", "[x](file:///etc/passwd)"},
	{"details with a handler", `<details open ontoggle=alert(1)><summary onclick="alert(1)">x</summary></details>`},
	{"details around script", "<details>\n<summary>x</summary>\n<script>alert(1)</script>\n<img src=x onerror=alert(1)>\n</details>"},
	{"details with style text", "<details><style><img src=x onerror=alert(1)></style></details>"},
	{"details with an escaped tag", "<details><summary>&lt;script&gt;alert(1)&lt;/script&gt;</summary></details>"},
}

// checkSafe fails t if html contains anything that could run script or
// restyle the page: a tag outside an allowlist, an event handler or style
// attribute, or a URL with a scheme other than http, https or mailto, in
// any case or encoding. strict also refuses "javascript:", "vbscript:"
// and "data:" anywhere in an attribute, even where it is harmless, such as
// inside an https URL's path.
func checkSafe(t testing.TB, out string, strict bool) {
	t.Helper()
	if strings.Contains(strings.ToLower(out), "<script") {
		t.Fatalf("output has a script tag: %q", out)
	}
	z := html.NewTokenizer(strings.NewReader(out))
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return
		case html.CommentToken, html.DoctypeToken:
			t.Fatalf("output has a comment or doctype: %q", out)
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			tok := z.Token()
			if !allowedTags[tok.Data] {
				t.Fatalf("output has tag <%s>: %q", tok.Data, out)
			}
			for _, a := range tok.Attr {
				checkAttr(t, tok.Data, a, out, strict)
			}
		}
	}
}

var allowedTags = map[string]bool{
	"p": true, "br": true, "hr": true, "h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true,
	"em": true, "strong": true, "del": true, "code": true, "pre": true, "blockquote": true,
	"ul": true, "ol": true, "li": true, "a": true, "img": true, "input": true,
	"table": true, "thead": true, "tbody": true, "tr": true, "th": true, "td": true,
	"details": true, "summary": true,
}

var allowedAttrs = map[string]bool{
	"href": true, "rel": true, "src": true, "alt": true, "title": true, "class": true,
	"type": true, "checked": true, "disabled": true, "align": true, "start": true, "open": true,
}

func checkAttr(t testing.TB, tag string, a html.Attribute, out string, strict bool) {
	t.Helper()
	key := strings.ToLower(a.Key)
	if strings.HasPrefix(key, "on") || !allowedAttrs[key] {
		t.Fatalf("output has attribute %s on <%s>: %q", a.Key, tag, out)
	}
	// The tokenizer has decoded entities; browsers also ignore ASCII
	// whitespace and control characters inside a scheme.
	v := strings.Map(func(r rune) rune {
		if r <= ' ' || r == 0x7f {
			return -1
		}
		return r
	}, strings.ToLower(a.Val))
	for _, bad := range []string{"javascript:", "vbscript:", "data:", "livescript:"} {
		if strings.HasPrefix(v, bad) || strict && strings.Contains(v, bad) {
			t.Fatalf("attribute %s on <%s> holds %q: %q", a.Key, tag, bad, out)
		}
	}
	switch key {
	case "href", "src":
		if scheme, _, ok := strings.Cut(v, ":"); ok && !strings.ContainsAny(scheme, "/?#") &&
			scheme != "http" && scheme != "https" && scheme != "mailto" {
			t.Fatalf("%s on <%s> has scheme %q: %q", a.Key, tag, scheme, out)
		}
	case "rel":
		if a.Val != "nofollow noopener" {
			t.Fatalf("rel is %q: %q", a.Val, out)
		}
	case "open":
		if tag != "details" || a.Val != "" {
			t.Fatalf("open=%q on <%s>: %q", a.Val, tag, out)
		}
	case "type":
		if tag != "input" || a.Val != "checkbox" {
			t.Fatalf("type %q on <%s>: %q", a.Val, tag, out)
		}
	case "class":
		if tag != "code" || !strings.HasPrefix(a.Val, "language-") || strings.ContainsAny(a.Val, " \"'<>") {
			t.Fatalf("class %q on <%s>: %q", a.Val, tag, out)
		}
	}
}

func TestRenderHostileIsInert(t *testing.T) {
	for _, tc := range hostile {
		t.Run(tc.name, func(t *testing.T) {
			out := string(Render(tc.src))
			checkSafe(t, out, true)
			lower := strings.ToLower(out)
			for _, bad := range []string{"<iframe", "<svg", "<style", "<object", "<form", "<meta", "<math", "onerror", "onload", "onmouseover", "onclick="} {
				if strings.Contains(lower, bad) && !strings.Contains(lower, "&lt;"+strings.TrimPrefix(bad, "<")) {
					t.Errorf("output keeps %q: %q", bad, out)
				}
			}
		})
	}
}

func TestRenderMarkdown(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string
	}{
		{"heading", "# Title\n\n## Sub", []string{"<h1>Title</h1>", "<h2>Sub</h2>"}},
		{"emphasis", "*a* **b** ~~c~~", []string{"<em>a</em>", "<strong>b</strong>", "<del>c</del>"}},
		{"bullet list", "- one\n- two", []string{"<ul>", "<li>one</li>", "<li>two</li>"}},
		{"ordered list", "3. three\n4. four", []string{`<ol start="3">`, "<li>three</li>"}},
		{"task list", "- [x] done\n- [ ] todo", []string{`<input checked="" disabled="" type="checkbox"> done`, `<input disabled="" type="checkbox"> todo`}},
		{"fenced code keeps language and escapes", "```go\nif a < b && c {}\n```", []string{`<pre><code class="language-go">if a &lt; b &amp;&amp; c {}`}},
		{"indented code", "    docker pull alice/app", []string{"<pre><code>docker pull alice/app"}},
		{"inline code", "run `wharf serve`", []string{"<code>wharf serve</code>"}},
		{"table", "| a | b |\n|:--|--:|\n| 1 | 2 |", []string{"<table>", `<th align="left">a</th>`, `<td align="right">2</td>`}},
		{"https link", "[docs](https://example.com/docs?a=1&b=2)", []string{`<a href="https://example.com/docs?a=1&amp;b=2" rel="nofollow noopener">docs</a>`}},
		{"relative link", "[docs](/alice/app)", []string{`<a href="/alice/app" rel="nofollow noopener">docs</a>`}},
		{"mailto link", "[mail](mailto:a@example.com)", []string{`href="mailto:a@example.com"`}},
		{"autolink", "<https://example.com>", []string{`<a href="https://example.com" rel="nofollow noopener">https://example.com</a>`}},
		{"scheme-like path is kept", "www.example.com/javascript:x", []string{`href="http://www.example.com/javascript:x"`}},
		{"linkify", "see www.example.com now", []string{`<a href="http://www.example.com" rel="nofollow noopener">www.example.com</a>`}},
		{"image", "![logo](https://example.com/l.png)", []string{`<img src="https://example.com/l.png" alt="logo">`}},
		{"blockquote", "> quoted", []string{"<blockquote>", "<p>quoted</p>"}},
		{"escaped text", "a < b & c > d", []string{"a &lt; b &amp; c &gt; d"}},
		{"raw html is dropped, text kept", "hi <b>there</b>", []string{"<p>hi there</p>"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := string(Render(tc.src))
			checkSafe(t, out, false)
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("Render(%q) = %q, want it to contain %q", tc.src, out, w)
				}
			}
		})
	}
}

// A README is written for a source tree that the registry does not have:
// links and images relative to the page would resolve to hub pages that
// do not exist. Their text stays, without an href or a src; fragments,
// paths from the site's root and absolute URLs are kept.
func TestRenderRelativeLinks(t *testing.T) {
	tests := []struct {
		name, src string
		want      string // the whole output, trimmed
	}{
		{"relative link is its text", "see [the guide](docs/guide.md) first", `<p>see the guide first</p>`},
		{"dot relative link", "[up](../README.md) and [here](./x.md)", `<p>up and here</p>`},
		{"link text keeps its markup", "[**bold** `code`](docs/x.md)", `<p><strong>bold</strong> <code>code</code></p>`},
		{"reference link", "[guide][g]\n\n[g]: docs/guide.md \"Guide\"", `<p>guide</p>`},
		{"query-only link", "[page 2](?page=2)", `<p>page 2</p>`},
		{"empty link", "[nothing]()", `<p>nothing</p>`},
		{"bare host without scheme", "[site](www.example.com)", `<p>site</p>`},
		{"relative image is its alt text", "![the logo](img/logo.png)", `<p>the logo</p>`},
		{"relative image with title", "a ![logo](img/logo.png \"Logo\") b", `<p>a logo b</p>`},
		{"relative image in an absolute link", "[![build](img/ci.svg)](https://ci.example.com/app)",
			`<p><a href="https://ci.example.com/app" rel="nofollow noopener">build</a></p>`},
		{"absolute image in a relative link", "[![build](https://ci.example.com/b.svg)](docs/ci.md)",
			`<p><img src="https://ci.example.com/b.svg" alt="build"></p>`},
		{"relative image in a relative link", "[![logo](img/l.png)](docs/x.md)", `<p>logo</p>`},
		{"absolute link kept", "[docs](https://example.com/docs)", `<p><a href="https://example.com/docs" rel="nofollow noopener">docs</a></p>`},
		{"http link kept", "[docs](http://example.com/)", `<p><a href="http://example.com/" rel="nofollow noopener">docs</a></p>`},
		{"anchor kept", "[usage](#usage)", `<p><a href="#usage" rel="nofollow noopener">usage</a></p>`},
		{"root path kept", "[alice](/u/alice)", `<p><a href="/u/alice" rel="nofollow noopener">alice</a></p>`},
		{"mailto kept", "[mail](mailto:a@example.com)", `<p><a href="mailto:a@example.com" rel="nofollow noopener">mail</a></p>`},
		{"absolute image kept", "![logo](https://example.com/l.png)", `<p><img src="https://example.com/l.png" alt="logo"></p>`},
		{"autolink kept", "<https://example.com/x>", `<p><a href="https://example.com/x" rel="nofollow noopener">https://example.com/x</a></p>`},
		{"linkified text kept", "www.example.com", `<p><a href="http://www.example.com" rel="nofollow noopener">www.example.com</a></p>`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := string(Render(tc.src))
			checkSafe(t, out, false)
			if got := strings.TrimSpace(out); got != tc.want {
				t.Errorf("Render(%q)\n got %q\nwant %q", tc.src, got, tc.want)
			}
		})
	}
}

// Collapsible sections keep their <details> and <summary> (with "open"),
// balanced in the container that opens them; any other raw HTML in their
// blocks is dropped, as raw HTML always is.
func TestRenderDetails(t *testing.T) {
	tests := []struct {
		name, src string
		want      string // the whole output, trimmed
	}{
		{"section with Markdown inside",
			"<details>\n<summary>Build options</summary>\n\nRun `make`.\n\n</details>",
			"<details>\n<summary>Build options</summary>\n<p>Run <code>make</code>.</p>\n</details>"},
		{"open section", "<details open>\n<summary>Shown</summary>\n\ntext\n</details>",
			"<details open=\"\">\n<summary>Shown</summary>\n<p>text</p>\n</details>"},
		{"on one line", "<details><summary>Title</summary>Body text</details>",
			"<details><summary>Title</summary>Body text</details>"},
		{"summary text is escaped", "<details><summary>a &lt; b &amp; <b>c</b></summary></details>",
			"<details><summary>a &lt; b &amp; c</summary></details>"},
		{"attributes other than open go", `<details class="x" style="color:red" open="open"><summary id="s">T</summary></details>`,
			`<details open=""><summary>T</summary></details>`},
		{"other tags in the block go, their script text too",
			"<details><summary>T</summary><p align=center>kept</p><script>alert(1)</script></details>",
			"<details><summary>T</summary>kept</details>"},
		{"unclosed section is closed at the end", "<details>\n<summary>T</summary>\n\ntext",
			"<details>\n<summary>T</summary>\n<p>text</p>\n</details>"},
		{"unclosed summary is closed with its section", "<details><summary>T\n\ntext\n\n</details>",
			"<details><summary>T\n<p>text</p>\n</summary></details>"},
		{"stray end tags go", "</details>\n\ntext\n\n</summary>", "<p>text</p>"},
		{"a section opened in a quote closes in it",
			"> <details>\n> <summary>T</summary>\n\n</details>\n\nafter",
			"<blockquote>\n<details>\n<summary>T</summary>\n</details>\n</blockquote>\n\n<p>after</p>"},
		{"other raw HTML is still dropped", "<div align=center>\n<img src=\"https://e.com/l.png\">\n</div>\n\nhi <b>there</b>",
			"<p>hi there</p>"},
		{"the words alone change nothing", "<div>details and summary</div>\n\ntext", "<p>text</p>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := string(Render(tc.src))
			checkSafe(t, out, false)
			if got := strings.TrimSpace(out); got != tc.want {
				t.Errorf("Render(%q)\n got %q\nwant %q", tc.src, got, tc.want)
			}
		})
	}
	t.Run("nesting is bounded", func(t *testing.T) {
		src := strings.Repeat("<details>", 2*MaxDepth) + "x" + strings.Repeat("</details>", 2*MaxDepth) + "\n\n</details>"
		out := string(Render(src))
		if n, m := strings.Count(out, "<details>"), strings.Count(out, "</details>"); n != MaxDepth || m != MaxDepth {
			t.Errorf("%d <details> and %d </details>, want %d of each: %q", n, m, MaxDepth, out)
		}
	})
}

func TestRenderEmpty(t *testing.T) {
	if out := strings.TrimSpace(string(Render(""))); out != "" {
		t.Fatalf("Render(\"\") = %q", out)
	}
}

// FuzzRender checks that whatever the text, Render does not panic, is
// safe, stays within maxOutput and takes well under a second.
func FuzzRender(f *testing.F) {
	for _, tc := range hostile {
		f.Add(tc.src)
	}
	for _, tc := range pathological {
		f.Add(tc.gen(2000))
	}
	f.Add("# h\n\n- [x] a\n\n```go\nx\n```\n\n| a |\n|---|\n| b |\n\n[l](https://e.com) www.e.com")
	f.Fuzz(func(t *testing.T, src string) {
		start := time.Now()
		out := string(Render(src))
		if d := time.Since(start); d > time.Second*slowdown {
			t.Errorf("rendering %d bytes took %v", len(src), d)
		}
		if len(out) > maxOutput(len(src)) {
			t.Errorf("%d bytes rendered to %d bytes of HTML, more than %d", len(src), len(out), maxOutput(len(src)))
		}
		checkSafe(t, out, false)
	})
}
