package markdown

import (
	"bytes"
	"errors"
	"html/template"
	"net/url"
	"regexp"
	"strconv"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// Version names what Render makes of a text. HTML stored beside a text
// says which version made it; bump Version whenever a change here changes
// the output, and stored HTML of older versions is rendered again, once.
const Version = 4

// Size limits. Callers refuse longer texts with their own, smaller
// limits (READMEs and comments); these make Render safe on its own.
const (
	// MaxInput is the longest text Render formats: beyond it, it shows
	// the text's start, escaped.
	MaxInput = 128 << 10
	// MaxOutput is the most HTML Render returns for any text.
	MaxOutput = 1 << 20
)

// maxOutput is the most HTML Render returns for n bytes: a generous
// multiple of n (an aligned table cell costs about 13 times its text), at
// most MaxOutput.
func maxOutput(n int) int { return min(MaxOutput, 32<<10+16*n) }

// linkRel is the rel of every link in rendered Markdown: search engines do
// not follow user links and the target page gets no window.opener.
const linkRel = "nofollow noopener"

// md renders CommonMark with the GitHub extensions, through the bounded
// parsers of limits.go. Raw HTML is never passed through (goldmark's
// default: it becomes a comment that the sanitizer then drops), but for
// <details> and <summary> (details.go).
var md = goldmark.New(
	goldmark.WithParser(parser.NewParser(
		parser.WithBlockParsers(blockParsers()...),
		parser.WithInlineParsers(inlineParsers()...),
		parser.WithParagraphTransformers(
			util.Prioritized(fewReferences{parser.LinkReferenceParagraphTransformer}, 100),
			// The table extension's own transformers, with the bound.
			util.Prioritized(smallTables{extension.NewTableParagraphTransformer()}, 200),
		),
		parser.WithASTTransformers(
			util.Prioritized(extension.NewTableASTTransformer(), 0),
			util.Prioritized(relTransformer{}, 1000),
			util.Prioritized(nowhereTransformer{}, 1001),
			util.Prioritized(detailsTransformer{}, 1002),
		),
	)),
	goldmark.WithRendererOptions(renderer.WithNodeRenderers(
		util.Prioritized(extension.NewTableHTMLRenderer(extension.WithTableCellAlignMethod(extension.TableCellAlignAttribute)), 500),
		util.Prioritized(extension.NewStrikethroughHTMLRenderer(), 500),
		util.Prioritized(detailsRenderer{}, 500),
	)),
	goldmark.WithExtensions(extension.Linkify, extension.TaskList),
)

// blockParsers are goldmark's, with block quotes and lists kept shallow.
func blockParsers() []util.PrioritizedValue {
	ps := parser.DefaultBlockParsers()
	for i, p := range ps {
		switch p.Value {
		case parser.NewBlockquoteParser():
			ps[i].Value = shallowBlockquote{parser.NewBlockquoteParser()}
		case parser.NewListParser():
			ps[i].Value = shallowList{parser.NewListParser()}
		}
	}
	return ps
}

// inlineParsers are goldmark's and strikethrough, with bounded links and
// delimiters.
func inlineParsers() []util.PrioritizedValue {
	ps := parser.DefaultInlineParsers()
	for i, p := range ps {
		switch p.Value {
		case parser.NewLinkParser():
			ps[i].Value = boundedLinks{parser.NewLinkParser()}
		case parser.NewEmphasisParser():
			ps[i].Value = fewDelimiters{parser.NewEmphasisParser()}
		}
	}
	return append(ps, util.Prioritized(fewDelimiters{extension.NewStrikethroughParser()}, 500))
}

// policy is the allowlist applied to goldmark's output: bluemonday's
// policy for user content (http, https and mailto URLs only; relative
// links allowed), plus what GFM needs.
var policy = func() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^language-[\w.+#-]{1,40}$`)).OnElements("code")
	p.AllowAttrs("rel").Matching(regexp.MustCompile(`^` + linkRel + `$`)).OnElements("a")
	// Task list items: a disabled checkbox, nothing else of forms.
	p.AllowAttrs("type").Matching(regexp.MustCompile(`^checkbox$`)).OnElements("input")
	p.AllowAttrs("checked", "disabled").Matching(regexp.MustCompile(`^$`)).OnElements("input")
	p.AllowAttrs("align").Matching(regexp.MustCompile(`^(left|center|right)$`)).OnElements("th", "td")
	p.AllowAttrs("start").Matching(regexp.MustCompile(`^[0-9]{1,9}$`)).OnElements("ol")
	// Collapsible sections (details.go), which UGCPolicy admits too: said
	// here so that they stay whatever its defaults become.
	p.AllowElements("details", "summary")
	p.AllowAttrs("open").Matching(regexp.MustCompile(`^$`)).OnElements("details")
	return p
}()

// Render turns Markdown into sanitized HTML, in time and space linear in
// the text: at most maxOutput(len(src)) bytes. A text longer than
// MaxInput, or one whose HTML would be longer than that, is shown as
// escaped text under a note that says so.
func Render(src string) template.HTML {
	if len(src) > MaxInput {
		return plain(src, "This text is too long to format: its first "+kib(MaxInput)+" are shown as they were written.")
	}
	return render(src, maxOutput(len(src)))
}

// render is Render with the HTML's limit given.
func render(src string, limit int) template.HTML {
	const tooLarge = "This text would be too large once formatted, so it is shown as it was written."
	buf := limitedBuffer{max: limit}
	if err := md.Convert([]byte(src), &buf); err != nil {
		return plain(src, tooLarge)
	}
	out := policy.SanitizeBytes(buf.Bytes())
	if len(out) > limit { // the sanitizer escapes more than goldmark does
		return plain(src, tooLarge)
	}
	return template.HTML(out) // #nosec G203 -- sanitized above
}

// plain shows src as escaped text in a <pre>, cut at MaxInput, under note.
func plain(src, note string) template.HTML {
	if len(src) > MaxInput {
		cut := MaxInput
		for cut > 0 && !utf8.RuneStart(src[cut]) {
			cut--
		}
		src = src[:cut]
	}
	// At most 5 bytes for a byte of src, well under maxOutput.
	return template.HTML("<p><em>" + template.HTMLEscapeString(note) + "</em></p>\n<pre>" + // #nosec G203 -- escaped
		template.HTMLEscapeString(src) + "</pre>\n")
}

func kib(n int) string { return strconv.Itoa(n>>10) + " KiB" }

var errTooLong = errors.New("markdown: rendered HTML is too long")

// limitedBuffer is a buffer that refuses to grow past max. goldmark
// writes through a bufio.Writer, which keeps the first error and then
// writes nothing more. (Only Write: a WriteString would let bufio pass
// long strings around it.)
type limitedBuffer struct {
	buf bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if b.buf.Len()+len(p) > b.max {
		return 0, errTooLong
	}
	return b.buf.Write(p)
}

func (b *limitedBuffer) Bytes() []byte { return b.buf.Bytes() }

// relTransformer gives every link rel="nofollow noopener".
type relTransformer struct{}

func (relTransformer) Transform(doc *ast.Document, _ text.Reader, _ parser.Context) {
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n.(type) {
		case *ast.Link, *ast.AutoLink:
			n.SetAttributeString("rel", []byte(linkRel))
		}
		return ast.WalkContinue, nil
	})
}

