package web

import (
	"errors"
	"html/template"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/search"
	"github.com/wharfhub/wharf/server/apierr"
	"github.com/wharfhub/wharf/server/hub"
)

type searchData struct {
	Query      string
	Sort       string
	Total      int64
	Repos      []models.Repository
	Highlights map[string]template.HTML
	People     []search.Namespace
	Pager      pager
	Sorts      []string
}

func (w *searchPages) searchPage(c *gin.Context) {
	q := strings.TrimSpace(c.Query("q"))
	sort := c.Query("sort")
	page := pageNum(c)
	p := pc(c)
	p.Query = q
	res, err := w.discover.Search(c.Request.Context(), p.User, q, sort, perPage, (page-1)*perPage)
	var inv *hub.Invalid
	switch {
	case code(err) == apierr.Unavailable:
		w.renderError(c, http.StatusServiceUnavailable, "Search is not available right now.")
		return
	case errors.As(err, &inv):
		w.renderError(c, http.StatusBadRequest, inv.Msg)
		return
	case err != nil:
		w.fail(c, err)
		return
	}
	d := searchData{Query: q, Sort: sort, Total: res.Total, Repos: res.Repos, Highlights: map[string]template.HTML{},
		Pager: newPager("/search?q="+urlQuery(q)+"&sort="+sort, page, res.Total, perPage)}
	for _, r := range res.Repos {
		d.Highlights[r.Name] = highlight(r.Description, q)
	}
	if q != "" && page == 1 {
		d.People, _ = w.discover.SearchNamespaces(c.Request.Context(), q, 6)
	}
	title := "Search"
	if q != "" {
		title = q + " · Search"
	}
	w.render(c, http.StatusOK, "search.html", title, d)
}

func urlQuery(s string) string { return template.URLQueryEscaper(s) }

// suggest answers the search box's completions as JSON.
func (w *searchPages) suggest(c *gin.Context) {
	names, err := w.discover.Suggest(c.Request.Context(), pc(c).User, strings.TrimSpace(c.Query("q")))
	if err != nil {
		c.JSON(http.StatusOK, []any{})
		return
	}
	out := make([]gin.H, 0, len(names))
	for _, n := range names {
		out = append(out, gin.H{"name": n})
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, out)
}

// highlight marks the query's words in text. The text is escaped first
// and only <mark> is added, so nothing a user wrote becomes markup.
func highlight(text, q string) template.HTML {
	words := strings.Fields(strings.ToLower(q))
	lower := strings.ToLower(text)
	if len(words) == 0 || len(lower) != len(text) {
		return template.HTML(template.HTMLEscapeString(text))
	}
	marks := make([]bool, len(text))
	for _, w := range words {
		for i := 0; i+len(w) <= len(lower); {
			j := strings.Index(lower[i:], w)
			if j < 0 {
				break
			}
			for k := i + j; k < i+j+len(w); k++ {
				marks[k] = true
			}
			i += j + len(w)
		}
	}
	var b strings.Builder
	for i := 0; i < len(text); {
		j := i
		for j < len(text) && marks[j] == marks[i] {
			j++
		}
		seg := template.HTMLEscapeString(text[i:j])
		if marks[i] {
			b.WriteString("<mark>" + seg + "</mark>")
		} else {
			b.WriteString(seg)
		}
		i = j
	}
	return template.HTML(b.String())
}
