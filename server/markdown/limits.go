package markdown

import (
	"bytes"
	"sort"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// goldmark does work that grows with the square of some inputs: every
// level of a block quote or list, every unclosed "](", every emphasis
// closer that looks back over unmatched openers, every padded table cell
// and every link reference definition costs a pass over what follows or
// what came before. The wrappers below bound each of those passes, so a
// render costs a constant times its input; what they refuse is shown as
// the text it is.
const (
	// MaxDepth is how deeply block quotes and lists nest; a deeper one is
	// text in the innermost.
	MaxDepth = 16
	// maxLinkParens is how deeply parentheses nest in a link destination
	// (cmark's limit); a deeper one is not a link.
	maxLinkParens = 32
	// maxDelimiters is how many runs of * _ ~ one paragraph may open or
	// close; later ones are text.
	maxDelimiters = 256
	// maxTableColumns is the widest table.
	maxTableColumns = 128
	// maxEscapedPipes bounds the \| inside code in all tables of a
	// document: the table extension's pass over them is quadratic.
	maxEscapedPipes = 256
	// maxRefWork bounds, per document, the link reference definitions
	// times the lines of the paragraphs that hold them: goldmark copies
	// the rest of the paragraph for each definition it takes out.
	maxRefWork = 1 << 20
)

var (
	delimitersKey = parser.NewContextKey()
	escapedKey    = parser.NewContextKey()
	refWorkKey    = parser.NewContextKey()
)

// nesting counts the block quotes and lists that n is in, n included.
func nesting(n ast.Node) int {
	d := 0
	for ; n != nil; n = n.Parent() {
		switch n.Kind() {
		case ast.KindBlockquote, ast.KindList:
			d++
		}
	}
	return d
}

// shallowBlockquote opens no block quote deeper than MaxDepth.
type shallowBlockquote struct{ parser.BlockParser }

func (p shallowBlockquote) Open(parent ast.Node, reader text.Reader, pc parser.Context) (ast.Node, parser.State) {
	// Refuse before goldmark's Open, which consumes the marker.
	if nesting(parent) >= MaxDepth {
		return nil, parser.NoChildren
	}
	return p.BlockParser.Open(parent, reader, pc)
}

// shallowList opens no list deeper than MaxDepth.
type shallowList struct{ parser.BlockParser }

func (p shallowList) Open(parent ast.Node, reader text.Reader, pc parser.Context) (ast.Node, parser.State) {
	// goldmark's Open first, which consumes nothing but clears the state
	// that its list item parser left for it.
	n, st := p.BlockParser.Open(parent, reader, pc)
	if n != nil && nesting(parent) >= MaxDepth {
		return nil, parser.NoChildren
	}
	return n, st
}

// boundedLinks is goldmark's link parser, except that "](" whose
// destination nests parentheses deeper than maxLinkParens, or opens "<"
// inside "<...>", is not an inline link: goldmark scans such a
// destination to the end of the line, once for every "](" on it. And it
// reads link labels in time of their length: goldmark's block reader
// looks for a label's line from the last line of the paragraph back.
type boundedLinks struct{ parser.InlineParser }

func (p boundedLinks) Parse(parent ast.Node, block text.Reader, pc parser.Context) ast.Node {
	line, _ := block.PeekLine()
	if len(line) == 0 || line[0] != ']' {
		return p.InlineParser.Parse(parent, block, pc)
	}
	r := labelReader{Reader: block, lines: parent.Lines()}
	// With the "(" hidden, goldmark takes a refused "](" as it takes one
	// whose link fails: a shortcut reference, or text.
	r.hideParen = len(line) > 1 && line[1] == '(' && badDestination(block)
	return p.InlineParser.Parse(parent, r, pc)
}

// CloseBlock passes goldmark's clean-up through.
func (p boundedLinks) CloseBlock(parent ast.Node, block text.Reader, pc parser.Context) {
	if cb, ok := p.InlineParser.(parser.CloseBlocker); ok {
		cb.CloseBlock(parent, block, pc)
	}
}

// labelReader is the block reader that goldmark's link parser sees at a
// "]". It finds a segment's first line by binary search, and it may hide
// the "(" after the "]" (the parser peeks once there).
type labelReader struct {
	text.Reader
	lines     *text.Segments
	hideParen bool
}

func (r labelReader) Peek() byte {
	if r.hideParen {
		return 0
	}
	return r.Reader.Peek()
}

// Value is text.blockReader's Value with a binary search for the line.
func (r labelReader) Value(seg text.Segment) []byte {
	n := 0
	if r.lines != nil {
		n = r.lines.Len()
	}
	line := sort.Search(n, func(i int) bool { return r.lines.At(i).Start > seg.Start }) - 1
	if line < 0 {
		return r.Reader.Value(seg)
	}
	src := r.Source()
	ret := make([]byte, 0, seg.Stop-seg.Start+1)
	for i := seg.Start; line < n; line++ {
		s := r.lines.At(line)
		if i < 0 {
			i = s.Start
		}
		ret = s.ConcatPadding(ret)
		if stop := min(seg.Stop, s.Stop); i < stop {
			ret = append(ret, src[i:stop]...)
		}
		i = -1
		if s.Stop > seg.Stop {
			break
		}
	}
	return ret
}

// badDestination reports whether the destination after the "](" at the
// reader is one that boundedLinks refuses. It scans as goldmark's
// parseLinkDestination does and stops at the same places, or sooner, so a
// refusal costs at most maxLinkParens "(" of scanning.
func badDestination(block text.Reader) bool {
	l, pos := block.Position()
	defer block.SetPosition(l, pos)
	block.Advance(2)
	block.SkipSpaces()
	line, _ := block.PeekLine()
	if block.Peek() == '<' {
		for i := 1; i < len(line); i++ {
			switch c := line[i]; {
			case c == '\\' && i < len(line)-1 && util.IsPunct(line[i+1]):
				i++
			case c == '>':
				return false
			case c == '<': // CommonMark allows none; goldmark would scan on
				return true
			}
		}
		return false // goldmark's scan ends with the line
	}
	opened := 0
	for i := 0; i < len(line); i++ {
		switch c := line[i]; {
		case c == '\\' && i < len(line)-1 && util.IsPunct(line[i+1]):
			i++
		case c == '(':
			if opened++; opened > maxLinkParens {
				return true
			}
		case c == ')':
			if opened--; opened < 0 {
				return false
			}
		case util.IsSpace(c):
			return false
		}
	}
	return false
}

// fewDelimiters lets one paragraph have at most maxDelimiters runs of
// emphasis or strikethrough delimiters. goldmark matches each closer by
// walking back over every opener still unmatched, so their number must be
// bounded.
type fewDelimiters struct{ parser.InlineParser }

func (p fewDelimiters) Parse(parent ast.Node, block text.Reader, pc parser.Context) ast.Node {
	n, _ := pc.Get(delimitersKey).(int)
	if n >= maxDelimiters {
		return nil
	}
	node := p.InlineParser.Parse(parent, block, pc)
	if node != nil {
		pc.Set(delimitersKey, n+1)
	}
	return node
}

// CloseBlock starts the count again for the next paragraph.
func (p fewDelimiters) CloseBlock(parent ast.Node, block text.Reader, pc parser.Context) {
	pc.Set(delimitersKey, nil)
	if cb, ok := p.InlineParser.(parser.CloseBlocker); ok {
		cb.CloseBlock(parent, block, pc)
	}
}

// smallTables leaves a paragraph as text rather than make it a table that
// is wider than maxTableColumns, has more cells than bytes (GFM pads short
// rows, so "|" lines under a wide header would each become a full row),
// or brings the document's \| inside code past maxEscapedPipes.
type smallTables struct{ parser.ParagraphTransformer }

func (t smallTables) Transform(node *ast.Paragraph, reader text.Reader, pc parser.Context) {
	lines := node.Lines()
	if lines.Len() < 2 {
		return
	}
	src := reader.Source()
	cols, size, escaped, code := 0, 0, 0, false
	for i := range lines.Len() {
		seg := lines.At(i)
		line := seg.Value(src)
		size += len(line)
		pipes, dashes, delim := 0, 0, true
		for j, c := range line {
			switch c {
			case '|':
				pipes++
				if j > 0 && line[j-1] == '\\' {
					escaped++
				}
			case '`':
				code = true
			case '-':
				dashes++
			case ':', ' ', '\t', '\n', '\r':
			default:
				delim = false
			}
		}
		if delim && dashes > 0 { // what a delimiter row can be
			t := bytes.TrimSpace(line)
			n := pipes + 1
			if t[0] == '|' {
				n--
			}
			if len(t) > 1 && t[len(t)-1] == '|' {
				n--
			}
			cols = max(cols, n)
		}
	}
	if cols == 0 {
		return // no delimiter row: not a table
	}
	if cols > maxTableColumns || cols*lines.Len() > size+1024 {
		return
	}
	if code && escaped > 0 {
		seen, _ := pc.Get(escapedKey).(int)
		if seen+escaped > maxEscapedPipes {
			return
		}
		pc.Set(escapedKey, seen+escaped)
	}
	t.ParagraphTransformer.Transform(node, reader, pc)
}

// fewReferences stops taking link reference definitions out of paragraphs
// once the document has cost maxRefWork (see there).
type fewReferences struct{ parser.ParagraphTransformer }

func (t fewReferences) Transform(node *ast.Paragraph, reader text.Reader, pc parser.Context) {
	lines := node.Lines()
	src := reader.Source()
	defs := 0
	for i := range lines.Len() {
		seg := lines.At(i)
		line := seg.Value(src)
		w, pos := util.IndentWidth(line, 0)
		if w <= 3 && pos < len(line) && line[pos] == '[' {
			defs++
		}
	}
	if defs == 0 {
		return // a definition starts with "["
	}
	spent, _ := pc.Get(refWorkKey).(int)
	if spent += defs * lines.Len(); spent > maxRefWork {
		return
	}
	pc.Set(refWorkKey, spent)
	t.ParagraphTransformer.Transform(node, reader, pc)
}
