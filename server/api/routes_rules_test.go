package api_test

// The class rules of /api/v1, each checked on every route: every route is
// in the one route table (and README.md's scope table), bounds its body
// before reading it, checks its token scope before decoding, hides private
// repositories exactly like missing ones, and validates every text field.
// A route added to the router but not to the table, or to the table but
// not to README.md, fails TestEveryRouteIsInTheTable; every other test
// here walks the table, so a new route is walked without being listed.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/crypto/bcrypt"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server"
	"github.com/wharfhub/wharf/server/api"
	"github.com/wharfhub/wharf/server/auth"
	"github.com/wharfhub/wharf/server/bodylimit"
	"github.com/wharfhub/wharf/server/servertest"
)

// rulesEnv is a counting server with a little of everything, and the
// route table.
type rulesEnv struct {
	*countingEnv
	rules []api.RouteRule
	// Objects the routes' parameters name.
	commentID, repoHook, nsHook int64
	robotID                     int64
	repoDelivery, nsDelivery    string
	callbackToken               string
}

func newRulesEnv(t *testing.T) *rulesEnv {
	t.Helper()
	return newRulesEnvOver(t, openEnv(t, server.Options{Search: true}))
}

// newRulesEnvOver is newRulesEnv over an env of the caller's.
func newRulesEnvOver(t *testing.T, base *env) *rulesEnv {
	t.Helper()
	e := &rulesEnv{countingEnv: countingOver(t, base)}
	// Accounts share one cheap password hash: these tests walk routes,
	// not bcrypt.
	hash, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"alice", "bob", "mallory", "root"} {
		u := &models.User{Username: name, Email: name + "@example.com", PasswordHash: string(hash), IsAdmin: name == "root"}
		if err := e.app.DB.Users.Create(t.Context(), u); err != nil {
			t.Fatal(err)
		}
	}
	servertest.Run(t, e.app)
	e.rules = api.New(e.app.Hub, e.app.Accounts, e.app.Recovery, e.app.DB, nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), e.app.MirrorCatalog).Rules()

	e.repo("alice", "alice", "pub", "public")
	e.repo("alice", "alice", "priv", "private")
	e.repo("alice", "alice", "app", "public")
	e.must("POST", "/api/v1/orgs", "alice", map[string]string{"name": "acme"}, 201)
	var c struct{ ID int64 }
	e.must("POST", "/api/v1/repositories/alice/app/comments", "root", map[string]string{"body": "first"}, 201).json(&c)
	e.commentID = c.ID
	hook := func(prefix string) (int64, string) {
		var h struct{ ID int64 }
		e.must("POST", prefix+"/webhooks", "alice", map[string]any{"name": "ci", "url": "https://ci.example.com/hook"}, 201).json(&h)
		var d struct{ ID string }
		e.must("POST", fmt.Sprintf("%s/webhooks/%d/test", prefix, h.ID), "alice", nil, 202).json(&d)
		return h.ID, d.ID
	}
	e.repoHook, e.repoDelivery = hook("/api/v1/repositories/alice/app")
	e.nsHook, e.nsDelivery = hook("/api/v1/namespaces/alice")
	d, err := e.app.DB.Deliveries.Get(t.Context(), e.repoDelivery)
	if err != nil {
		t.Fatal(err)
	}
	e.callbackToken = d.CallbackToken
	var bot struct{ ID int64 }
	e.must("POST", "/api/v1/namespaces/alice/robots", "alice", map[string]any{"name": "bot",
		"permissions": []map[string]string{{"repository": "app", "permission": "read"}}}, 201).json(&bot)
	e.robotID = bot.ID
	e.repo("alice", "acme", "tools", "private")
	e.must("POST", "/api/v1/orgs/acme/teams", "alice", map[string]any{"name": "devs", "permission": "read",
		"members": []string{"alice"}, "repositories": []string{"tools"}}, 201)
	return e
}

var paramRE = regexp.MustCompile(`:(\w+)`)

