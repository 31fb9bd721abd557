package markdown

import (
	"bytes"
	"strings"

	"golang.org/x/net/html"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// Raw HTML is never passed through, with one exception: the <details> and
// <summary> of collapsible sections, which READMEs use a lot. An HTML
// block that holds one of them is rewritten by detailsTransformer into
// those tags alone, written anew (only the "open" attribute is kept), with
// the block's text escaped; any other tag in it is dropped, and so is the
// text inside script, style and the like. The tags are balanced within
// the container that opens them (the document, a block quote, a list
// item): an end tag that closes nothing there is dropped, and what is
// still open when the container ends is closed there, so a README cannot
// close or swallow the page around it. HTML blocks without them, and
// inline raw HTML, are still omitted, as goldmark does by default.

// kindDetailsHTML is the kind of detailsHTML nodes.
var kindDetailsHTML = ast.NewNodeKind("DetailsHTML")

// detailsHTML is a block of HTML made by detailsTransformer, safe as it is.
type detailsHTML struct {
	ast.BaseBlock
	html []byte
}

func (n *detailsHTML) Kind() ast.NodeKind { return kindDetailsHTML }

func (n *detailsHTML) Dump(source []byte, level int) { ast.DumpHelper(n, source, level, nil, nil) }

// detailsRenderer writes detailsHTML nodes.
type detailsRenderer struct{}

func (detailsRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(kindDetailsHTML, func(w util.BufWriter, _ []byte, n ast.Node, entering bool) (ast.WalkStatus, error) {
		if entering {
			_, _ = w.Write(n.(*detailsHTML).html)
		}
		return ast.WalkSkipChildren, nil
	})
}

// openTag is a <details> or <summary> left open, in the container that
// opened it.
type openTag struct {
	name      string
	container ast.Node
}

// detailsTransformer rewrites the HTML blocks that hold <details> or
// <summary> (see above).
type detailsTransformer struct{}

func (detailsTransformer) Transform(doc *ast.Document, reader text.Reader, _ parser.Context) {
	src := reader.Source()
	var (
		open    []openTag
		refused = map[string]int{} // start tags refused past MaxDepth, whose end tags go too
		replace = map[ast.Node]*detailsHTML{}
		closers = map[ast.Node]*detailsHTML{}
	)
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			// What n left open closes where n ends.
			var out bytes.Buffer
			for len(open) > 0 && open[len(open)-1].container == n {
				out.WriteString("</" + open[len(open)-1].name + ">")
				open = open[:len(open)-1]
			}
			if out.Len() > 0 {
				out.WriteByte('\n')
				closers[n] = &detailsHTML{html: out.Bytes()}
			}
			return ast.WalkContinue, nil
		}
		b, ok := n.(*ast.HTMLBlock)
		if !ok {
			return ast.WalkContinue, nil
		}
		raw := b.Lines().Value(src)
		if b.HasClosure() {
			raw = append(raw, b.ClosureLine.Value(src)...)
		}
		if !holdsDetails(raw) {
			return ast.WalkSkipChildren, nil
		}
		container := b.Parent()
		var out bytes.Buffer
		z := html.NewTokenizer(bytes.NewReader(raw))
		skipText := false // the text of script, style and the like
		for {
			tt := z.Next()
			if tt == html.ErrorToken {
				break
			}
			tok := z.Token()
			name := tok.Data
			inRaw := skipText
			skipText = false
			switch tt {
			case html.TextToken:
				if !inRaw {
					out.WriteString(html.EscapeString(tok.Data))
				}
			case html.StartTagToken, html.SelfClosingTagToken:
				if name != "details" && name != "summary" {
					skipText = tt == html.StartTagToken && rawTextTags[name]
					continue
				}
				if len(open) >= MaxDepth {
					refused[name]++
					continue
				}
				out.WriteString("<" + name)
				if name == "details" && hasAttr(tok, "open") {
					out.WriteString(` open=""`)
				}
				out.WriteString(">")
				open = append(open, openTag{name, container})
			case html.EndTagToken:
				if name != "details" && name != "summary" {
					continue
				}
				if refused[name] > 0 {
					refused[name]--
					continue
				}
				// Close up to the innermost name opened in this
				// container, as a browser would; nothing if there is none.
				i := len(open) - 1
				for i >= 0 && open[i].container == container && open[i].name != name {
					i--
				}
				if i < 0 || open[i].container != container {
					continue
				}
				for j := len(open) - 1; j >= i; j-- {
					out.WriteString("</" + open[j].name + ">")
				}
				open = open[:i]
			}
		}
		if out.Len() > 0 && out.Bytes()[out.Len()-1] != '\n' {
			out.WriteByte('\n')
		}
		replace[b] = &detailsHTML{html: out.Bytes()}
		return ast.WalkSkipChildren, nil
	})
	for old, n := range replace {
		old.Parent().ReplaceChild(old.Parent(), old, n)
	}
	for container, n := range closers {
		container.AppendChild(container, n)
	}
}

// holdsDetails reports whether raw HTML holds a <details> or <summary>
// tag, start or end.
func holdsDetails(raw []byte) bool {
	s := strings.ToLower(string(raw))
	if !strings.Contains(s, "details") && !strings.Contains(s, "summary") {
		return false
	}
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return false
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			if name, _ := z.TagName(); string(name) == "details" || string(name) == "summary" {
				return true
			}
		}
	}
}

func hasAttr(tok html.Token, key string) bool {
	for _, a := range tok.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
}

// rawTextTags are the tags whose content the tokenizer reads as one text,
// not as HTML: none of it is shown.
var rawTextTags = map[string]bool{
	"iframe": true, "noembed": true, "noframes": true, "noscript": true, "plaintext": true,
	"script": true, "style": true, "textarea": true, "title": true, "xmp": true,
}
