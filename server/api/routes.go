package api

import (
	"errors"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/wharfhub/wharf/server/apierr"
	"github.com/wharfhub/wharf/server/auth"
	"github.com/wharfhub/wharf/server/bodylimit"
	"github.com/wharfhub/wharf/server/repopath"
)

// need is what a route asks of the caller's credentials before its
// handler runs. A session or a password has every scope; a personal
// access token has its own. The services still decide what the caller may
// do with the object at hand (a repository, an organization, a comment).
type need string

const (
	// needNothing: anyone, anonymous too; the route carries a credential
	// of its own (the callback URL's token) and checks it in admit.
	needNothing need = "none"
	// needRead: the read scope. Anonymous callers pass too; the service
	// shows them what is public.
	needRead need = auth.ScopeRead
	// needWrite: the write scope, for every change that is not
	// management, social ones (stars, comments) included.
	needWrite need = auth.ScopeWrite
	// needAdmin: the admin scope, to manage a repository (its settings,
	// collaborators and webhooks). A token limited to some repositories
	// may manage those; the service checks which.
	needAdmin need = auth.ScopeAdmin
	// needDelete: the delete scope, to delete content (tags, manifests).
	needDelete need = auth.ScopeDelete
	// needAccount: the account itself: a session, a password, or an
	// admin token without a repository limit (tokens, organizations,
	// namespaces, usage, the profile).
	needAccount need = "account"
)

// route is one endpoint of /api/v1, and the one place that says what it
// needs: its scope, its body limit and its body's type. Register builds
// every route's handler chain from it, in this order: bound the body,
// authenticate, check the scope, admit (a route's own credential, if
// any), decode the body, handle. So nothing reads a body past its limit,
// and nothing decodes one for a caller who may not use the route.
type route struct {
	method string
	// path is gin's syntax under /api/v1. A leading /repositories/{repo}
	// stands for a repository name of any number of segments; the name
	// ends at the first word that follows it in some route.
	path  string
	need  need
	limit int64        // the body limit; 0 is bodylimit.Default
	body  reflect.Type // the JSON body's type; nil for a route without a body
	// admit, if set, checks a credential the route carries in its path,
	// before the body is decoded.
	admit  gin.HandlerFunc
	handle gin.HandlerFunc
}

// plain is a route without a body.
func plain(method, path string, n need, h gin.HandlerFunc) route {
	return route{method: method, path: path, need: n, handle: h}
}

// withBody is a route with a JSON body of type T, which its handler gets
// decoded: the handler's signature is the only place the type is named.
func withBody[T any](method, path string, n need, h func(c *gin.Context, in *T)) route {
	return route{method: method, path: path, need: n, body: reflect.TypeFor[T](),
		handle: func(c *gin.Context) { h(c, c.MustGet(bodyKey).(*T)) }}
}

// limited sets a route's body limit.
func (r route) limited(n int64) route { r.limit = n; return r }

// admitting sets a route's own credential check.
func (r route) admitting(h gin.HandlerFunc) route { r.admit = h; return r }

func (r route) bodyLimit() int64 {
	if r.limit > 0 {
		return r.limit
	}
	return bodylimit.Default
}

const repoPrefix = "/repositories/{repo}"

const bodyKey = "wharf.body"

