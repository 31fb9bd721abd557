package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"

	"github.com/wharfhub/wharf/server/auth"
	"github.com/wharfhub/wharf/server/content"
	"github.com/wharfhub/wharf/server/registry/errcode"
)

// Handler serves /v2/.
type Handler struct {
	content  *content.Service
	accounts *auth.Accounts
	policy   *auth.Policy
	log      *slog.Logger
	realm    string
}

// New makes the /v2/ handler.
func New(c *content.Service, accounts *auth.Accounts, policy *auth.Policy, log *slog.Logger) *Handler {
	return &Handler{content: c, accounts: accounts, policy: policy, log: log, realm: "Wharf"}
}

// request carries what every resource handler needs.
type request struct {
	w     http.ResponseWriter
	r     *http.Request
	route route
	id    *auth.Identity
}

func (q *request) ctx() context.Context { return q.r.Context() }

func (q *request) userID() *int64 {
	if q.id == nil {
		return nil
	}
	return &q.id.UserID
}

// ServeHTTP dispatches a /v2/ request. The path is taken from the URL as
// the router decoded it, so "%2e%2e" and friends are judged by the same
// name grammar as the plain path.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	defer func() {
		if v := recover(); v != nil {
			h.log.Error("panic serving /v2/", "panic", v, "path", r.URL.Path, "stack", string(debug.Stack()))
			errcode.Write(w, errcode.Unknown.New())
		}
	}()
	p, ok := strings.CutPrefix(r.URL.Path, "/v2/")
	if !ok {
		p, ok = "", r.URL.Path == "/v2"
	}
	rt, valid := parseRoute(p)
	if !ok || rt.kind == routeNone {
		h.fail(w, r, errcode.NotFound.WithMessage("unknown registry API path"))
		return
	}
	if !valid {
		h.fail(w, r, errcode.NameInvalid.WithMessage("invalid repository name %q", truncate(rt.name, 300)))
		return
	}
	q := &request{w: w, r: r, route: rt}
	id, err := h.authenticate(r)
	if err != nil {
		h.challenge(w, r, err)
		return
	}
	q.id = id
	var herr error
	switch rt.kind {
	case routeBase:
		herr = h.base(q)
	case routeCatalog:
		herr = h.catalog(q)
	case routeTags:
		herr = h.tags(q)
	case routeManifest:
		herr = h.manifest(q)
	case routeBlob:
		herr = h.blob(q)
	case routeUploads:
		herr = h.startUpload(q)
	case routeUpload:
		herr = h.upload(q)
	case routeReferrers:
		herr = h.referrers(q)
	}
	if herr != nil {
		h.fail(w, r, herr)
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// authenticate reads Basic credentials if the request has any.
func (h *Handler) authenticate(r *http.Request) (*auth.Identity, error) {
	user, pass, ok := r.BasicAuth()
	if !ok {
		if r.Header.Get("Authorization") != "" {
			return nil, auth.ErrBadCredentials
		}
		return nil, nil
	}
	return h.accounts.CheckPassword(r.Context(), user, pass)
}

func (h *Handler) challenge(w http.ResponseWriter, r *http.Request, err error) {
	w.Header().Set("WWW-Authenticate", fmt.Sprintf("Basic realm=%q", h.realm))
	msg := "authentication required"
	if errors.Is(err, auth.ErrBadCredentials) {
		msg = auth.ErrBadCredentials.Error()
	} else if !errors.Is(err, auth.ErrUnauthenticated) {
		h.log.Error("authenticate", "err", err)
	}
	errcode.Write(w, errcode.Unauthorized.WithMessage("%s", msg))
}

// authorize asks the policy; it answers the challenge itself when the
// caller must log in, and returns an OCI error otherwise.
func (q *request) authorize(h *Handler, name string, action auth.Action) error {
	err := h.policy.Authorize(q.ctx(), q.id, name, action)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, auth.ErrUnauthenticated):
		return errChallenge
	case errors.Is(err, auth.ErrDenied):
		return errcode.Denied.New()
	}
	return err
}

// errChallenge asks fail to answer 401 with a challenge.
var errChallenge = errors.New("challenge")

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, errChallenge) {
		h.challenge(w, r, auth.ErrUnauthenticated)
		return
	}
	e := toOCI(err)
	if e.Code == errcode.Unknown {
		if errors.Is(err, context.Canceled) {
			return // the client is gone; nobody reads the answer
		}
		h.log.Error("registry request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	errcode.Write(w, e)
}

// toOCI maps service errors to OCI errors.
func toOCI(err error) *errcode.Error {
	var e *errcode.Error
	if errors.As(err, &e) {
		return e
	}
	var code errcode.Code
	switch {
	case errors.Is(err, content.ErrBlobUnknown):
		code = errcode.BlobUnknown
	case errors.Is(err, content.ErrUploadUnknown):
		code = errcode.BlobUploadUnknown
	case errors.Is(err, content.ErrDigestInvalid):
		code = errcode.DigestInvalid
	case errors.Is(err, content.ErrSizeInvalid):
		code = errcode.SizeInvalid
	case errors.Is(err, content.ErrRangeInvalid):
		code = errcode.RangeInvalid
	case errors.Is(err, content.ErrManifestTooLarge):
		code = errcode.ManifestTooLarge
	case errors.Is(err, content.ErrManifestInvalid):
		code = errcode.ManifestInvalid
	case errors.Is(err, content.ErrManifestBlobUnknown):
		code = errcode.ManifestBlobUnknown
	case errors.Is(err, content.ErrManifestUnknown):
		code = errcode.ManifestUnknown
	case errors.Is(err, content.ErrNameUnknown):
		code = errcode.NameUnknown
	case errors.Is(err, content.ErrTagInvalid):
		code = errcode.TagInvalid
	default:
		return errcode.Internal(err)
	}
	out := code.New()
	var d *content.Detail
	if errors.As(err, &d) {
		out.Message = d.Msg
		out.Detail = d.Detail
	}
	return out
}

// methodNotAllowed answers a method the resource does not have.
func methodNotAllowed(q *request, allowed string) error {
	q.w.Header().Set("Allow", allowed)
	return errcode.Unsupported.WithMessage("method %s is not supported here", q.r.Method)
}

func (h *Handler) base(q *request) error {
	switch q.r.Method {
	case http.MethodGet, http.MethodHead:
	default:
		return methodNotAllowed(q, "GET, HEAD")
	}
	q.w.Header().Set("Content-Type", "application/json")
	q.w.Header().Set("Content-Length", "2")
	q.w.WriteHeader(http.StatusOK)
	if q.r.Method == http.MethodGet {
		_, _ = q.w.Write([]byte("{}"))
	}
	return nil
}
