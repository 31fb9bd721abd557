package search

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/document"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/index/scorch/mergeplan"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/numeric"
	bleveindex "github.com/blevesearch/bleve_index_api"
)

// mappingVersion changes with the index mapping: an index built with
// another one is rebuilt, as a corrupt one is.
const mappingVersion = "4"

var mappingKey = []byte("wharf_mapping_version")

// Bleve is the Index on a Bleve (scorch) index in a directory.
type Bleve struct {
	idx bleve.Index
	// lock holds the index directory's lock (lockDir) until Close.
	lock *os.File
	// The mapping's analyzers of names (prefixes and whole words) and of
	// prose, which repository documents are built with; query words are
	// analyzed by the prose one and split by nameWords, as anName and
	// anWords split names.
	name, words, prose analysis.Analyzer
}

var _ Index = (*Bleve)(nil)

// Fields of a repository document. Names match by prefixes of their
// words and of the name with its separators taken out, all terms of one
// field (anName), so that a query word is one term query, not two, and
// by their whole words allowing a typo (anWords, searched only by the
// fuzzy tier); the prose is stemmed English. Nothing is stored, and nothing keeps term
// vectors: the results page highlights the description itself
// (web.highlight), not from the index.
const (
	fType       = "type"
	fExact      = "exact" // the full name and the short name
	fNamespace  = "namespace"
	fNamePrefix = "name_prefix"
	fNameWord   = "name_word" // whole words, for typos (anWords)
	fProse      = "prose"
	fReaders    = "readers"
	fStars      = "stars"
	fPulls      = "pulls"
	fUpdated    = "updated"
)

func newMapping() (*mapping.IndexMappingImpl, error) {
	m := bleve.NewIndexMapping()
	field := func(f *mapping.FieldMapping, analyzer string) *mapping.FieldMapping {
		f.Analyzer = analyzer
		f.Store = false
		f.IncludeInAll = false
		f.IncludeTermVectors = false
		f.DocValues = false
		return f
	}
	// A filter term needs neither frequencies nor norms: it never scores.
	filter := func() *mapping.FieldMapping {
		f := field(bleve.NewKeywordFieldMapping(), keyword.Name)
		f.SkipFreqNorm = true
		return f
	}
	// A sort key is one keyword term, order-preserving (sortKey), with
	// doc values. A numeric field would index 16 terms per value for
	// range queries that nothing asks for, and make its doc values 16
	// times bigger to read.
	sortKey := func() *mapping.FieldMapping {
		f := filter()
		f.DocValues = true
		return f
	}
	repo := bleve.NewDocumentStaticMapping()
	repo.AddFieldMappingsAt(fType, filter())
	repo.AddFieldMappingsAt(fExact, field(bleve.NewKeywordFieldMapping(), keyword.Name))
	repo.AddFieldMappingsAt(fNamespace, filter())
	repo.AddFieldMappingsAt(fNamePrefix, field(bleve.NewTextFieldMapping(), anName))
	repo.AddFieldMappingsAt(fNameWord, field(bleve.NewTextFieldMapping(), anWords))
	// Description, README and tag names are searched as one stemmed field:
	// one clause per query word instead of three.
	repo.AddFieldMappingsAt(fProse, field(bleve.NewTextFieldMapping(), en.AnalyzerName))
	repo.AddFieldMappingsAt(fReaders, filter())
	repo.AddFieldMappingsAt(fStars, sortKey())
	repo.AddFieldMappingsAt(fPulls, sortKey())
	repo.AddFieldMappingsAt(fUpdated, sortKey())
	repo.AddSubDocumentMapping("_all", bleve.NewDocumentDisabledMapping())
	m.AddDocumentMapping("repo", repo)

	ns := bleve.NewDocumentStaticMapping()
	ns.AddFieldMappingsAt(fType, filter())
	nsField := func() *mapping.FieldMapping {
		f := filter()
		f.Store = true
		return f
	}
	ns.AddFieldMappingsAt("ns_name", nsField())
	ns.AddFieldMappingsAt("ns_kind", nsField())
	ns.AddFieldMappingsAt(fNamePrefix, field(bleve.NewTextFieldMapping(), anName))
	ns.AddSubDocumentMapping("_all", bleve.NewDocumentDisabledMapping())
	m.AddDocumentMapping("ns", ns)

	m.TypeField = fType
	m.DefaultAnalyzer = keyword.Name
	m.DefaultMapping = bleve.NewDocumentDisabledMapping()
	return m, nil
}

