package search

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"unicode"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/token/edgengram"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/regexp"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/single"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/index/scorch/mergeplan"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/numeric"
	"github.com/blevesearch/bleve/v2/search/query"
	bolterrors "go.etcd.io/bbolt/errors"
)

// mappingVersion changes with the index mapping: an index built with
// another one is rebuilt, as a corrupt one is.
const mappingVersion = "2"

var mappingKey = []byte("wharf_mapping_version")

// Bleve is the Index on a Bleve (scorch) index in a directory.
type Bleve struct {
	idx bleve.Index
}

var _ Index = (*Bleve)(nil)

// Analyzers. Names match by word prefixes ("ngin" finds "nginx", "my app"
// finds "my-app"), and by prefixes of the name with its separators taken
// out ("myapp" finds "my-app" and "my_app"); prose is stemmed English.
const (
	anNamePrefix   = "wharf_name_prefix"
	anNameQuery    = "wharf_name_query"
	anJoinedPrefix = "wharf_joined_prefix"
	maxPrefix      = 24
)

func newMapping() (*mapping.IndexMappingImpl, error) {
	m := bleve.NewIndexMapping()
	if err := m.AddCustomTokenizer("wharf_alnum", map[string]any{"type": regexp.Name, "regexp": `[\p{L}\p{N}]+`}); err != nil {
		return nil, err
	}
	if err := m.AddCustomTokenFilter("wharf_edge", map[string]any{"type": edgengram.Name, "min": 2.0, "max": float64(maxPrefix), "back": "false"}); err != nil {
		return nil, err
	}
	for name, def := range map[string]map[string]any{
		anNamePrefix:   {"type": custom.Name, "tokenizer": "wharf_alnum", "token_filters": []string{lowercase.Name, "wharf_edge"}},
		anNameQuery:    {"type": custom.Name, "tokenizer": "wharf_alnum", "token_filters": []string{lowercase.Name}},
		anJoinedPrefix: {"type": custom.Name, "tokenizer": single.Name, "token_filters": []string{lowercase.Name, "wharf_edge"}},
	} {
		if err := m.AddCustomAnalyzer(name, def); err != nil {
			return nil, err
		}
	}
	// Only the sort fields keep doc values; the rest are searched, never
	// uninverted, which keeps indexing fast and the index small.
	kw := func(store bool) *mapping.FieldMapping {
		f := bleve.NewKeywordFieldMapping()
		f.Store = store
		f.IncludeTermVectors = false
		f.IncludeInAll = false
		f.DocValues = false
		return f
	}
	text := func(analyzer string) *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = analyzer
		f.Store = false
		f.IncludeInAll = false
		f.IncludeTermVectors = false
		f.DocValues = false
		return f
	}
	num := func() *mapping.FieldMapping {
		f := bleve.NewNumericFieldMapping()
		f.Store = false // doc values serve sorting and popularity
		f.IncludeInAll = false
		return f
	}
	repo := bleve.NewDocumentStaticMapping()
	repo.AddFieldMappingsAt("type", kw(false))
	repo.AddFieldMappingsAt("exact", kw(false)) // the full name and the short name
	repo.AddFieldMappingsAt("namespace", kw(false))
	repo.AddFieldMappingsAt("name_prefix", text(anNamePrefix))
	repo.AddFieldMappingsAt("name_joined", text(anJoinedPrefix))
	// Description, README and tag names are searched as one stemmed field:
	// one clause per query word instead of three.
	repo.AddFieldMappingsAt("prose", text(en.AnalyzerName))
	repo.AddFieldMappingsAt("readers", kw(false))
	repo.AddFieldMappingsAt("stars", num())
	repo.AddFieldMappingsAt("pulls", num())
	upd := bleve.NewDateTimeFieldMapping()
	upd.Store = false
	upd.IncludeInAll = false
	repo.AddFieldMappingsAt("updated", upd)
	m.AddDocumentMapping("repo", repo)

	ns := bleve.NewDocumentStaticMapping()
	ns.AddFieldMappingsAt("type", kw(false))
	ns.AddFieldMappingsAt("ns_name", kw(true))
	ns.AddFieldMappingsAt("ns_kind", kw(true))
	ns.AddFieldMappingsAt("name_prefix", text(anNamePrefix))
	m.AddDocumentMapping("ns", ns)

	m.TypeField = "type"
	m.DefaultAnalyzer = keyword.Name
	m.DefaultMapping = bleve.NewDocumentDisabledMapping()
	return m, nil
}

