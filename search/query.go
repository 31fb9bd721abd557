package search

import (
	"context"
	"math"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	bleveindex "github.com/blevesearch/bleve_index_api"
)

func term(field, value string) *query.TermQuery {
	q := bleve.NewTermQuery(value)
	q.SetField(field)
	return q
}

// visible is the privacy filter: the repositories the query's principals
// may read. It is a filter inside the query, never applied to a page
// afterwards, so totals count only what the caller may see; it does not
// score, so Bleve turns it into one bitmap of its terms.
func visible(sq Query) query.Query {
	if sq.AllReaders {
		// Only repositories carry readers, so the readers filter also keeps
		// out namespace documents; without it, say so.
		return term(fType, "repo")
	}
	if len(sq.Principals) == 0 {
		return term(fReaders, PublicReader)
	}
	rs := make([]query.Query, 0, len(sq.Principals))
	for _, p := range sq.Principals {
		rs = append(rs, term(fReaders, p))
	}
	if len(rs) == 1 {
		return rs[0]
	}
	return bleve.NewDisjunctionQuery(rs...)
}

// tokens splits search text into words, lowercased.
func tokens(s string) []string {
	return strings.Fields(strings.ToLower(strings.TrimSpace(s)))
}

// proseClause matches a query word, stemmed, in the description, the
// README or the tags: a term query when the word is one term, as it most
// often is (Bleve then unites and intersects the terms' bitmaps when it
// need not score), any of them when it is more, nil when none.
func (b *Bleve) proseClause(w string) query.Query {
	toks := b.prose.Analyze([]byte(w))
	qs := make([]query.Query, 0, len(toks))
	for _, t := range toks {
		qs = append(qs, term(fProse, string(t.Term)))
	}
	switch len(qs) {
	case 0:
		return nil
	case 1:
		return qs[0]
	}
	return bleve.NewDisjunctionQuery(qs...)
}

// nameClause matches a query word in a repository's name, as a prefix
// of the name's words (all of them, for "my-app") or of the name with its
// separators taken out ("myapp" for "my-app" and "my_app"), at the given
// boost.
func nameClause(w string, boost float64) query.Query {
	words := nameWords(w)
	if len(words) == 0 {
		return nil
	}
	j := strings.Join(words, "")
	jt := term(fNamePrefix, j)
	jt.SetBoost(boost)
	if len(words) == 1 {
		return jt // one word: its prefix is the joined name's
	}
	ws := make([]query.Query, len(words))
	for i, w := range words {
		t := term(fNamePrefix, w)
		t.SetBoost(boost)
		ws[i] = t
	}
	all := bleve.NewConjunctionQuery(ws...)
	if utf8.RuneCountInString(j) > maxPrefix {
		return all // longer than any prefix indexed
	}
	return bleve.NewDisjunctionQuery(all, jt)
}

// wordClauses match a query word: as the whole name (boosted most), in
// the name (nameClause), or in the prose (proseClause).
func (b *Bleve) wordClauses(w string) []query.Query {
	exact := term(fExact, w)
	exact.SetBoost(12)
	out := []query.Query{exact}
	if n := nameClause(w, 4); n != nil {
		out = append(out, n)
	}
	if p := b.proseClause(w); p != nil {
		out = append(out, p)
	}
	return out
}

// textQuery matches every word of the text somewhere, and scores how
// well.
func (b *Bleve) textQuery(words []string) query.Query {
	all := make([]query.Query, 0, len(words))
	for _, w := range words {
		all = append(all, bleve.NewDisjunctionQuery(b.wordClauses(w)...))
	}
	if len(all) == 1 {
		return all[0]
	}
	return bleve.NewConjunctionQuery(all...)
}

// nameQuery matches a name with any word of the text.
func (b *Bleve) nameQuery(words []string) query.Query {
	var any []query.Query
	for _, w := range words {
		any = append(any, term(fExact, w))
		if n := nameClause(w, 1); n != nil {
			any = append(any, n)
		}
	}
	return bleve.NewDisjunctionQuery(any...)
}

