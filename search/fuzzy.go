package search

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"
)

// Typos. A word that matches no name as typed may still be a name with a
// typo in it: "nignx" is "nginx". The fuzzy tier holds the repositories
// that match every word of the text, as typed (wordClauses) or, for a word
// of three letters or more, as a word of the name an edit or two away
// from it (a letter added, left out or changed, or two letters swapped),
// and that the text as typed does not match. It comes after every hit of
// the text as typed, whatever the sort, and it is filtered by the same
// visible filter as they are, so that it neither shows nor counts what
// the caller may not see.

// tierFuzzy is the tier of the hits that only a typo explains, after the
// name tier (1) and the prose tier (2).
const tierFuzzy = 3

// fuzziness is how many edits a name word may be from a query word w:
// none for one or two letters (too many names are one edit from those),
// one up to five letters, two beyond. It is Bleve's "auto" fuzziness, in
// letters rather than bytes.
func fuzziness(w string) int {
	switch n := utf8.RuneCountInString(w); {
	case n <= 2:
		return 0
	case n <= 5:
		return 1
	}
	return 2
}

// fuzzyClause matches a query word, its separators taken out, as a word
// of a name or the short name with its separators taken out (anWords),
// with a typo; nil when the word is too short to have one.
func fuzzyClause(w string) query.Query {
	j := joined(w)
	f := fuzziness(j)
	if f == 0 {
		return nil
	}
	q := bleve.NewFuzzyQuery(j)
	q.SetField(fNameWord)
	q.SetFuzziness(f)
	return q
}

// fuzzyQuery matches every word of the text as typed or with a typo, and
// at least one with a typo, and scores how well (a closer name word
// scores more); nil when no word is long enough to have a typo. The
// clause of any typo, sparse, is what the search iterates, skipping the
// many documents the words as typed match.
func (b *Bleve) fuzzyQuery(words []string) query.Query {
	all := make([]query.Query, 0, len(words)+1)
	var typos []query.Query
	for _, w := range words {
		f := fuzzyClause(w)
		if f == nil {
			all = append(all, bleve.NewDisjunctionQuery(b.wordClauses(w)...))
			continue
		}
		typos = append(typos, f)
		all = append(all, bleve.NewDisjunctionQuery(append(b.wordClauses(w), f)...))
	}
	switch {
	case len(typos) == 0:
		return nil
	case len(words) == 1:
		return typos[0] // the text as typed is left out anyway
	}
	return bleve.NewConjunctionQuery(append([]query.Query{unscored{bleve.NewDisjunctionQuery(typos...)}}, all...)...)
}

// fuzzyOnly is what fuzzy matches among what filter lets the caller see,
// scored by fuzzy, less what text matches as typed: those are the other
// tiers' hits.
func fuzzyOnly(fuzzy, text, filter query.Query) query.Query {
	bq := bleve.NewBooleanQuery()
	bq.AddMust(unscored{filter}, fuzzy)
	bq.AddMustNot(unscored{text})
	return bq
}

// fuzzyTier finds the hits of the fuzzy tier that fall from lo to hi of
// the whole order, in which it starts at start (after the hits of the
// text as typed), ordered by sortBy; and how many hits it has in all.
func (b *Bleve) fuzzyTier(ctx context.Context, words []string, text, filter query.Query, sortBy []string, start uint64, lo, hi int) ([]tieredHit, uint64, error) {
	fz := b.fuzzyQuery(words)
	if fz == nil {
		return nil, 0, nil
	}
	q := fuzzyOnly(fz, text, filter)
	s := int(min(start, uint64(hi)))
	from, size := max(lo-s, 0), hi-max(lo, s)
	if size <= 0 {
		// The page ends before the tier: it only counts.
		req := bleve.NewSearchRequestOptions(q, 0, 0, false)
		req.Score = "none"
		res, err := b.idx.SearchInContext(ctx, req)
		if err != nil {
			return nil, 0, err
		}
		return nil, res.Total, nil
	}
	req := bleve.NewSearchRequestOptions(q, size, from, false)
	req.SortBy(sortBy)
	res, err := b.idx.SearchInContext(ctx, req)
	if err != nil {
		return nil, 0, err
	}
	hits := make([]tieredHit, 0, len(res.Hits))
	for _, h := range res.Hits {
		hits = append(hits, tieredHit{Hit{Name: strings.TrimPrefix(h.ID, "r:"), Score: h.Score}, tierFuzzy})
	}
	return hits, res.Total, nil
}
