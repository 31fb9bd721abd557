package search

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/registry"
)

// anName analyzes a name ("ns/name", or a namespace's) into the prefixes
// a person may type of it, all of them terms of one field:
//
//   - the prefixes of each word, its runs of letters and digits:
//     "acme/my-app" has "ac", "acm", "acme", "my", "ap", "app";
//   - the prefixes of the short name with its separators taken out that
//     are longer than its first word: "mya", "myap", "myapp" (the shorter
//     ones are the first word's already).
//
// Prefixes have minPrefix to maxPrefix letters; a shorter word is kept
// whole. It is registered with Bleve by name, and does in one pass, with
// a few allocations, what a tokenizer, a lowercase filter and an edge
// n-gram filter did for each of two fields.
const anName = "wharf_name"

const (
	minPrefix = 2
	maxPrefix = 24
)

// anWords analyzes a name into its whole words, and the short name with
// its separators taken out when it has more than one: "acme/my-app" is
// "acme", "my", "app", "myapp". A query word that matches no name exactly
// is compared with these, allowing a typo or two (fuzzyClause): whole
// words, as the prefixes of anName would match almost anything once
// fuzzy.
const anWords = "wharf_name_words"

func init() {
	for name, a := range map[string]analysis.Analyzer{anName: nameAnalyzer{}, anWords: wordsAnalyzer{}} {
		if err := registry.RegisterAnalyzer(name, func(map[string]any, *registry.Cache) (analysis.Analyzer, error) {
			return a, nil
		}); err != nil {
			panic(err)
		}
	}
}

func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
	}
	return unicode.IsLetter(r) || unicode.IsNumber(r)
}

// nameWords splits text into its words, lowercased: "My_App-2" is "my",
// "app", "2". Query words are split by it too, to match what anName
// indexed.
func nameWords(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !isWordRune(r) })
}

// joined takes the separators out of a name: "My-App" is "myapp".
func joined(s string) string {
	return strings.Join(nameWords(s), "")
}

type nameAnalyzer struct{}

func (nameAnalyzer) Analyze(input []byte) analysis.TokenStream {
	name := string(input)
	words := nameWords(name)
	short := words
	if i := strings.IndexByte(name, '/'); i >= 0 {
		short = nameWords(name[i+1:])
	}
	n := 0
	for _, w := range words {
		n += min(utf8.RuneCountInString(w), maxPrefix)
	}
	var join string
	if len(short) > 1 {
		join = strings.Join(short, "")
		n += max(min(utf8.RuneCountInString(join), maxPrefix)-utf8.RuneCountInString(short[0]), 0)
	}
	backing := make([]analysis.Token, 0, n)
	out := make(analysis.TokenStream, 0, n)
	pos := 0
	emit := func(w string, from int) {
		pos++
		b := []byte(w)
		runes := 0
		for i := 0; i < len(w); {
			_, size := utf8.DecodeRuneInString(w[i:])
			i += size
			runes++
			if runes > maxPrefix {
				return
			}
			if runes <= from || runes < minPrefix && i < len(w) {
				continue
			}
			t := analysis.Token{Term: b[:i:i], Start: 0, End: len(input), Position: pos, Type: analysis.AlphaNumeric}
			if len(backing) == cap(backing) {
				out = append(out, &t) // not reached: n counts them all
				continue
			}
			backing = append(backing, t)
			out = append(out, &backing[len(backing)-1])
		}
	}
	for _, w := range words {
		emit(w, 0)
	}
	if join != "" {
		emit(join, max(utf8.RuneCountInString(short[0]), minPrefix-1))
	}
	return out
}

type wordsAnalyzer struct{}

func (wordsAnalyzer) Analyze(input []byte) analysis.TokenStream {
	name := string(input)
	words := nameWords(name)
	short := words
	if i := strings.IndexByte(name, '/'); i >= 0 {
		short = nameWords(name[i+1:])
	}
	out := make(analysis.TokenStream, 0, len(words)+1)
	emit := func(w string) {
		out = append(out, &analysis.Token{Term: []byte(w), Start: 0, End: len(input), Position: len(out) + 1, Type: analysis.AlphaNumeric})
	}
	for _, w := range words {
		emit(w)
	}
	if len(short) > 1 {
		emit(strings.Join(short, ""))
	}
	return out
}