// path fills a route's parameters: values by name, then the real objects
// of the env for those not given.
func (e *rulesEnv) path(r api.RouteRule, values map[string]string) string {
	real := map[string]string{
		"user": "bob", "org": "acme", "ns": "alice", "id": "999999",
		"ref": "latest", "comment": itoa(e.commentID), "hook": itoa(e.repoHook), "delivery": e.repoDelivery, "token": e.callbackToken,
		"key": "999999", "rule": "999999", "robot": itoa(e.robotID), "team": "devs",
	}
	if strings.HasPrefix(r.Path, "/api/v1/namespaces/") {
		real["hook"], real["delivery"] = itoa(e.nsHook), e.nsDelivery
	}
	p := strings.Replace(r.Path, "{repo}", url.PathEscape(valueOr(values, "repo", "alice/app")), 1)
	p = strings.ReplaceAll(p, "%2F", "/")
	return paramRE.ReplaceAllStringFunc(p, func(m string) string {
		return url.PathEscape(valueOr(values, m[1:], real[m[1:]]))
	})
}

func valueOr(m map[string]string, k, def string) string {
	if v, ok := m[k]; ok {
		return v
	}
	return def
}

func params(r api.RouteRule) []string {
	var out []string
	if strings.Contains(r.Path, "{repo}") {
		out = append(out, "repo")
	}
	for _, m := range paramRE.FindAllStringSubmatch(r.Path, -1) {
		out = append(out, m[1])
	}
	return out
}