// routes is the table of every /api/v1 endpoint. README.md's scope table
// is written from it; routes_rules_test.go walks it against gin's routes.
func (a *API) routes() []route {
	const (
		GET    = http.MethodGet
		POST   = http.MethodPost
		PUT    = http.MethodPut
		PATCH  = http.MethodPatch
		DELETE = http.MethodDelete
	)
	rs := []route{
		plain(GET, "/user", needRead, a.users.getSelf),
		withBody(PATCH, "/user", needAccount, a.users.patchSelf),
		withBody(PUT, "/user/password", needAccount, a.users.changePassword),
		plain(GET, "/users", needAccount, a.users.listUsers),
		plain(GET, "/users/:user", needRead, a.users.getUser),
		withBody(PATCH, "/users/:user", needAccount, a.users.patchUser),
		plain(DELETE, "/users/:user", needAccount, a.users.deleteUser),
		plain(POST, "/users/:user/reset-link", needAccount, a.users.resetLink),
		plain(GET, "/users/:user/starred", needRead, a.social.listStarred),

		plain(GET, "/tokens", needAccount, a.users.listTokens),
		withBody(POST, "/tokens", needAccount, a.users.createToken),
		plain(DELETE, "/tokens/:id", needAccount, a.users.deleteToken),
		plain(DELETE, "/tokens", needAccount, a.users.deleteAllTokens),

		withBody(POST, "/orgs", needAccount, a.orgs.createOrg),
		plain(GET, "/orgs/:org", needRead, a.orgs.getOrg),
		withBody(PATCH, "/orgs/:org", needAccount, a.orgs.patchOrg),
		plain(DELETE, "/orgs/:org", needAccount, a.orgs.deleteOrg),
		plain(GET, "/orgs/:org/members", needRead, a.orgs.listMembers),
		withBody(PUT, "/orgs/:org/members/:user", needAccount, a.orgs.setMember),
		plain(DELETE, "/orgs/:org/members/:user", needAccount, a.orgs.removeMember),
		plain(GET, "/orgs/:org/teams", needAccount, a.teams.listTeams),
		withBody(POST, "/orgs/:org/teams", needAccount, a.teams.createTeam),
		plain(GET, "/orgs/:org/teams/:team", needAccount, a.teams.getTeam),
		withBody(PUT, "/orgs/:org/teams/:team", needAccount, a.teams.updateTeam),
		plain(DELETE, "/orgs/:org/teams/:team", needAccount, a.teams.deleteTeam),

		plain(GET, "/search", needRead, a.discover.search),

		plain(GET, "/audit", needAccount, a.audit.listAudit),
		plain(GET, "/namespaces/:ns/audit", needAccount, a.audit.listAudit),
		plain(GET, repoPrefix+"/audit", needAdmin, a.audit.listAudit),

		plain(GET, "/mirrors", needAccount, a.mirrors.listMirrors),
		withBody(POST, "/mirrors", needAccount, a.mirrors.createMirror),
		plain(DELETE, "/mirrors/:ns", needAccount, a.mirrors.deleteMirror),

		plain(GET, "/scanner", needAccount, a.scans.getScanner),
		// The body is a vulnerability database bundle, not JSON.
		plain(PUT, "/scanner/database", needAccount, a.scans.importDatabase).limited(bodylimit.ScannerDatabase),

		plain(GET, "/namespaces/:ns/robots", needAccount, a.robots.listRobots),
		withBody(POST, "/namespaces/:ns/robots", needAccount, a.robots.createRobot),
		withBody(PUT, "/namespaces/:ns/robots/:robot/permissions", needAccount, a.robots.setRobotPermissions),
		plain(DELETE, "/namespaces/:ns/robots/:robot", needAccount, a.robots.deleteRobot),
		plain(GET, "/namespaces/:ns/usage", needAccount, a.orgs.getUsage),
		withBody(PUT, "/namespaces/:ns/quota", needAccount, a.orgs.setQuota),

		withBody(POST, "/webhooks/callback/:delivery/:token", needNothing, a.hooks.callback).admitting(a.hooks.admitCallback),

		withBody(POST, "/repositories", needWrite, a.repos.createRepository),
		plain(GET, repoPrefix, needRead, a.repos.getRepository),
		// The bodies that carry a README: this one, and a preview.
		withBody(PATCH, repoPrefix, needAdmin, a.repos.patchRepository).limited(bodylimit.Readme),
		plain(DELETE, repoPrefix, needAdmin, a.repos.deleteRepository),
		plain(GET, repoPrefix+"/tags", needRead, a.repos.listTags),
		plain(GET, repoPrefix+"/manifests/:ref", needRead, a.repos.getManifest),
		plain(GET, repoPrefix+"/manifests/:ref/scan", needRead, a.scans.getScan),
		plain(POST, repoPrefix+"/manifests/:ref/scan", needWrite, a.scans.rescan),
		withBody(POST, repoPrefix+"/tags/delete", needDelete, a.repos.deleteTags),
		plain(GET, repoPrefix+"/collaborators", needAdmin, a.repos.listCollaborators),
		withBody(PUT, repoPrefix+"/collaborators/:user", needAdmin, a.repos.setCollaborator),
		plain(DELETE, repoPrefix+"/collaborators/:user", needAdmin, a.repos.removeCollaborator),

		plain(GET, repoPrefix+"/star", needRead, a.social.getStar),
		plain(PUT, repoPrefix+"/star", needWrite, a.social.star),
		plain(DELETE, repoPrefix+"/star", needWrite, a.social.unstar),
		plain(GET, repoPrefix+"/stargazers", needRead, a.social.listStargazers),
		plain(GET, repoPrefix+"/watch", needRead, a.social.getWatch),
		plain(PUT, repoPrefix+"/watch", needWrite, a.social.watch),
		plain(DELETE, repoPrefix+"/watch", needWrite, a.social.unwatch),
		plain(GET, repoPrefix+"/comments", needRead, a.social.listComments),
		withBody(POST, repoPrefix+"/comments", needWrite, a.social.createComment),
		// A preview may be of a README: it takes what a README route does.
		withBody(POST, repoPrefix+"/preview", needWrite, a.social.preview).limited(bodylimit.Readme),
		plain(GET, repoPrefix+"/comments/:comment", needRead, a.social.getComment),
		withBody(PATCH, repoPrefix+"/comments/:comment", needWrite, a.social.editComment),
		plain(DELETE, repoPrefix+"/comments/:comment", needWrite, a.social.deleteComment),
	}
	// Webhooks, signing keys, policies and immutable tags are the same under a repository
	// (its admins) and under a namespace (its owners, through the
	// account).
	for _, owner := range []struct {
		prefix string
		need   need
	}{{repoPrefix, needAdmin}, {"/namespaces/:ns", needAccount}} {
		p, n := owner.prefix+"/webhooks", owner.need
		rs = append(rs,
			plain(GET, p, n, a.hooks.listWebhooks),
			withBody(POST, p, n, a.hooks.createWebhook),
			plain(GET, p+"/:hook", n, a.hooks.getWebhook),
			withBody(PATCH, p+"/:hook", n, a.hooks.patchWebhook),
			plain(DELETE, p+"/:hook", n, a.hooks.deleteWebhook),
			plain(POST, p+"/:hook/test", n, a.hooks.testWebhook),
			plain(GET, p+"/:hook/deliveries", n, a.hooks.listDeliveries),
			plain(GET, p+"/:hook/deliveries/:delivery", n, a.hooks.getDelivery),
			plain(POST, p+"/:hook/deliveries/:delivery/redeliver", n, a.hooks.redeliver),
		)
		// Signing keys and the policy: managed by the same callers; a
		// repository's policy is read by whoever may read it.
		read := n
		if owner.prefix == repoPrefix {
			read = needRead
		}
		rs = append(rs,
			plain(GET, owner.prefix+"/signing-keys", n, a.trust.listKeys),
			withBody(POST, owner.prefix+"/signing-keys", n, a.trust.createKey),
			plain(DELETE, owner.prefix+"/signing-keys/:key", n, a.trust.deleteKey),
			plain(GET, owner.prefix+"/policy", read, a.trust.getPolicy),
			withBody(PUT, owner.prefix+"/policy", n, a.trust.setPolicy),
			plain(GET, owner.prefix+"/immutable-tags", n, a.immutable.listRules),
			withBody(POST, owner.prefix+"/immutable-tags", n, a.immutable.createRule),
			plain(DELETE, owner.prefix+"/immutable-tags/:rule", n, a.immutable.deleteRule),
			plain(GET, owner.prefix+"/retention", n, a.retention.getPolicy),
			withBody(PUT, owner.prefix+"/retention", n, a.retention.setPolicy),
			plain(DELETE, owner.prefix+"/retention", n, a.retention.deletePolicy),
			plain(POST, owner.prefix+"/retention/preview", n, a.retention.preview),
			plain(POST, owner.prefix+"/retention/run", n, a.retention.run),
			plain(GET, owner.prefix+"/retention/runs", n, a.retention.listRuns),
		)
	}
	return rs
}