// unscored is a query that only selects documents. Made of terms, Bleve
// searches it as one bitmap, the terms' bitmaps united and intersected,
// before it iterates anything.
type unscored struct{ query.Query }

func (u unscored) Searcher(ctx context.Context, i bleveindex.IndexReader, m mapping.IndexMapping, _ search.SearcherOptions) (search.Searcher, error) {
	return u.Query.Searcher(ctx, i, m, search.SearcherOptions{Score: "none"})
}

// within scores the documents that set selects by the text: set leads
// the conjunction (an unscored bitmap counts no documents), so only its
// documents are scored, whatever the text's terms match elsewhere.
func within(set query.Query, text query.Query) query.Query {
	if c, ok := text.(*query.ConjunctionQuery); ok {
		// One conjunction of the set and the words, not two nested.
		return bleve.NewConjunctionQuery(append([]query.Query{unscored{set}}, c.Conjuncts...)...)
	}
	return bleve.NewConjunctionQuery(unscored{set}, text)
}

// rerankWindow is how many top hits are re-ranked with popularity.
const rerankWindow = 50

// tieredHit is a hit of the first tier (a name matches), the second
// (only the prose does) or the fuzzy one (tierFuzzy: a name with a typo).
type tieredHit struct {
	Hit
	tier int
}

// Search implements Index.
//
// Relevance comes first, in three tiers: repositories whose name matches
// a word of the text, then those that match only in their description,
// README or tags, then those whose name matches only with a typo
// (fuzzyTier, which comes last in the other sorts too); within a tier,
// the text's score orders them. This is
// also what keeps typical queries fast: a name tier that fills the page
// is all that is scored, the (much larger) prose-only tier is searched
// only when the page reaches it, and the total is a count that needs no
// scores. Among the top hits, stars and pulls lift a repository
// (log-damped, so relevance still leads), and a name that equals the
// query stays on top.
func (b *Bleve) Search(ctx context.Context, sq Query) (*Result, error) {
	if sq.Limit <= 0 {
		sq.Limit = 25
	}
	sq.Offset = max(sq.Offset, 0)
	words := tokens(sq.Text)
	filter := visible(sq)
	rerank := sq.Sort == SortRelevance && sq.Offset+sq.Limit <= rerankWindow
	lo, hi := sq.Offset, sq.Offset+sq.Limit
	if rerank {
		lo, hi = 0, rerankWindow
	}
	var hits []tieredHit
	var total uint64
	var err error
	if sq.Sort == SortRelevance && len(words) > 0 {
		hits, total, err = b.searchTiers(ctx, words, filter, lo, hi)
	} else {
		hits, total, err = b.searchSorted(ctx, words, filter, sq.Sort, lo, hi)
	}
	if err != nil {
		return nil, err
	}
	if rerank {
		if err := b.rerank(ctx, hits, words); err != nil {
			return nil, err
		}
		hits = hits[min(sq.Offset, len(hits)):min(sq.Offset+sq.Limit, len(hits))]
	}
	out := make([]Hit, len(hits))
	for i, h := range hits {
		out[i] = h.Hit
	}
	return &Result{Total: total, Hits: out}, nil
}

// searchTiers finds the hits from lo to hi of the tiered relevance order,
// and how many there are in all.
func (b *Bleve) searchTiers(ctx context.Context, words []string, filter query.Query, lo, hi int) ([]tieredHit, uint64, error) {
	text := b.textQuery(words)
	visibleText := bleve.NewConjunctionQuery(text, filter)
	// The total first: without scores, it is a count of one bitmap, the
	// terms' bitmaps united and intersected.
	count := bleve.NewSearchRequestOptions(visibleText, 0, 0, false)
	count.Score = "none"
	res, err := b.idx.SearchInContext(ctx, count)
	if err != nil {
		return nil, 0, err
	}
	total := res.Total
	var hits []tieredHit
	if total > 0 {
		if hits, err = b.exactTiers(ctx, words, text, visibleText, total, lo, hi); err != nil {
			return nil, 0, err
		}
	}
	fuzzy, n, err := b.fuzzyTier(ctx, words, text, filter, []string{"-_score"}, total, lo, hi)
	if err != nil {
		return nil, 0, err
	}
	return append(hits, fuzzy...), total + n, nil
}