// Every route gin serves under /api/v1 comes from the route table (the
// repository dispatcher serves only table routes), and README.md lists
// every route of the table with its scope, and nothing else.
func TestEveryRouteIsInTheTable(t *testing.T) {
	e := newEnv(t)
	a := api.New(e.app.Hub, e.app.Accounts, e.app.Recovery, e.app.DB, nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), e.app.MirrorCatalog)
	table := map[string]api.RouteRule{}
	for _, r := range a.Rules() {
		if _, dup := table[r.String()]; dup {
			t.Errorf("%s is twice in the table", r)
		}
		table[r.String()] = r
	}
	gin.SetMode(gin.ReleaseMode)
	g := gin.New()
	a.Register(g)
	served := map[string]bool{}
	for _, gr := range g.Routes() {
		key := gr.Method + " " + gr.Path
		switch {
		case gr.Path == "/api/v1/repositories/*path" || gr.Path == "/api/v1/":
			// The repository dispatcher and the catch-all 404.
		case table[key].Path != "":
			served[key] = true
		default:
			t.Errorf("gin serves %s, which is not in the route table (server/api/routes.go)", key)
		}
	}
	for key, r := range table {
		if !strings.Contains(r.Path, "{repo}") && !served[key] {
			t.Errorf("%s is in the table but gin does not serve it", key)
		}
	}
	// Only the routes that carry a README (to save, or to preview) and
	// the upload of the scanner's database have a larger body limit.
	for _, r := range table {
		want := bodylimit.Default
		switch r.String() {
		case "PATCH /api/v1/repositories/{repo}", "POST /api/v1/repositories/{repo}/preview":
			want = bodylimit.Readme
		case "PUT /api/v1/scanner/database":
			want = bodylimit.ScannerDatabase
		}
		if r.Limit != want {
			t.Errorf("%s: body limit %d, want %d", r, r.Limit, want)
		}
	}

	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `([A-Z]+) (/api/v1/[^`]*)` \\| `([a-z]+)` \\|$")
	documented := map[string]string{}
	for _, m := range row.FindAllStringSubmatch(string(readme), -1) {
		documented[m[1]+" "+paramRE.ReplaceAllString(m[2], "{$1}")] = m[3]
	}
	for _, r := range table {
		doc := r.Method + " " + paramRE.ReplaceAllString(r.Path, "{$1}")
		scope, ok := documented[doc]
		switch {
		case !ok:
			t.Errorf("README.md's scope table lacks | `%s` | `%s` |", doc, r.Scope)
		case scope != r.Scope:
			t.Errorf("README.md says %s needs %q; the table says %q", doc, scope, r.Scope)
		}
		delete(documented, doc)
	}
	for doc := range documented {
		t.Errorf("README.md's scope table lists %s, which is not a route", doc)
	}
}

// An oversized body answers 413 too_large on every route, before
// authentication: a Content-Length over the limit is refused with nothing
// read, and a stream is read no further than the limit. Below its limit,
// the README route takes what the others refuse.
func TestEveryRouteBoundsItsBody(t *testing.T) {
	e := newRulesEnv(t)
	for _, r := range e.rules {
		path := e.path(r, nil)
		for _, who := range []string{"", basic("root")} {
			res, read := e.raw(r.Method, path, who, r.Limit+1, false)
			if res.status != http.StatusRequestEntityTooLarge || res.code() != "too_large" || read != 0 {
				t.Errorf("%s as %q with Content-Length %d: %d %s, %d bytes read; want 413 too_large, none read", r, who, r.Limit+1, res.status, res.body, read)
			}
		}
		if r.Body == nil {
			continue
		}
		// A stream with no length: the decoder stops at the limit.
		res, read := e.raw(r.Method, path, basic("root"), 4*r.Limit, true)
		if res.status != http.StatusRequestEntityTooLarge || res.code() != "too_large" || read > r.Limit+1 {
			t.Errorf("%s streaming %d bytes: %d %s, %d bytes read; want 413 too_large, at most %d read", r, 4*r.Limit, res.status, res.body, read, r.Limit+1)
		}
	}
	// 300 KiB is too much for a comment's route, and fine for a README's
	// (which the hub then caps by its own rule, with a 400).
	big, _ := json.Marshal(map[string]string{"readme": strings.Repeat("x", 300<<10)})
	if r := e.send("PATCH", "/api/v1/repositories/alice/app", basic("alice"), big); r.status != 400 || r.code() != "invalid" {
		t.Errorf("300 KiB README: %d %s, want the hub's 400 invalid", r.status, r.body)
	}
	// (Sent as its head only: the server refuses it unread, and a client
	// still writing the body could see the connection reset.)
	if r, _ := e.raw("POST", "/api/v1/repositories/alice/app/comments", basic("alice"), int64(len(big)), false); r.status != 413 {
		t.Errorf("300 KiB comment: %d %s, want 413", r.status, r.body)
	}
	// Paths that are no endpoint bound their body too, rather than leave
	// the caller waiting.
	for _, path := range []string{"/api/v1/nothing/here", "/api/v2/user", "/api/v1/repositories/alice/app/nothing", "/api/v1/repositories/alice/app/manifests/"} {
		res, read := e.raw("GET", path, "", bodylimit.Default+1, false)
		if res.status != http.StatusRequestEntityTooLarge || res.code() != "too_large" || read != 0 {
			t.Errorf("GET %s with Content-Length %d: %d %s, %d bytes read; want 413 too_large, none read", path, bodylimit.Default+1, res.status, res.body, read)
		}
		if res := e.send("GET", path, "", nil); res.status != http.StatusNotFound || res.code() != "not_found" {
			t.Errorf("GET %s: %d %s, want 404 not_found", path, res.status, res.body)
		}
	}
}

// Every route checks the scope of the caller's token before it decodes
// the body or runs: a token without the route's scope is refused (403, or
// 404 where it cannot see the repository; anonymous callers 401), and one
// with it gets past (a malformed body then answers invalid_json, which
// proves the body was only decoded after the check).
func TestEveryRouteChecksItsScope(t *testing.T) {
	e := newRulesEnv(t)
	alice := mustIdentity(t, e.env, "alice")
	callers := []struct {
		name   string
		scopes []string // nil: anonymous
	}{
		{"anonymous", nil},
		{"read token", []string{auth.ScopeRead}},
		{"write token", []string{auth.ScopeRead, auth.ScopeWrite}},
		{"admin-only token", []string{auth.ScopeAdmin}},
	}
	for _, caller := range callers {
		authz := ""
		if caller.scopes != nil {
			tok, err := e.app.Accounts.CreateToken(t.Context(), alice, caller.name, caller.scopes, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			authz = "Bearer " + tok.Secret
		}
		has := func(scope string) bool {
			switch scope {
			case "none":
				return true
			case "account":
				return slices.Contains(caller.scopes, auth.ScopeAdmin)
			}
			return slices.Contains(caller.scopes, scope)
		}
		for _, r := range e.rules {
			// Objects that do not exist, so that an allowed call changes
			// nothing; a public repository, so that a refusal is 403.
			values := map[string]string{"repo": "alice/pub", "user": "nobody", "id": "999999", "comment": "999999", "hook": "999999", "delivery": "nope", "ref": "nope", "key": "999999", "rule": "999999", "robot": "999999", "team": "nope"}
			if strings.Contains(r.Path, "/webhooks/callback/") {
				values = nil // the callback's own credential must pass
			}
			if r.String() == "DELETE /api/v1/repositories/{repo}" {
				values["repo"] = "alice/victim"
				if s := e.call("POST", "/api/v1/repositories", "alice", map[string]string{"namespace": "alice", "name": "victim"}).status; s != 201 && s != 409 {
					t.Fatalf("victim: %d", s)
				}
			}
			var body []byte
			if r.Body != nil {
				body = []byte("{")
			}
			res := e.send(r.Method, e.path(r, values), authz, body)
			if r.String() == "DELETE /api/v1/tokens" && caller.scopes != nil && res.status < 300 {
				// Revoking all tokens revoked the caller's: it gets a new one.
				tok, err := e.app.Accounts.CreateToken(t.Context(), alice, caller.name, caller.scopes, nil, nil)
				if err != nil {
					t.Fatal(err)
				}
				authz = "Bearer " + tok.Secret
			}
			if got := res.header.Get("X-Wharf-Scope"); got != r.Scope {
				t.Errorf("%s as %s: X-Wharf-Scope %q, want %q", r, caller.name, got, r.Scope)
			}
			allowed := has(r.Scope) || (caller.scopes == nil && r.Scope == "read")
			switch {
			case allowed && r.Body != nil:
				if res.status != 400 || res.code() != "invalid_json" {
					t.Errorf("%s as %s (scope %s): %d %s, want the decoder's 400 invalid_json", r, caller.name, r.Scope, res.status, res.body)
				}
			case allowed && caller.scopes != nil:
				if res.status == 401 || (res.status == 403 && strings.Contains(string(res.body), "this token")) {
					t.Errorf("%s as %s (scope %s): refused: %d %s", r, caller.name, r.Scope, res.status, res.body)
				}
			case !allowed:
				want := 403
				switch {
				case caller.scopes == nil:
					want = 401
				case strings.Contains(r.Path, "{repo}") && !has(auth.ScopeRead):
					want = 404 // the token sees no repository
				}
				if res.status != want {
					t.Errorf("%s as %s (scope %s): %d %s, want %d", r, caller.name, r.Scope, res.status, res.body, want)
				}
			}
		}
	}
}

// Under a private repository the caller cannot see, every route answers
// exactly as under one that does not exist, whatever the caller's scopes.
func TestEveryRouteHidesPrivateRepositories(t *testing.T) {
	e := newRulesEnv(t)
	mallory := mustIdentity(t, e.env, "mallory")
	callers := map[string]string{"anonymous": "", "password": basic("mallory")}
	for _, scopes := range [][]string{{auth.ScopeRead}, {auth.ScopeRead, auth.ScopeWrite}, auth.AllScopes} {
		tok, err := e.app.Accounts.CreateToken(t.Context(), mallory, strings.Join(scopes, "+"), scopes, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		callers[strings.Join(scopes, "+")+" token"] = "Bearer " + tok.Secret
	}
	for _, r := range e.rules {
		if !strings.Contains(r.Path, "{repo}") {
			continue
		}
		var body []byte
		if r.Body != nil {
			body = []byte("{}")
		}
		for name, authz := range callers {
			hidden := e.send(r.Method, e.path(r, map[string]string{"repo": "alice/priv"}), authz, body)
			missing := e.send(r.Method, e.path(r, map[string]string{"repo": "alice/missing"}), authz, body)
			if hidden.status != missing.status || !bytes.Equal(hidden.body, missing.body) || hidden.status == 403 {
				t.Errorf("%s as %s: private answers %d %s, missing %d %s", r, name, hidden.status, hidden.body, missing.status, missing.body)
			}
		}
	}
}

// baseBodies are valid bodies of every route that takes one, sent as
// root (a site administrator) with the env's objects: each must succeed,
// so that a refusal of one changed field is that field's.
var baseBodies = map[string]string{
	"PATCH /api/v1/user":                                   `{"email":"root2@example.com"}`,
	"PUT /api/v1/user/password":                            `{"old_password":"` + pw + `","new_password":"` + pw + `"}`,
	"PATCH /api/v1/users/:user":                            `{"disabled":false}`,
	"POST /api/v1/tokens":                                  `{"name":"walk","scopes":["read"],"repositories":["alice/app"]}`,
	"POST /api/v1/orgs":                                    `{"name":"walkorg","description":"d"}`,
	"PATCH /api/v1/orgs/:org":                              `{"description":"d","member_permission":"read"}`,
	"PUT /api/v1/orgs/:org/members/:user":                  `{"role":"member"}`,
	"PUT /api/v1/namespaces/:ns/quota":                     `{"bytes":0}`,
	"POST /api/v1/mirrors":                                 `{"name":"walkmirror","url":"https://mirror.example.com","username":"u","password":"p"}`,
	"POST /api/v1/webhooks/callback/:delivery/:token":      `{"state":"success","description":"ok","context":"ci","target_url":"https://ci.example.com/1"}`,
	"POST /api/v1/repositories":                            `{"namespace":"alice","name":"walk","visibility":"public","description":"d"}`,
	"PATCH /api/v1/repositories/{repo}":                    `{"visibility":"public","description":"d","readme":"# hi"}`,
	"PUT /api/v1/repositories/{repo}/collaborators/:user":  `{"permission":"read"}`,
	"POST /api/v1/repositories/{repo}/comments":            `{"body":"hi"}`,
	"POST /api/v1/repositories/{repo}/tags/delete":         `{"tags":["nope"],"dry_run":true}`,
	"POST /api/v1/repositories/{repo}/preview":             `{"text":"# hi","kind":"readme"}`,
	"PATCH /api/v1/repositories/{repo}/comments/:comment":  `{"body":"hi again"}`,
	"POST /api/v1/repositories/{repo}/webhooks":            `{"name":"w","url":"https://hooks.example.com/x","events":["push"],"secret":"s","active":true}`,
	"PATCH /api/v1/repositories/{repo}/webhooks/:hook":     `{"active":true}`,
	"POST /api/v1/namespaces/:ns/webhooks":                 `{"name":"w","url":"https://hooks.example.com/x","events":["push"],"secret":"s","active":true}`,
	"PATCH /api/v1/namespaces/:ns/webhooks/:hook":          `{"active":true}`,
	"POST /api/v1/repositories/{repo}/signing-keys":        `{"name":"ci","public_key":` + walkKey + `}`,
	"POST /api/v1/namespaces/:ns/signing-keys":             `{"name":"ci","public_key":` + walkKey + `}`,
	"PUT /api/v1/repositories/{repo}/policy":               `{"require_signature":false,"block_severity":""}`,
	"PUT /api/v1/namespaces/:ns/policy":                    `{"require_signature":false,"block_severity":""}`,
	"PUT /api/v1/repositories/{repo}/retention":            `{"rules":[{"keep":"newest","count":5}],"untagged_days":7}`,
	"PUT /api/v1/namespaces/:ns/retention":                 `{"rules":[{"keep":"newest","count":5}],"untagged_days":7}`,
	"POST /api/v1/repositories/{repo}/immutable-tags":      `{"pattern":"walk-*"}`,
	"POST /api/v1/namespaces/:ns/immutable-tags":           `{"pattern":"walk-*"}`,
	"POST /api/v1/orgs/:org/teams":                         `{"name":"walk","description":"d","permission":"read","members":["alice"],"repositories":["tools"]}`,
	"PUT /api/v1/orgs/:org/teams/:team":                    `{"description":"d","permission":"write","members":["alice"],"repositories":["tools"]}`,
	"POST /api/v1/namespaces/:ns/robots":                   `{"name":"walk","description":"d","permissions":[{"repository":"app","permission":"read"}]}`,
	"PUT /api/v1/namespaces/:ns/robots/:robot/permissions": `{"permissions":[{"repository":"app","permission":"read"}]}`,
}

// walkKey is a cosign public key (JSON-quoted), for the routes that take one.
const walkKey = `"-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEuLeHbWLNazt7f5ybXZI1rpXCLSCG\n` +
	`/RY/Y2bCSDSK/hJEPPxdSubZqtvH3idhtGITj5EnvYLp5dVY2Rrny+eu2w==\n-----END PUBLIC KEY-----\n"`