// sortKey encodes a number as a term that sorts as the number does (the
// prefix coding of Bleve's numeric fields), which sortNumber decodes.
func sortKey(n int64) string { return string(numeric.MustNewPrefixCodedInt64(n, 0)) }

// sortNumber decodes a sort key.
func sortNumber(v string) float64 {
	i, err := numeric.PrefixCoded(v).Int64()
	if err != nil {
		return 0
	}
	return float64(i)
}

// OpenBleve opens the index in dir, creating it if it does not exist. An
// index that exists but cannot be opened answers ErrCorrupt; one that
// another process (or another OpenBleve in this one) holds open answers
// ErrInUse at once. created reports a new, empty index (which its owner
// fills with a rebuild).
func OpenBleve(dir string) (b *Bleve, created bool, err error) {
	// The index directory's lock, not Bolt's lock of its root.bolt, says
	// whether the index is in use: Bolt's says so by an error value of
	// its own, which Bleve does not export.
	lock, err := lockDir(dir)
	switch {
	case errors.Is(err, ErrInUse):
		return nil, false, fmt.Errorf("%w: %s is held open by another process", ErrInUse, dir)
	case errors.Is(err, fs.ErrNotExist):
		// Created below, and locked then.
	case err != nil:
		return nil, false, fmt.Errorf("lock search index: %w", err)
	}
	defer func() {
		if b == nil && lock != nil {
			lock.Close()
		}
	}()
	// Bolt's timeout only keeps an open from waiting for ever on a
	// root.bolt that something other than OpenBleve holds (or on a
	// platform without lockDir); it then answers ErrCorrupt.
	idx, err := bleve.OpenUsing(dir, map[string]any{"bolt_timeout": "2s"})
	switch {
	case err == nil:
		if v, _ := idx.GetInternal(mappingKey); string(v) != mappingVersion {
			idx.Close()
			return nil, false, fmt.Errorf("%w: built by another version of the mapping (%q, want %q)", ErrCorrupt, v, mappingVersion)
		}
		b, err := newBleve(idx, lock)
		return b, false, err
	case errors.Is(err, bleve.ErrorIndexPathDoesNotExist):
		m, err := newMapping()
		if err != nil {
			return nil, false, err
		}
		idx, err := bleve.New(dir, m)
		if err != nil {
			return nil, false, fmt.Errorf("create search index: %w", err)
		}
		if lock, err = lockDir(dir); err != nil {
			idx.Close()
			if errors.Is(err, ErrInUse) {
				// Another OpenBleve opened the new index first.
				return nil, false, fmt.Errorf("%w: %s, just created, is held open by another process", ErrInUse, dir)
			}
			return nil, false, fmt.Errorf("lock search index: %w", err)
		}
		if err := idx.SetInternal(mappingKey, []byte(mappingVersion)); err != nil {
			idx.Close()
			return nil, false, err
		}
		b, err := newBleve(idx, lock)
		return b, err == nil, err
	}
	return nil, false, fmt.Errorf("%w: %v", ErrCorrupt, err)
}

func newBleve(idx bleve.Index, lock *os.File) (*Bleve, error) {
	m := idx.Mapping()
	b := &Bleve{idx: idx, lock: lock, name: m.AnalyzerNamed(anName), words: m.AnalyzerNamed(anWords), prose: m.AnalyzerNamed(en.AnalyzerName)}
	if b.name == nil || b.words == nil || b.prose == nil {
		idx.Close()
		return nil, fmt.Errorf("%w: its mapping lacks an analyzer", ErrCorrupt)
	}
	return b, nil
}

// RemoveBleve deletes an index directory, to rebuild it.
func RemoveBleve(dir string) error { return os.RemoveAll(dir) }

func repoID(name string) string { return "r:" + name }
func nsID(name string) string   { return "n:" + name }

func shortName(full string) string {
	if i := strings.IndexByte(full, '/'); i >= 0 {
		return full[i+1:]
	}
	return full
}

