package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/wharfhub/wharf/server/auth"
	"github.com/wharfhub/wharf/server/clientaddr"
	"github.com/wharfhub/wharf/server/content"
	"github.com/wharfhub/wharf/server/mirror"
	"github.com/wharfhub/wharf/server/registry/errcode"
	"github.com/wharfhub/wharf/server/reqlog"
	"github.com/wharfhub/wharf/server/trust"
)

// Handler serves /v2/.
type Handler struct {
	content  *content.Service
	accounts *auth.Accounts
	policy   *auth.Policy
	tokens   *auth.Tokens
	log      *slog.Logger
	realm    string
	// clientAddr finds the address that login throttling counts against.
	clientAddr *clientaddr.Resolver
	// mirrors serve the mirror namespaces (nil: none).
	mirrors *mirror.Service
	// gate holds pulls to their repository's policy (nil: no policies).
	gate *trust.Gate
}

// New makes the /v2/ handler; baseURL is the server's public URL, whose
// /v2/token is the token realm, addr finds each caller's address, and
// mirrors (which may be nil) serve the mirror namespaces, and gate (which
// may be nil) holds manifest pulls to their repository's policy.
func New(c *content.Service, accounts *auth.Accounts, policy *auth.Policy, tokens *auth.Tokens, baseURL string,
	addr *clientaddr.Resolver, log *slog.Logger, mirrors *mirror.Service, gate *trust.Gate) *Handler {
	return &Handler{content: c, accounts: accounts, policy: policy, tokens: tokens, log: log, realm: baseURL + "/v2/token",
		clientAddr: addr, mirrors: mirrors, gate: gate}
}

// mirrored reports whether repository name is in a mirror namespace.
func (h *Handler) mirrored(name string) bool { return h.mirrors != nil && h.mirrors.Is(name) }