// textFields lists the JSON paths of every string in a body type: its
// string fields, *string fields and the elements of []string fields.
func textFields(t *testing.T, typ reflect.Type) (fields []string, lists []string) {
	t.Helper()
	for i := range typ.NumField() {
		f := typ.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch ft := f.Type; {
		case ft.Kind() == reflect.String, ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.String:
			fields = append(fields, name)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.String:
			lists = append(lists, name)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			// A list of objects: each string of its elements, as
			// NAME[].FIELD.
			sub, _ := textFields(t, ft.Elem())
			for _, f := range sub {
				fields = append(fields, name+"[]."+f)
			}
		case ft.Kind() == reflect.Bool, ft.Kind() == reflect.Int64, ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Bool,
			ft == reflect.TypeFor[*time.Time]():
		default:
			t.Errorf("%s.%s: a field of type %s, which this test cannot walk yet", typ, f.Name, ft)
		}
	}
	return fields, lists
}

// Every string field of every body refuses NUL and invalid UTF-8 with 400
// invalid, never storing it and never answering 500.
func TestEveryTextFieldIsValidated(t *testing.T) {
	e := newRulesEnv(t)
	const marker = "\u2603MARK\u2603"
	for _, r := range e.rules {
		if r.Body == nil {
			continue
		}
		base, ok := baseBodies[r.String()]
		if !ok {
			t.Errorf("%s takes a body, and baseBodies has none for it", r)
			continue
		}
		path := e.path(r, nil)
		if res := e.send(r.Method, path, basic("root"), []byte(base)); res.status/100 != 2 {
			t.Errorf("%s: the base body %s answers %d %s", r, base, res.status, res.body)
			continue
		}
		fields, lists := textFields(t, r.Body)
		for _, f := range append(fields, lists...) {
			for _, bad := range []struct {
				name string
				raw  string // replaces the marker in the encoded body
			}{{"NUL", `a\u0000b`}, {"invalid UTF-8", "a\xffb"}, {"a control character", `a\u001bb`}} {
				// The bad text goes in front of the base value, so that the
				// rest of it stays valid: "\x00root2@example.com" passes
				// an email pattern.
				var v map[string]any
				_ = json.Unmarshal([]byte(base), &v)
				if list, field, ok := strings.Cut(f, "[]."); ok {
					elem := map[string]any{}
					if l, _ := v[list].([]any); len(l) > 0 {
						elem, _ = l[0].(map[string]any)
					}
					old, _ := elem[field].(string)
					elem[field] = marker + old
					v[list] = []any{elem}
				} else if slices.Contains(lists, f) {
					first := "x"
					if l, _ := v[f].([]any); len(l) > 0 {
						first, _ = l[0].(string)
					}
					v[f] = []string{marker + first}
				} else {
					old, _ := v[f].(string)
					v[f] = marker + old
				}
				b, _ := json.Marshal(v)
				b = bytes.Replace(b, []byte(marker), []byte(bad.raw), 1)
				res := e.send(r.Method, path, basic("root"), b)
				want := 400
				if f == "old_password" && bad.name != "invalid UTF-8" {
					want = 401 // a credential: a wrong one is a wrong password
				}
				if res.status != want || (want == 400 && res.code() != "invalid") {
					t.Errorf("%s with %s in %q: %d %s, want %d invalid", r, bad.name, f, res.status, res.body, want)
				}
			}
		}
	}
}