// Indexing options of the fields of a repository document, as the
// mapping has them (TestRepoDocumentIsMapped checks): a filter term needs
// neither frequencies nor norms, as it never scores; a sort key also has
// doc values, which the mapping cannot say are better neither compressed
// nor chunked: a sort reads one value of many documents, each in a
// different chunk, and would inflate a chunk of values for each.
const (
	optText    = bleveindex.IndexField
	optFilter  = bleveindex.IndexField | bleveindex.SkipFreqNorm
	optSortKey = optFilter | bleveindex.DocValues | bleveindex.SkipDVCompression | bleveindex.SkipDVChunking
)

// repoDocument is the document of a repository. It is built here rather
// than mapped from a map by reflection, which is a good part of the cost
// of indexing.
func (b *Bleve) repoDocument(r Repo) *document.Document {
	d := document.NewDocument(repoID(r.Name))
	add := func(name string, pos []uint64, value string, opts bleveindex.FieldIndexingOptions, a analysis.Analyzer) {
		d.AddField(document.NewTextFieldCustom(name, pos, []byte(value), opts, a))
	}
	add(fType, nil, "repo", optFilter, nil)
	add(fExact, []uint64{0}, r.Name, optText, nil)
	add(fExact, []uint64{1}, shortName(r.Name), optText, nil)
	add(fNamespace, nil, r.Namespace, optFilter, nil)
	add(fNamePrefix, nil, r.Name, optText, b.name)
	add(fNameWord, nil, r.Name, optText, b.words)
	var prose strings.Builder
	prose.Grow(len(r.Description) + len(r.Readme) + 16*len(r.Tags) + 1)
	prose.WriteString(r.Description)
	prose.WriteByte('\n')
	prose.WriteString(r.Readme)
	for _, t := range r.Tags {
		prose.WriteByte(' ')
		prose.WriteString(t)
	}
	add(fProse, nil, prose.String(), optText, descTwice{b.prose, len(r.Description)})
	for i, p := range r.Readers {
		add(fReaders, []uint64{uint64(i)}, p, optFilter, nil)
	}
	add(fStars, nil, sortKey(r.Stars), optSortKey, nil)
	add(fPulls, nil, sortKey(r.Pulls), optSortKey, nil)
	add(fUpdated, nil, sortKey(r.Updated.UnixNano()), optSortKey, nil)
	return d
}

// descTwice analyzes prose whose first n bytes are a description, and
// counts the description's words twice: it says more about a repository
// than its README does. The terms are those of the description written
// twice, for the cost of analyzing it once.
type descTwice struct {
	analysis.Analyzer
	n int
}

func (a descTwice) Analyze(text []byte) analysis.TokenStream {
	desc := a.Analyzer.Analyze(text[:a.n])
	rest := a.Analyzer.Analyze(text[a.n:])
	out := make(analysis.TokenStream, 0, 2*len(desc)+len(rest))
	return append(append(append(out, desc...), desc...), rest...)
}

// IndexRepos implements Index.
func (b *Bleve) IndexRepos(_ context.Context, repos []Repo) error {
	batch := b.idx.NewBatch()
	for _, r := range repos {
		if err := batch.IndexAdvanced(b.repoDocument(r)); err != nil {
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
		if err := batch.Index(nsID(n.Name), map[string]any{fType: "ns", "ns_name": n.Name, "ns_kind": n.Kind, fNamePrefix: n.Name}); err != nil {
			return err
		}
	}
	return b.idx.Batch(batch)
}

// DeleteNamespace implements Index.
func (b *Bleve) DeleteNamespace(ctx context.Context, ns string) error {
	q := bleve.NewConjunctionQuery(term(fType, "repo"), term(fNamespace, ns))
	for {
		req := bleve.NewSearchRequestOptions(q, 1000, 0, false)
		req.Score = "none"
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

// Count implements Index.
func (b *Bleve) Count() (uint64, error) { return b.idx.DocCount() }

// Close implements Index.
func (b *Bleve) Close() error {
	err := b.idx.Close()
	// Unlocked only once Bleve has let go of the index.
	if b.lock != nil {
		b.lock.Close()
	}
	return err
}

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
