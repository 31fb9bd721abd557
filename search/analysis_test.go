package search

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2/document"
	bleveindex "github.com/blevesearch/bleve_index_api"
)

func TestNameAnalyzer(t *testing.T) {
	tests := []struct {
		name string
		want []string
	}{
		{"acme/my-app", []string{"ac", "acm", "acme", "my", "ap", "app", "mya", "myap", "myapp"}},
		{"other/My_App2", []string{"ot", "oth", "othe", "other", "my", "ap", "app", "app2", "mya", "myap", "myapp", "myapp2"}},
		{"library/nginx", []string{"li", "lib", "libr", "libra", "librar", "library", "ng", "ngi", "ngin", "nginx"}},
		{"x/a-b", []string{"x", "a", "b", "ab"}},
		{"zed", []string{"ze", "zed"}},
		{"ns/" + strings.Repeat("k", 30), []string{"ns"}}, // and the k prefixes up to maxPrefix
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, tok := range (nameAnalyzer{}).Analyze([]byte(tc.name)) {
				got = append(got, string(tok.Term))
			}
			want := tc.want
			if strings.Contains(tc.name, "kkk") {
				for n := minPrefix; n <= maxPrefix; n++ {
					want = append(want, strings.Repeat("k", n))
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}

// The documents IndexRepos builds are what the mapping would make of the
// same repository: the same fields, options and terms, but for the doc
// values of sort keys, which are neither compressed nor chunked.
func TestRepoDocumentIsMapped(t *testing.T) {
	b := openTest(t)
	r := Repo{Name: "acme/My_App-2", Namespace: "acme", Description: "A web server's proxy", Readme: "# Hello\n\nRuns things.",
		Tags: []string{"latest", "v1.2"}, Stars: 7, Pulls: 1234, Updated: time.Unix(1700000000, 5),
		Readers: []string{PublicReader, NamespaceReader("acme"), CollaboratorReader(3)}}
	mapped := document.NewDocument(repoID(r.Name))
	err := b.idx.Mapping().MapDocument(mapped, map[string]any{
		fType: "repo", fExact: []string{r.Name, shortName(r.Name)}, fNamespace: r.Namespace, fNamePrefix: r.Name, fNameWord: r.Name,
		fProse:   r.Description + "\n" + r.Description + "\n" + r.Readme + " " + strings.Join(r.Tags, " "),
		fReaders: r.Readers, fStars: sortKey(r.Stars), fPulls: sortKey(r.Pulls), fUpdated: sortKey(r.Updated.UnixNano()),
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := describe(b.repoDocument(r)), describe(mapped); !slices.Equal(got, want) {
		t.Errorf("built document\n%s\nmapped document\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// describe lists a document's fields with their options and terms.
func describe(d *document.Document) []string {
	var out []string
	d.VisitFields(func(f bleveindex.Field) {
		f.Analyze()
		var terms []string
		for term, tf := range f.AnalyzedTokenFrequencies() {
			terms = append(terms, fmt.Sprintf("%q×%d", term, tf.Frequency()))
		}
		sort.Strings(terms)
		opts := f.Options()
		if opts.IncludeDocValues() {
			opts |= bleveindex.SkipDVCompression | bleveindex.SkipDVChunking
		}
		out = append(out, fmt.Sprintf("%s %v %v: %s", f.Name(), f.ArrayPositions(), opts, strings.Join(terms, " ")))
	})
	sort.Strings(out)
	return out
}