// exactTiers finds the hits from lo to hi of the name tier and the prose
// tier, which visibleText matches, total of them.
func (b *Bleve) exactTiers(ctx context.Context, words []string, text, visibleText query.Query, total uint64, lo, hi int) ([]tieredHit, error) {
	names := b.nameQuery(words)
	first, err := b.scored(ctx, within(bleve.NewConjunctionQuery(names, visibleText), text), lo, hi-lo, 1)
	if err != nil {
		return nil, err
	}
	hits, n1 := first.hits, int(first.total)
	if hi <= n1 || uint64(n1) >= total {
		return hits, nil
	}
	// The page reaches the prose-only tier: what matches but not by name.
	var rest query.Query = visibleText
	if n1 > 0 {
		bq := bleve.NewBooleanQuery()
		bq.AddMust(visibleText)
		bq.AddMustNot(names)
		rest = bq
	}
	second, err := b.scored(ctx, within(rest, text), max(lo-n1, 0), hi-max(lo, n1), 2)
	if err != nil {
		return nil, err
	}
	return append(hits, second.hits...), nil
}

type page struct {
	hits  []tieredHit
	total uint64
}

// scored runs q ordered by score alone: a field as a second sort key
// would load doc values for every match, not just the top ones.
func (b *Bleve) scored(ctx context.Context, q query.Query, from, size, tier int) (page, error) {
	req := bleve.NewSearchRequestOptions(q, size, from, false)
	req.SortBy([]string{"-_score"})
	res, err := b.idx.SearchInContext(ctx, req)
	if err != nil {
		return page{}, err
	}
	hits := make([]tieredHit, 0, len(res.Hits))
	for _, h := range res.Hits {
		hits = append(hits, tieredHit{Hit{Name: strings.TrimPrefix(h.ID, "r:"), Score: h.Score}, tier})
	}
	return page{hits: hits, total: res.Total}, nil
}

// searchSorted finds the hits from lo to hi of the text sorted by a
// field, or by score alone.
func (b *Bleve) searchSorted(ctx context.Context, words []string, filter query.Query, by string, lo, hi int) ([]tieredHit, uint64, error) {
	// No words match (and score) everything alike.
	q := within(filter, bleve.NewMatchAllQuery())
	var text query.Query
	if len(words) > 0 {
		text = b.textQuery(words)
		q = within(bleve.NewConjunctionQuery(text, filter), text)
	}
	req := bleve.NewSearchRequestOptions(q, hi-lo, lo, false)
	keys := sortKeys(by)
	req.SortBy(keys)
	res, err := b.idx.SearchInContext(ctx, req)
	if err != nil {
		return nil, 0, err
	}
	hits := make([]tieredHit, 0, len(res.Hits))
	for _, h := range res.Hits {
		hits = append(hits, tieredHit{Hit{Name: strings.TrimPrefix(h.ID, "r:"), Score: h.Score}, 1})
	}
	if text == nil {
		return hits, res.Total, nil
	}
	// Names with a typo come after what the text matches as typed, sorted
	// the same way.
	fuzzy, n, err := b.fuzzyTier(ctx, words, text, filter, keys, res.Total, lo, hi)
	if err != nil {
		return nil, 0, err
	}
	return append(hits, fuzzy...), res.Total + n, nil
}

// sortKeys are the keys a search sorts by. Ties keep the index's order,
// which is stable from page to page; a last key of _id would read the id
// of every match.
func sortKeys(by string) []string {
	switch by {
	case SortStars:
		return []string{"-" + fStars, "-" + fPulls, "-_score"}
	case SortPulls:
		return []string{"-" + fPulls, "-" + fStars, "-_score"}
	case SortUpdated:
		return []string{"-" + fUpdated, "-_score"}
	}
	return []string{"-_score"}
}