// Register adds the API's routes under /api/v1.
func (a *API) Register(r gin.IRouter) {
	g := r.Group("/api/v1")
	var repo repoRoutes
	for _, rt := range a.routes() {
		chain := a.chain(rt)
		if rest, ok := strings.CutPrefix(rt.path, repoPrefix); ok {
			repo.add(rt, rest, chain)
			continue
		}
		g.Handle(rt.method, rt.path, chain...)
	}
	g.Any("/repositories/*path", repo.dispatch)
	g.Any("/", NotFound)
}

// NotFound answers a path that is no API endpoint (the router's NoRoute
// under /api/ too): 404, or 413 for a body over the default limit, as
// every endpoint bounds its body, so that no caller is left waiting for
// a body nobody reads.
func NotFound(c *gin.Context) {
	if notFoundLimit(c); c.IsAborted() {
		return
	}
	fail(c, apierr.NotFound, "no such API endpoint")
}

var notFoundLimit = bodylimit.Middleware(func(*gin.Context) int64 { return bodylimit.Default }, tooLarge)

// chain is a route's handlers, in the order route describes.
func (a *API) chain(rt route) []gin.HandlerFunc {
	limit := rt.bodyLimit()
	hs := []gin.HandlerFunc{
		bodylimit.Middleware(func(*gin.Context) int64 { return limit }, tooLarge),
		a.authn.authenticate,
		a.authorize(rt.need),
	}
	if rt.admit != nil {
		hs = append(hs, rt.admit)
	}
	if rt.body != nil {
		hs = append(hs, decode(rt.body, limit))
	}
	return append(hs, rt.handle)
}