// NUL and invalid UTF-8 in a route's path parameters or the search text
// never answer 500: names no object can have find nothing, without
// reaching the database (PostgreSQL refuses such text with an error).
func TestPathAndQueryTextNever500(t *testing.T) {
	e := newRulesEnv(t)
	for _, r := range e.rules {
		for _, p := range params(r) {
			for _, bad := range []string{"a\x00b", "a\xffb"} {
				v := bad
				if p == "repo" {
					v = "alice/" + bad
				}
				body := []byte(baseBodies[r.String()])
				res := e.send(r.Method, e.path(r, map[string]string{p: v}), basic("root"), body)
				if res.status >= 500 {
					t.Errorf("%s with %q as %s: %d %s", r, bad, p, res.status, res.body)
				}
			}
		}
	}
	for _, q := range []string{"a\x00b", "a\xffb"} {
		res := e.send("GET", "/api/v1/search?q="+url.QueryEscape(q), basic("alice"), nil)
		if res.status != 400 || res.code() != "invalid" {
			t.Errorf("search for %q: %d %s, want 400 invalid", q, res.status, res.body)
		}
		// docker search too, outside the table.
		if res := e.send("GET", "/v1/search?q="+url.QueryEscape(q), basic("alice"), nil); res.status != 400 {
			t.Errorf("docker search for %q: %d %s, want 400", q, res.status, res.body)
		}
	}
	// Basic credentials with such a username are a wrong login, not an error.
	for _, u := range []string{"a\x00b", "a\xffb"} {
		res := e.send("GET", "/api/v1/user", "Basic "+base64.StdEncoding.EncodeToString([]byte(u+":"+pw)), nil)
		if res.status != 401 {
			t.Errorf("login as %q: %d %s, want 401", u, res.status, res.body)
		}
	}
}

func mustIdentity(t *testing.T, e *env, user string) *auth.Identity {
	t.Helper()
	u, err := e.app.DB.Users.GetByName(t.Context(), user)
	if err != nil {
		t.Fatal(err)
	}
	return &auth.Identity{UserID: u.ID, Username: u.Username, IsAdmin: u.IsAdmin}
}