// OpenBleve opens the index in dir, creating it if it does not exist. An
// index that exists but cannot be opened answers ErrCorrupt; created
// reports a new, empty index (which its owner fills with a rebuild).
func OpenBleve(dir string) (b *Bleve, created bool, err error) {
	// Another process holding the index fails fast instead of waiting.
	idx, err := bleve.OpenUsing(dir, map[string]any{"bolt_timeout": "2s"})
	switch {
	case err == nil:
		if v, _ := idx.GetInternal(mappingKey); string(v) != mappingVersion {
			idx.Close()
			return nil, false, fmt.Errorf("%w: built by another version of the mapping (%q, want %q)", ErrCorrupt, v, mappingVersion)
		}
		return &Bleve{idx: idx}, false, nil
	case errors.Is(err, bolterrors.ErrTimeout):
		return nil, false, fmt.Errorf("search index %s is in use by another process: %w", dir, err)
	case errors.Is(err, bleve.ErrorIndexPathDoesNotExist):
		m, err := newMapping()
		if err != nil {
			return nil, false, err
		}
		idx, err := bleve.New(dir, m)
		if err != nil {
			return nil, false, fmt.Errorf("create search index: %w", err)
		}
		if err := idx.SetInternal(mappingKey, []byte(mappingVersion)); err != nil {
			idx.Close()
			return nil, false, err
		}
		return &Bleve{idx: idx}, true, nil
	}
	return nil, false, fmt.Errorf("%w: %v", ErrCorrupt, err)
}

// RemoveBleve deletes an index directory, to rebuild it.
func RemoveBleve(dir string) error { return os.RemoveAll(dir) }

func repoID(name string) string { return "r:" + name }
func nsID(name string) string   { return "n:" + name }

// joined takes the separators out of a name: "my-app" is "myapp".
func joined(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return unicode.ToLower(r)
		}
		return -1
	}, s)
}

func shortName(full string) string {
	if i := strings.IndexByte(full, '/'); i >= 0 {
		return full[i+1:]
	}
	return full
}

// IndexRepos implements Index.
func (b *Bleve) IndexRepos(_ context.Context, repos []Repo) error {
	batch := b.idx.NewBatch()
	for _, r := range repos {
		short := shortName(r.Name)
		doc := map[string]any{
			"type": "repo", "exact": []string{r.Name, short}, "namespace": r.Namespace,
			"name_prefix": r.Name, "name_joined": joined(short),
			"prose":   r.Description + "\n" + r.Description + "\n" + r.Readme + "\n" + strings.Join(r.Tags, " "),
			"readers": r.Readers, "stars": float64(r.Stars), "pulls": float64(r.Pulls), "updated": r.Updated,
		}
		if err := batch.Index(repoID(r.Name), doc); err != nil {
			return err
		}
	}
	return b.idx.Batch(batch)
}

// DeleteRepos implements Index.
func (b *Bleve) DeleteRepos(_ context.Context, names []string) error {
	batch := b.idx.NewBatch()
	for _, n := range names {
		batch.Delete(repoID(n))
	}
	return b.idx.Batch(batch)
}

// IndexNamespaces implements Index.
func (b *Bleve) IndexNamespaces(_ context.Context, nss []Namespace) error {
	batch := b.idx.NewBatch()
	for _, n := range nss {
		if err := batch.Index(nsID(n.Name), map[string]any{"type": "ns", "ns_name": n.Name, "ns_kind": n.Kind, "name_prefix": n.Name}); err != nil {
			return err
		}
	}
	return b.idx.Batch(batch)
}