// tooLarge answers a body over its limit.
func tooLarge(c *gin.Context, limit int64) {
	fail(c, apierr.TooLarge, "the body is larger than this endpoint's limit of "+byteCount(limit))
}

func byteCount(n int64) string {
	switch {
	case n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// authorize refuses a caller whose credentials lack what the route needs,
// before its body is decoded or its handler runs.
func (a *API) authorize(n need) gin.HandlerFunc {
	return func(c *gin.Context) {
		// Tell every caller what the route needs, as GitHub's
		// X-Accepted-OAuth-Scopes does.
		c.Header("X-Wharf-Scope", string(n))
		id := identity(c)
		switch {
		case n == needNothing, n == needRead && id == nil:
			return
		case n == needAccount && id.CanManageAccount():
			return
		case n != needAccount && id.HasScope(string(n)):
			return
		}
		a.refuse(c, id, n)
	}
}

// refuse answers a caller that authorize turned away: 401 asks an
// anonymous caller to log in, 403 says the token lacks the scope. Under a
// repository the caller cannot see, both are 404, exactly as for a
// missing one: private is invisible.
func (a *API) refuse(c *gin.Context, id *auth.Identity, n need) {
	if name := c.Param("repo"); name != "" {
		_, err := a.repos.repos.Get(c.Request.Context(), id, name)
		if err != nil && !errors.Is(err, auth.ErrDenied) {
			a.error(c, err)
			return
		}
	}
	switch {
	case id == nil:
		a.error(c, auth.ErrUnauthenticated)
	case n == needAccount:
		fail(c, apierr.Forbidden, "this token may not manage the account")
	default:
		fail(c, apierr.Forbidden, "this token lacks the "+string(n)+" scope")
	}
}

// repoRoutes dispatches /api/v1/repositories/{repo}/..., whose repository
// names gin cannot match.
type repoRoutes struct {
	routes []repoRoute
	words  []string // the words that end a repository name
	paths  *repopath.Router
}

type repoRoute struct {
	method string
	segs   []string // after the name; ":x" binds parameter x
	chain  []gin.HandlerFunc
}

func (rr *repoRoutes) add(rt route, rest string, chain []gin.HandlerFunc) {
	segs := strings.Split(strings.Trim(rest, "/"), "/")
	if rest == "" {
		segs = nil
	}
	if len(segs) > 0 && !slices.Contains(rr.words, segs[0]) {
		rr.words = append(rr.words, segs[0])
	}
	rr.routes = append(rr.routes, repoRoute{method: rt.method, segs: segs, chain: chain})
	rr.paths = repopath.New(rr.words...)
}

// split splits "/ns/name[/more][/-]/word/..." into the repository name
// and the rest, as the UI does (see repopath).
func (rr *repoRoutes) split(p string) (name string, rest []string) {
	return rr.paths.Split(p)
}

func (rr *repoRoutes) dispatch(c *gin.Context) {
	name, rest := rr.split(c.Param("path"))
	if name != "" {
		for _, r := range rr.routes {
			params, ok := r.match(c.Request.Method, rest)
			if !ok {
				continue
			}
			c.Params = append(append(c.Params, gin.Param{Key: "repo", Value: name}), params...)
			for _, h := range r.chain {
				if h(c); c.IsAborted() {
					return
				}
			}
			return
		}
	}
	NotFound(c)
}

func (r repoRoute) match(method string, rest []string) (gin.Params, bool) {
	if method != r.method || len(rest) != len(r.segs) {
		return nil, false
	}
	var ps gin.Params
	for i, s := range r.segs {
		if key, ok := strings.CutPrefix(s, ":"); ok {
			ps = append(ps, gin.Param{Key: key, Value: rest[i]})
		} else if s != rest[i] {
			return nil, false
		}
	}
	return ps, true
}
