package registry

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/wharfhub/wharf/server/auth"
	"github.com/wharfhub/wharf/server/content"
	"github.com/wharfhub/wharf/server/registry/errcode"
)

// maxPage caps n for the tag list and the catalog: a request may ask for
// less, never more (Distribution CVE-2023-2253).
const maxPage = 1000

// pagination reads n and last, clamping n to maxPage.
func pagination(q *request) (n int, last string, err error) {
	query := q.r.URL.Query()
	n = maxPage
	if s := query.Get("n"); s != "" {
		v, perr := strconv.Atoi(s)
		if perr != nil || v < 0 {
			return 0, "", errcode.PaginationInvalid.WithMessage("n must be a non-negative integer")
		}
		n = min(v, maxPage)
	}
	return n, query.Get("last"), nil
}

// writeList writes a JSON list answer and, when the page is full, a Link
// to the next page.
func writeList(q *request, path string, n int, items []string, body any) error {
	if n > 0 && len(items) == n {
		next := url.Values{}
		next.Set("n", strconv.Itoa(n))
		next.Set("last", items[len(items)-1])
		q.w.Header().Set("Link", fmt.Sprintf(`<%s?%s>; rel="next"`, path, next.Encode()))
	}
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	q.w.Header().Set("Content-Type", "application/json")
	q.w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	q.w.WriteHeader(http.StatusOK)
	if q.r.Method == http.MethodGet {
		_, _ = q.w.Write(b)
	}
	return nil
}

// tags serves GET /v2/<name>/tags/list.
func (h *Handler) tags(q *request) error {
	if q.r.Method != http.MethodGet && q.r.Method != http.MethodHead {
		return methodNotAllowed(q, "GET, HEAD")
	}
	if err := q.authorize(h, q.route.name, auth.ActionPull); err != nil {
		return err
	}
	n, last, err := pagination(q)
	if err != nil {
		return err
	}
	tags := []string{}
	if n > 0 {
		tags, err = h.content.Manifests.Tags(q.ctx(), q.route.name, last, n)
		if err != nil {
			return err
		}
	}
	return writeList(q, "/v2/"+q.route.name+"/tags/list", n, tags, struct {
		Name string   `json:"name"`
		Tags []string `json:"tags"`
	}{q.route.name, tags})
}

// catalog serves GET /v2/_catalog: only repositories the caller may pull.
func (h *Handler) catalog(q *request) error {
	if q.r.Method != http.MethodGet && q.r.Method != http.MethodHead {
		return methodNotAllowed(q, "GET, HEAD")
	}
	n, last, err := pagination(q)
	if err != nil {
		return err
	}
	repos := []string{}
	if n > 0 {
		if repos, err = h.policy.Catalog(q.ctx(), q.id, last, n); err != nil {
			return err
		}
	}
	return writeList(q, "/v2/_catalog", n, repos, struct {
		Repositories []string `json:"repositories"`
	}{repos})
}

// referrers serves GET /v2/<name>/referrers/<digest>.
func (h *Handler) referrers(q *request) error {
	if q.r.Method != http.MethodGet && q.r.Method != http.MethodHead {
		return methodNotAllowed(q, "GET, HEAD")
	}
	dgst, err := content.ParseDigest(q.route.arg)
	if err != nil {
		return errcode.DigestInvalid.WithMessage("invalid digest %q", truncate(q.route.arg, 200))
	}
	if err := q.authorize(h, q.route.name, auth.ActionPull); err != nil {
		return err
	}
	if h.mirrored(q.route.name) {
		if err := h.mirrors.SyncReferrers(q.ctx(), q.route.name, dgst); err != nil {
			return err
		}
	}
	artifactType := q.r.URL.Query().Get("artifactType")
	refs, err := h.content.Manifests.Referrers(q.ctx(), q.route.name, dgst, artifactType)
	if err != nil {
		return err
	}
	if artifactType != "" {
		q.w.Header().Set("OCI-Filters-Applied", "artifactType")
	}
	b, err := json.Marshal(struct {
		SchemaVersion int                `json:"schemaVersion"`
		MediaType     string             `json:"mediaType"`
		Manifests     []content.Referrer `json:"manifests"`
	}{2, content.MediaTypeOCIIndex, refs})
	if err != nil {
		return err
	}
	q.w.Header().Set("Content-Type", content.MediaTypeOCIIndex)
	q.w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	q.w.WriteHeader(http.StatusOK)
	if q.r.Method == http.MethodGet {
		_, _ = q.w.Write(b)
	}
	return nil
}