// DeleteNamespace implements Index.
func (b *Bleve) DeleteNamespace(ctx context.Context, ns string) error {
	q := bleve.NewConjunctionQuery(term("type", "repo"), term("namespace", ns))
	for {
		req := bleve.NewSearchRequestOptions(q, 1000, 0, false)
		res, err := b.idx.SearchInContext(ctx, req)
		if err != nil {
			return err
		}
		batch := b.idx.NewBatch()
		batch.Delete(nsID(ns))
		for _, h := range res.Hits {
			batch.Delete(h.ID)
		}
		if err := b.idx.Batch(batch); err != nil {
			return err
		}
		if len(res.Hits) < 1000 {
			return nil
		}
	}
}

func term(field, value string) *query.TermQuery {
	q := bleve.NewTermQuery(value)
	q.SetField(field)
	return q
}

// readable restricts q to documents the principals may read.
func readable(q query.Query, sq Query) query.Query {
	if sq.AllReaders {
		return q
	}
	var rs []query.Query
	for _, p := range sq.Principals {
		t := term("readers", p)
		t.SetBoost(0.0001) // filters, not relevance
		rs = append(rs, t)
	}
	if len(rs) == 0 {
		rs = append(rs, term("readers", PublicReader))
	}
	return bleve.NewConjunctionQuery(q, bleve.NewDisjunctionQuery(rs...))
}

// tokens splits search text into words, lowercased.
func tokens(s string) []string {
	return strings.Fields(strings.ToLower(strings.TrimSpace(s)))
}

// textQuery matches every word of the text somewhere: as the whole name
// (boosted most), as a prefix of a name's words or of the joined name,
// in the description, the README or the tags.
func textQuery(text string) query.Query {
	words := tokens(text)
	if len(words) == 0 {
		return bleve.NewMatchAllQuery()
	}
	var all []query.Query
	for _, w := range words {
		var any []query.Query
		exact := term("exact", w)
		exact.SetBoost(12)
		any = append(any, exact)
		if len(w) <= maxPrefix {
			pre := bleve.NewMatchQuery(w)
			pre.SetField("name_prefix")
			pre.Analyzer = anNameQuery
			pre.SetOperator(query.MatchQueryOperatorAnd)
			pre.SetBoost(4)
			any = append(any, pre)
		}
		if j := joined(w); j != "" && len(j) <= maxPrefix {
			jt := term("name_joined", j)
			jt.SetBoost(3)
			any = append(any, jt)
		}
		prose := bleve.NewMatchQuery(w)
		prose.SetField("prose")
		any = append(any, prose)
		all = append(all, bleve.NewDisjunctionQuery(any...))
	}
	if len(all) == 1 {
		return all[0]
	}
	return bleve.NewConjunctionQuery(all...)
}

// rerankWindow is how many top hits are re-ranked with popularity.
const rerankWindow = 50

// Search implements Index. Relevance comes first; among the top hits,
// stars and pulls lift a repository (log-damped, so relevance still
// leads), and a name that equals the query stays on top.
func (b *Bleve) Search(ctx context.Context, sq Query) (*Result, error) {
	if sq.Limit <= 0 {
		sq.Limit = 25
	}
	// Only repositories carry readers, so the privacy filter also keeps
	// out namespace documents; without it, say so.
	var q query.Query
	if sq.AllReaders {
		q = bleve.NewConjunctionQuery(term("type", "repo"), textQuery(sq.Text))
	} else {
		q = readable(textQuery(sq.Text), sq)
	}
	rerank := sq.Sort == SortRelevance && sq.Offset+sq.Limit <= rerankWindow
	size, from := sq.Limit, sq.Offset
	if rerank {
		size, from = rerankWindow, 0
	}
	req := bleve.NewSearchRequestOptions(q, size, from, false)
	req.Fields = nil
	switch sq.Sort {
	case SortStars:
		req.SortBy([]string{"-stars", "-pulls", "-_score", "_id"})
	case SortPulls:
		req.SortBy([]string{"-pulls", "-stars", "-_score", "_id"})
	case SortUpdated:
		req.SortBy([]string{"-updated", "-_score", "_id"})
	default:
		// Score only: a field sort key would load doc values for every
		// match, not just the top ones.
		req.SortBy([]string{"-_score"})
	}
	res, err := b.idx.SearchInContext(ctx, req)
	if err != nil {
		return nil, err
	}
	hits := make([]Hit, 0, len(res.Hits))
	for _, h := range res.Hits {
		hits = append(hits, Hit{Name: strings.TrimPrefix(h.ID, "r:"), Score: h.Score})
	}
	if rerank {
		pop, err := b.popularity(ctx, hits)
		if err != nil {
			return nil, err
		}
		words := tokens(sq.Text)
		for i := range hits {
			p := pop[hits[i].Name]
			boost := 1 + 0.12*math.Log1p(p[0]) + 0.04*math.Log1p(p[1])
			hits[i].Score *= boost
			if len(words) == 1 && (shortName(hits[i].Name) == words[0] || hits[i].Name == words[0]) {
				hits[i].Score += 1e6 // an exact name always leads
			}
		}
		sort.SliceStable(hits, func(i, j int) bool {
			if hits[i].Score != hits[j].Score {
				return hits[i].Score > hits[j].Score
			}
			return hits[i].Name < hits[j].Name
		})
		end := min(sq.Offset+sq.Limit, len(hits))
		if sq.Offset >= len(hits) {
			hits = nil
		} else {
			hits = hits[sq.Offset:end]
		}
	}
	return &Result{Total: res.Total, Hits: hits}, nil
}