// request carries what every resource handler needs.
type request struct {
	w     http.ResponseWriter
	r     *http.Request
	route route
	id    *auth.Identity
	// claims is the verified registry token, when the caller sent one:
	// its grants answer authorization without a database query.
	claims *auth.Claims
	// asked is the name the client asked for when the root mirror serves
	// it (route.name is then the mirror's name of it).
	asked string
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
			reqlog.From(r.Context(), h.log).Error("panic serving /v2/", "panic", v, "path", r.URL.Path, "stack", string(debug.Stack()))
			errcode.Write(w, errcode.Unknown.New())
		}
	}()
	p, ok := strings.CutPrefix(r.URL.Path, "/v2/")
	if !ok {
		p, ok = "", r.URL.Path == "/v2"
	}
	if ok && p == "token" {
		h.token(w, r)
		return
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
	if err := h.authenticate(q); err != nil {
		h.fail(w, r, err)
		return
	}
	if rt.name != "" && h.mirrors != nil && h.mirrors.Root() != "" {
		// A Docker Hub style name (library/alpine) that no local namespace
		// holds is the root mirror's: served from NAME/library/alpine,
		// authorized as asked for.
		root, err := h.policy.RootMirrored(r.Context(), rt.name)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if root {
			q.asked, q.route.name = rt.name, h.mirrors.Root()+"/"+rt.name
		}
	}
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

// authenticate reads a registry token, a personal access token, or Basic
// credentials, if the request carries any.
func (h *Handler) authenticate(q *request) error {
	authz := q.r.Header.Get("Authorization")
	if authz == "" {
		return nil
	}
	scheme, cred, _ := strings.Cut(authz, " ")
	switch {
	case strings.EqualFold(scheme, "Bearer") && strings.HasPrefix(cred, auth.TokenPrefix):
		id, err := h.accounts.AuthenticateToken(q.ctx(), h.clientAddr.IP(q.r), cred)
		if err != nil {
			return authFailure(err, "invalid_token")
		}
		q.id = id
		return nil
	case strings.EqualFold(scheme, "Bearer"):
		claims, err := h.tokens.Verify(cred)
		if err != nil {
			return &challengeError{errText: "invalid_token", msg: "invalid or expired token"}
		}
		q.claims, q.id = claims, claims.Identity()
		auth.Acting(q.ctx(), q.id)
		return nil
	}
	user, pass, ok := q.r.BasicAuth()
	if !ok {
		return &challengeError{msg: "unsupported authorization scheme"}
	}
	id, err := h.accounts.Authenticate(q.ctx(), h.clientAddr.IP(q.r), user, pass)
	if err != nil {
		return authFailure(err, "")
	}
	q.id = id
	return nil
}

func authFailure(err error, errText string) error {
	var th *auth.ErrThrottled
	if errors.As(err, &th) {
		return th
	}
	if errors.Is(err, auth.ErrBadCredentials) || errors.Is(err, auth.ErrPasswordsOff) {
		return &challengeError{errText: errText, msg: err.Error()}
	}
	return err
}

// challengeError asks the client to authenticate (again), naming the
// scope it needs.
type challengeError struct {
	scope   string
	errText string // "invalid_token", "insufficient_scope" or ""
	msg     string
}

func (e *challengeError) Error() string { return "challenge: " + e.msg }

// scopeFor is the token scope that covers action on repository name.
func scopeFor(name string, action auth.Action) string {
	switch action {
	case auth.ActionPull:
		return "repository:" + name + ":pull"
	case auth.ActionDelete:
		return "repository:" + name + ":delete"
	}
	return "repository:" + name + ":pull,push"
}

func (h *Handler) challenge(w http.ResponseWriter, e *challengeError) {
	c := fmt.Sprintf(`Bearer realm=%q,service=%q`, h.realm, h.tokens.Service())
	if e.scope != "" {
		c += fmt.Sprintf(`,scope=%q`, e.scope)
	}
	if e.errText != "" {
		c += fmt.Sprintf(`,error=%q`, e.errText)
	}
	w.Header().Set("WWW-Authenticate", c)
	msg := e.msg
	if msg == "" {
		msg = "authentication required"
	}
	errcode.Write(w, errcode.Unauthorized.WithMessage("%s", msg))
}

// authorize decides whether the caller may do action on repository name.
// A registry token answers from its grants; other callers ask the policy.
// A repository the caller cannot see is NAME_UNKNOWN, exactly like one
// that does not exist.
func (q *request) authorize(h *Handler, name string, action auth.Action) error {
	return q.authorizeScope(h, name, action, scopeFor(name, action))
}

func (q *request) authorizeScope(h *Handler, name string, action auth.Action, scope string) error {
	if q.asked != "" && name == q.route.name {
		// Through the root mirror: the client's name, and pulls only.
		if action != auth.ActionPull {
			return errcode.Denied.WithMessage("%s is served by the mirror %s, which is read-only", q.asked, h.mirrors.Root())
		}
		name, scope = q.asked, scopeFor(q.asked, action)
	}
	if h.mirrored(name) && (action == auth.ActionPush || (action == auth.ActionDelete && (q.id == nil || !q.id.IsAdmin))) {
		// A mirror holds its upstream's content: nobody pushes to it, and
		// only site admins evict from it.
		ns, _, _ := strings.Cut(name, "/")
		return errcode.Denied.WithMessage("%s is in %s, a read-only mirror", name, ns)
	}
	var err error
	if q.claims != nil {
		actions := q.claims.Actions(name)
		switch {
		case slices.Contains(actions, string(action)):
			return nil
		case !q.claims.WasAsked(name, string(action)):
			return &challengeError{scope: scope, errText: "insufficient_scope", msg: "the token does not cover " + string(action) + " on " + name}
		case q.id == nil:
			err = auth.ErrUnauthenticated
		case slices.Contains(actions, string(auth.ActionPull)):
			err = auth.ErrDenied
		default:
			err = auth.ErrNotFound
		}
	} else {
		err = h.policy.Authorize(q.ctx(), q.id, name, action)
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, auth.ErrUnauthenticated):
		return &challengeError{scope: scope, msg: "authentication required"}
	case errors.Is(err, auth.ErrDenied):
		return errcode.Denied.WithMessage("requested access to %s is denied", name)
	case errors.Is(err, auth.ErrNotFound):
		return errcode.NameUnknown.WithMessage("repository %s not found", name)
	}
	return err
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ch *challengeError
	if errors.As(err, &ch) {
		h.challenge(w, ch)
		return
	}
	var th *auth.ErrThrottled
	if errors.As(err, &th) {
		w.Header().Set("Retry-After", fmt.Sprint(int(th.RetryAfter.Seconds())+1))
		errcode.Write(w, errcode.TooManyRequests.WithMessage("%s", th.Error()))
		return
	}
	e := toOCI(err)
	if e.Code == errcode.Unknown {
		if errors.Is(err, context.Canceled) {
			return // the client is gone; nobody reads the answer
		}
		reqlog.From(r.Context(), h.log).Error("registry request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	errcode.Write(w, e)
}

// toOCI maps service errors to OCI errors.
func toOCI(err error) *errcode.Error {
	var e *errcode.Error
	if errors.As(err, &e) {
		return e
	}
	var refused *trust.Refused
	if errors.As(err, &refused) {
		return errcode.Denied.WithMessage("%s", refused.Reason)
	}
	var immutable *content.ImmutableError
	if errors.As(err, &immutable) {
		return errcode.Denied.WithMessage("%s", immutable.Error())
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
	case errors.Is(err, content.ErrQuotaExceeded):
		// Also mid-stream, as soon as a chunk would cross the quota.
		code = errcode.Denied
	case errors.Is(err, content.ErrTooManyUploads):
		code = errcode.TooManyRequests
	case errors.Is(err, content.ErrBusy), errors.Is(err, mirror.ErrUnavailable):
		code = errcode.Unavailable
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

// base answers the version check. It asks anonymous callers to log in,
// as Docker Hub does, so that `docker login` finds the token realm.
func (h *Handler) base(q *request) error {
	switch q.r.Method {
	case http.MethodGet, http.MethodHead:
	default:
		return methodNotAllowed(q, "GET, HEAD")
	}
	if q.id == nil && q.claims == nil {
		return &challengeError{msg: "authentication required"}
	}
	q.w.Header().Set("Content-Type", "application/json")
	q.w.Header().Set("Content-Length", "2")
	q.w.WriteHeader(http.StatusOK)
	if q.r.Method == http.MethodGet {
		_, _ = q.w.Write([]byte("{}"))
	}
	return nil
}