// rerank lifts popular repositories within each tier of the top hits,
// and puts a name equal to a one-word query first.
func (b *Bleve) rerank(ctx context.Context, hits []tieredHit, words []string) error {
	pop, err := b.popularity(ctx, hits)
	if err != nil {
		return err
	}
	for i := range hits {
		p := pop[hits[i].Name]
		boost := 1 + 0.12*math.Log1p(p[0]) + 0.04*math.Log1p(p[1])
		hits[i].Score *= boost
		if len(words) == 1 && (shortName(hits[i].Name) == words[0] || hits[i].Name == words[0]) {
			hits[i].Score += 1e6 // an exact name always leads
		}
	}
	sort.SliceStable(hits, func(i, j int) bool {
		a, b := hits[i], hits[j]
		if a.tier != b.tier {
			return a.tier < b.tier
		}
		if a.Score != b.Score {
			return a.Score > b.Score
		}
		return a.Name < b.Name
	})
	return nil
}

// popularity reads stars and pulls of a window of hits: a search on just
// their ids, sorted by the two fields, hands them back as sort keys.
func (b *Bleve) popularity(ctx context.Context, hits []tieredHit) (map[string][2]float64, error) {
	out := make(map[string][2]float64, len(hits))
	if len(hits) == 0 {
		return out, nil
	}
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = repoID(h.Name)
	}
	req := bleve.NewSearchRequestOptions(bleve.NewDocIDQuery(ids), len(ids), 0, false)
	req.Score = "none"
	req.SortBy([]string{"-" + fStars, "-" + fPulls})
	res, err := b.idx.SearchInContext(ctx, req)
	if err != nil {
		return nil, err
	}
	for _, h := range res.Hits {
		if len(h.Sort) >= 2 {
			out[strings.TrimPrefix(h.ID, "r:")] = [2]float64{sortNumber(h.Sort[0]), sortNumber(h.Sort[1])}
		}
	}
	return out, nil
}

// Suggest implements Index: names whose words start with the text.
func (b *Bleve) Suggest(ctx context.Context, sq Query) ([]string, error) {
	words := tokens(sq.Text)
	if len(words) == 0 {
		return nil, nil
	}
	var parts []query.Query
	for _, w := range words {
		if r := []rune(w); len(r) > maxPrefix {
			w = string(r[:maxPrefix])
		}
		n := nameClause(w, 1)
		if n == nil {
			return nil, nil
		}
		parts = append(parts, n)
	}
	var q query.Query = bleve.NewConjunctionQuery(parts...)
	if len(parts) == 1 {
		q = parts[0]
	}
	q = within(bleve.NewConjunctionQuery(q, visible(sq)), q)
	req := bleve.NewSearchRequestOptions(q, max(sq.Limit, 1), 0, false)
	req.SortBy([]string{"-_score", "-" + fStars, "_id"})
	res, err := b.idx.SearchInContext(ctx, req)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(res.Hits))
	for _, h := range res.Hits {
		out = append(out, strings.TrimPrefix(h.ID, "r:"))
	}
	return out, nil
}

// SearchNamespaces implements Index.
func (b *Bleve) SearchNamespaces(ctx context.Context, text string, limit int) ([]Namespace, error) {
	words := tokens(text)
	if len(words) == 0 {
		return nil, nil
	}
	parts := []query.Query{term(fType, "ns")}
	for _, w := range words {
		var any []query.Query
		for _, nw := range nameWords(w) {
			any = append(any, term(fNamePrefix, nw))
		}
		switch len(any) {
		case 0:
			return nil, nil
		case 1:
			parts = append(parts, any[0])
		default:
			parts = append(parts, bleve.NewDisjunctionQuery(any...))
		}
	}
	req := bleve.NewSearchRequestOptions(bleve.NewConjunctionQuery(parts...), limit, 0, false)
	req.Fields = []string{"ns_name", "ns_kind"}
	res, err := b.idx.SearchInContext(ctx, req)
	if err != nil {
		return nil, err
	}
	out := make([]Namespace, 0, len(res.Hits))
	for _, h := range res.Hits {
		n, _ := h.Fields["ns_name"].(string)
		k, _ := h.Fields["ns_kind"].(string)
		out = append(out, Namespace{Name: n, Kind: k})
	}
	return out, nil
}