// popularity reads stars and pulls of a window of hits: a search on just
// their ids, sorted by the two fields, hands them back as sort keys.
func (b *Bleve) popularity(ctx context.Context, hits []Hit) (map[string][2]float64, error) {
	out := make(map[string][2]float64, len(hits))
	if len(hits) == 0 {
		return out, nil
	}
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = repoID(h.Name)
	}
	req := bleve.NewSearchRequestOptions(bleve.NewDocIDQuery(ids), len(ids), 0, false)
	req.SortBy([]string{"-stars", "-pulls"})
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

// sortNumber decodes a numeric sort key.
func sortNumber(v string) float64 {
	i, err := numeric.PrefixCoded(v).Int64()
	if err != nil {
		return 0
	}
	return numeric.Int64ToFloat64(i)
}

// Suggest implements Index: names whose words start with the text.
func (b *Bleve) Suggest(ctx context.Context, sq Query) ([]string, error) {
	words := tokens(sq.Text)
	if len(words) == 0 {
		return nil, nil
	}
	var parts []query.Query
	for _, w := range words {
		if len(w) > maxPrefix {
			w = w[:maxPrefix]
		}
		mq := bleve.NewMatchQuery(w)
		mq.SetField("name_prefix")
		mq.Analyzer = anNameQuery
		mq.SetOperator(query.MatchQueryOperatorAnd)
		jt := term("name_joined", joined(w))
		parts = append(parts, bleve.NewDisjunctionQuery(mq, jt))
	}
	sq.Limit = max(sq.Limit, 1)
	sq.Offset = 0
	sq.Sort = SortRelevance
	q := readable(bleve.NewConjunctionQuery(append([]query.Query{term("type", "repo")}, parts...)...), sq)
	req := bleve.NewSearchRequestOptions(q, sq.Limit, 0, false)
	req.SortBy([]string{"-_score", "-stars", "_id"})
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
	var parts []query.Query
	for _, w := range words {
		mq := bleve.NewMatchQuery(w)
		mq.SetField("name_prefix")
		mq.Analyzer = anNameQuery
		parts = append(parts, mq)
	}
	q := bleve.NewConjunctionQuery(append([]query.Query{term("type", "ns")}, parts...)...)
	req := bleve.NewSearchRequestOptions(q, limit, 0, false)
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

// Count implements Index.
func (b *Bleve) Count() (uint64, error) { return b.idx.DocCount() }

// Close implements Index.
func (b *Bleve) Close() error { return b.idx.Close() }

// Compact merges the index's segments, as after a bulk rebuild, so that
// queries search a few large segments instead of many small ones.
func (b *Bleve) Compact(ctx context.Context) error {
	adv, err := b.idx.Advanced()
	if err != nil {
		return err
	}
	s, ok := adv.(*scorch.Scorch)
	if !ok {
		return nil
	}
	return s.ForceMerge(ctx, &mergeplan.MergePlanOptions{
		MaxSegmentsPerTier: 1, MaxSegmentSize: 1 << 30, SegmentsPerMergeTask: 10, FloorSegmentSize: 1 << 20,
	})
}