// nowhereTransformer unwraps links and images whose destination is
// relative to the page, such as "docs/guide.md" or "img/logo.png" in a
// README written for a source tree. A registry has no files beside the
// README, so the browser would resolve them to pages of the hub that do
// not exist: a link becomes its text, an image its alt text. A fragment
// ("#usage"), a path from the site's root ("/u/alice", a page of this
// hub) and an absolute URL are kept; the sanitizer then decides on the
// URL's scheme.
type nowhereTransformer struct{}

func (nowhereTransformer) Transform(doc *ast.Document, _ text.Reader, _ parser.Context) {
	var nowhere []ast.Node
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Link:
			if pointsNowhere(n.Destination) {
				nowhere = append(nowhere, n)
			}
		case *ast.Image:
			if pointsNowhere(n.Destination) {
				nowhere = append(nowhere, n)
			}
		}
		return ast.WalkContinue, nil
	})
	// Outer nodes first: an image inside a link moves to the link's
	// parent before it is unwrapped in turn.
	for _, n := range nowhere {
		parent := n.Parent()
		for c := n.FirstChild(); c != nil; {
			next := c.NextSibling()
			parent.InsertBefore(parent, n, c)
			c = next
		}
		parent.RemoveChild(parent, n)
	}
}

// pointsNowhere reports whether a link destination is relative to the
// page it is on (see nowhereTransformer). An empty one is: it names the
// page itself.
func pointsNowhere(dest []byte) bool {
	if len(dest) > 0 && (dest[0] == '#' || dest[0] == '/') {
		return false
	}
	u, err := url.Parse(string(dest))
	if err != nil {
		return false // the sanitizer drops what it cannot parse
	}
	return u.Scheme == ""
}
