package registry

import (
	"encoding/json"
	"errors"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/wharfhub/wharf/server/hub"
	"github.com/wharfhub/wharf/server/registry/errcode"
	"github.com/wharfhub/wharf/server/reqlog"
)

// Index serves the two paths of Docker's v1 index API that dockerd still
// calls, for `docker search HOST/TEXT`: GET /v1/_ping, then GET
// /v1/search?q=TEXT&n=LIMIT. It lists what the hub's search finds for the
// caller, who is authenticated as on /v2/ (Basic with a password or a
// personal access token, a personal access token as Bearer, or a registry
// token); anonymous callers see public repositories only.
type Index struct {
	reg      *Handler
	discover *hub.Discover
}

// NewIndex makes the /v1/ handler over reg's authentication and d's
// search.
func NewIndex(reg *Handler, d *hub.Discover) *Index { return &Index{reg: reg, discover: d} }

// Paging of /v1/search, as Docker Hub's: n results a page (dockerd sends
// its --limit, 25 by default, and refuses one outside 1..100), pages
// counted from 1.
const (
	defaultSearchPage = 25
	maxSearchPage     = 100
)

func (x *Index) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			reqlog.From(r.Context(), x.reg.log).Error("panic serving /v1/", "panic", v, "path", r.URL.Path, "stack", string(debug.Stack()))
			errcode.Write(w, errcode.Unknown.New())
		}
	}()
	q := &request{w: w, r: r}
	var err error
	switch r.URL.Path {
	case "/v1/_ping":
		err = x.ping(q)
	case "/v1/search":
		err = x.search(q)
	default:
		err = errcode.NotFound.WithMessage("unknown index API path; only /v1/search is served")
	}
	if err != nil {
		x.reg.fail(w, r, err)
	}
}

// ping answers dockerd's check that the index is there. It says the
// registry is not "standalone": for a standalone one over HTTPS dockerd
// sends Basic credentials on every request, empty ones for an anonymous
// user, which would be refused; otherwise it sends the stored login only
// with the search (which asks for it with X-Docker-Token: true).
func (x *Index) ping(q *request) error {
	if q.r.Method != http.MethodGet && q.r.Method != http.MethodHead {
		return methodNotAllowed(q, "GET, HEAD")
	}
	q.w.Header().Set("X-Docker-Registry-Standalone", "false")
	return writeJSON(q, true)
}

// searchPage is Docker Hub's answer to /v1/search.
type searchPage struct {
	NumPages   int64       `json:"num_pages"`
	NumResults int64       `json:"num_results"`
	Page       int         `json:"page"`
	PageSize   int         `json:"page_size"`
	Query      string      `json:"query"`
	Results    []searchHit `json:"results"`
}

type searchHit struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	StarCount   int64  `json:"star_count"`
	IsOfficial  bool   `json:"is_official"`
	IsAutomated bool   `json:"is_automated"`
}

// search serves GET /v1/search?q=&n=&page=: a page of the repositories
// matching q that the caller may see, counted the same way. An empty q
// finds nothing (docker always sends a term).
func (x *Index) search(q *request) error {
	if q.r.Method != http.MethodGet {
		return methodNotAllowed(q, "GET")
	}
	if err := x.reg.authenticate(q); err != nil {
		return err
	}
	query := q.r.URL.Query()
	n, err := intParam(query.Get("n"), "n", defaultSearchPage)
	if err != nil {
		return err
	}
	page, err := intParam(query.Get("page"), "page", 1)
	if err != nil {
		return err
	}
	n = min(max(n, 1), maxSearchPage)
	page = max(page, 1)
	if page-1 > hub.MaxSearchOffset/n {
		return errcode.PaginationInvalid.WithMessage("page must be at most %d with n=%d", hub.MaxSearchOffset/n+1, n)
	}
	text := query.Get("q")
	out := searchPage{Page: page, PageSize: n, Query: text, Results: []searchHit{}}
	if strings.TrimSpace(text) != "" {
		res, err := x.discover.Search(q.ctx(), q.id, text, "", n, (page-1)*n)
		if err != nil {
			return searchError(err)
		}
		out.NumResults = res.Total
		out.NumPages = (res.Total + int64(n) - 1) / int64(n)
		for _, r := range res.Repos {
			out.Results = append(out.Results, searchHit{Name: r.Name, Description: r.Description, StarCount: r.StarCount})
		}
	}
	return writeJSON(q, out)
}

// intParam reads an integer query parameter; "" is def.
func intParam(s, name string, def int) (int, error) {
	if s == "" {
		return def, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, errcode.PaginationInvalid.WithMessage("%s must be an integer", name)
	}
	return v, nil
}

// searchError maps the search service's errors: no index is 503, text
// the search refuses is 400.
func searchError(err error) error {
	var inv *hub.Invalid
	switch {
	case errors.Is(err, hub.ErrSearchUnavailable):
		return errcode.Unavailable.WithMessage("search is not available on this server")
	case errors.As(err, &inv):
		return errcode.Unsupported.WithMessage("%s", inv.Msg).WithStatus(http.StatusBadRequest)
	}
	return err
}

func writeJSON(q *request, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	q.w.Header().Set("Content-Type", "application/json")
	q.w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	q.w.WriteHeader(http.StatusOK)
	if q.r.Method != http.MethodHead {
		_, _ = q.w.Write(b)
	}
	return nil
}
