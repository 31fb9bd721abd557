package markdown

import (
	"bytes"
	"strings"
	"testing"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/util"
)

// unbounded is goldmark as Render used it before limits.go: the same
// extensions without the bounds.
var unbounded = goldmark.New(
	goldmark.WithExtensions(
		extension.NewTable(extension.WithTableCellAlignMethod(extension.TableCellAlignAttribute)),
		extension.Strikethrough, extension.Linkify, extension.TaskList,
	),
	goldmark.WithParserOptions(parser.WithASTTransformers(
		util.Prioritized(relTransformer{}, 1000), util.Prioritized(nowhereTransformer{}, 1001),
		util.Prioritized(detailsTransformer{}, 1002))),
	goldmark.WithRendererOptions(renderer.WithNodeRenderers(util.Prioritized(detailsRenderer{}, 500))),
)

// ordinary is Markdown as READMEs and comments are written, with every
// construct that limits.go bounds used well inside its bound.
var ordinary = []string{
	"# App\n\nA *small* image for **testing**, ~~not~~ _production_.\n\n## Use\n\n```sh\ndocker run --rm app:1.0\n```\n",
	"> quoted\n> > twice\n> > > three times, with a [link](https://example.com/a_(b)_c) and `code`\n",
	"- one\n  - two\n    - three\n      1. four\n         > five\n         > - six\n- back\n",
	strings.Repeat("> ", MaxDepth-1) + "deep but allowed\n",
	strings.Repeat("- ", MaxDepth) + "deep list\n",
	"See [the docs][docs], [the *API*][api] and [docs].\n\n[docs]: https://example.com/docs \"Docs\"\n[api]: <https://example.com/api>\n",
	"> [a\n> label] across lines\n>\n> [a label]: https://example.com/l\n",
	"| Flag | Default | What |\n|:-----|:-------:|-----:|\n| `--addr` | `127.0.0.1:5000` | where to listen |\n| `--grep` | | `a \\| b` in code |\n| short |\n",
	"Links: [a](https://e.com/x(1)(2)), [b](<https://e.com/a b>), [c](/rel \"title\"), [d](/x 'single'), [e](/y (paren)), ![img](https://e.com/i.png \"t\").\n",
	"Autolinks <https://example.com>, www.example.com, https://example.com/path?q=1 and mail@example.com.\n",
	"- [x] done\n- [ ] todo\n\n1. first\n2. second\n\n***\n\nSetext\n======\n\n    indented code\n",
	"Escapes \\*not emphasis\\*, \\[not a link\\], a \\| pipe, entities &amp; &copy; &#35;.\n",
	"<details>\n<summary>More</summary>\n\n- [a](https://e.com/a)\n\n</details>\n",
	"Hard  \nbreak and soft\nbreak; <b>raw</b> <!-- comment --> html.\n",
	"***strong emph*** and *a **b** c* and __d__ _e_ ~f~ ~~g~~ a*b*c snake_case_name\n",
}

func TestBoundsChangeNothingOrdinary(t *testing.T) {
	var docs []string
	docs = append(docs, ordinary...)
	for _, tc := range hostile {
		docs = append(docs, tc.src)
	}
	for _, src := range docs {
		var buf bytes.Buffer
		if err := unbounded.Convert([]byte(src), &buf); err != nil {
			t.Fatal(err)
		}
		want := policy.Sanitize(buf.String())
		if got := string(Render(src)); got != want {
			t.Errorf("Render(%q)\n got %q\nwant %q", src, got, want)
		}
	}
}
