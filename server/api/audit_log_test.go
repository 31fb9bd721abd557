package api_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server"
	"github.com/wharfhub/wharf/server/config"
)

// auditWalk is how the audit walk calls one route that changes
// something, and the action its one entry must name.
type auditWalk struct {
	action string
	// none: the route changes nothing (a preview) and writes no entry.
	none bool
	// entries, if set, is how many entries the call writes, all alike:
	// one per repository, for a run over a namespace's (alice has
	// three).
	entries int
	// as is the caller (default root); "" with anonymous set calls
	// without credentials.
	as        string
	anonymous bool
	// body replaces the route's base body.
	body []byte
	// setup makes what the call acts on, and returns path values.
	setup func(e *rulesEnv) map[string]string
}

// auditWalks lists every route of the table that does not only read
// (every method but GET): TestEveryChangingRouteIsAudited fails for a
// route missing here, so a new route is walked, or says why not.
var auditWalks = map[string]auditWalk{
	"PATCH /api/v1/user":                  {action: "user.email"},
	"PUT /api/v1/user/password":           {action: "user.password"},
	"PATCH /api/v1/users/:user":           {action: "user.disable"},
	"DELETE /api/v1/users/:user":          {action: "user.delete"},
	"POST /api/v1/users/:user/reset-link": {action: "user.reset_link"},
	"POST /api/v1/tokens":                 {action: "token.create"},
	"DELETE /api/v1/tokens/:id":           {action: "token.delete", setup: rootToken},
	"DELETE /api/v1/tokens":               {action: "token.delete_all", setup: rootToken},
	"POST /api/v1/orgs":                   {action: "org.create"},
	"PATCH /api/v1/orgs/:org":             {action: "org.update"},
	"DELETE /api/v1/orgs/:org":            {action: "org.delete"},
	"PUT /api/v1/orgs/:org/members/:user": {action: "org.member.set"},
	"DELETE /api/v1/orgs/:org/members/:user": {action: "org.member.remove", setup: func(e *rulesEnv) map[string]string {
		e.must("PUT", "/api/v1/orgs/acme/members/bob", "alice", map[string]string{"role": "member"}, 200)
		return nil
	}},
	"POST /api/v1/orgs/:org/teams":         {action: "team.create"},
	"PUT /api/v1/orgs/:org/teams/:team":    {action: "team.update"},
	"DELETE /api/v1/orgs/:org/teams/:team": {action: "team.delete"},
	"POST /api/v1/mirrors":                 {action: "mirror.create"},
	"DELETE /api/v1/mirrors/:ns": {action: "mirror.delete", setup: func(e *rulesEnv) map[string]string {
		e.must("POST", "/api/v1/mirrors", "root", map[string]string{"name": "walkmirror", "url": "https://mirror.example.com"}, 201)
		return map[string]string{"ns": "walkmirror"}
	}},
	"PUT /api/v1/scanner/database":                         {action: "scanner.database.import", body: walkBundle()},
	"POST /api/v1/namespaces/:ns/robots":                   {action: "robot.create"},
	"PUT /api/v1/namespaces/:ns/robots/:robot/permissions": {action: "robot.permissions"},
	"DELETE /api/v1/namespaces/:ns/robots/:robot":          {action: "robot.delete"},
	"PUT /api/v1/namespaces/:ns/quota":                     {action: "namespace.quota"},
	"POST /api/v1/webhooks/callback/:delivery/:token":      {action: "webhook.callback", anonymous: true},
	"POST /api/v1/repositories":                            {action: "repository.create"},
	"PATCH /api/v1/repositories/{repo}":                    {action: "repository.update"},
	"DELETE /api/v1/repositories/{repo}":                   {action: "repository.delete"},
	"POST /api/v1/repositories/{repo}/manifests/:ref/scan": {action: "scan.request", setup: pushLatest},
	"POST /api/v1/repositories/{repo}/tags/delete": {action: "tag.delete", setup: pushLatest,
		body: []byte(`{"tags":["latest"]}`)},
	"PUT /api/v1/repositories/{repo}/collaborators/:user": {action: "collaborator.set"},
	"DELETE /api/v1/repositories/{repo}/collaborators/:user": {action: "collaborator.remove", setup: func(e *rulesEnv) map[string]string {
		e.must("PUT", "/api/v1/repositories/alice/app/collaborators/bob", "alice", map[string]string{"permission": "read"}, 200)
		return nil
	}},
	"PUT /api/v1/repositories/{repo}/star":  {action: "star.add"},
	"PUT /api/v1/repositories/{repo}/watch": {action: "watch.add"},
	"DELETE /api/v1/repositories/{repo}/watch": {action: "watch.remove", setup: func(e *rulesEnv) map[string]string {
		e.must("PUT", "/api/v1/repositories/alice/app/watch", "root", nil, 200)
		return nil
	}},
	"DELETE /api/v1/repositories/{repo}/star": {action: "star.remove", setup: func(e *rulesEnv) map[string]string {
		e.must("PUT", "/api/v1/repositories/alice/app/star", "root", nil, 200)
		return nil
	}},
	"POST /api/v1/repositories/{repo}/comments":            {action: "comment.create"},
	"POST /api/v1/repositories/{repo}/preview":             {none: true},
	"PATCH /api/v1/repositories/{repo}/comments/:comment":  {action: "comment.update"},
	"DELETE /api/v1/repositories/{repo}/comments/:comment": {action: "comment.delete"},
}

func init() {
	// What a repository and a namespace own is managed alike.
	for _, owner := range []string{"/api/v1/repositories/{repo}", "/api/v1/namespaces/:ns"} {
		for route, w := range map[string]auditWalk{
			"POST %s/webhooks":                                      {action: "webhook.create"},
			"PATCH %s/webhooks/:hook":                               {action: "webhook.update"},
			"DELETE %s/webhooks/:hook":                              {action: "webhook.delete"},
			"POST %s/webhooks/:hook/test":                           {action: "webhook.test"},
			"POST %s/webhooks/:hook/deliveries/:delivery/redeliver": {action: "webhook.redeliver"},
			"POST %s/signing-keys":                                  {action: "signing_key.create"},
			"DELETE %s/signing-keys/:key":                           {action: "signing_key.delete", setup: ownedBy(owner, "signing-keys", `{"name":"k","public_key":`+walkKey+`}`, "key")},
			"PUT %s/policy":                                         {action: "policy.set"},
			"POST %s/immutable-tags":                                {action: "immutable_rule.create"},
			"DELETE %s/immutable-tags/:rule":                        {action: "immutable_rule.delete", setup: ownedBy(owner, "immutable-tags", `{"pattern":"x-*"}`, "rule")},
			"PUT %s/retention":                                      {action: "retention.set"},
			"DELETE %s/retention":                                   {action: "retention.delete", setup: retained(owner)},
			"POST %s/retention/preview":                             {none: true, setup: retained(owner)},
			"POST %s/retention/run":                                 {action: "retention.run", setup: retained(owner)},
		} {
			if route == "POST %s/retention/run" && owner == "/api/v1/namespaces/:ns" {
				w.entries = 3 // a run per repository: alice/app, alice/priv, alice/pub
			}
			auditWalks[fmt.Sprintf(route, owner)] = w
		}
	}
}

// retained gives owner's alice/app (or alice) a retention policy, and
// alice/app a tag the policy keeps.
func retained(owner string) func(e *rulesEnv) map[string]string {
	return func(e *rulesEnv) map[string]string {
		pushLatest(e)
		prefix := strings.Replace(owner, "{repo}", "alice/app", 1)
		prefix = strings.Replace(prefix, ":ns", "alice", 1)
		e.must("PUT", prefix+"/retention", "alice", map[string]any{"rules": []map[string]any{{"keep": "newest", "count": 1}}}, 200)
		return nil
	}
}

// rootToken makes a token of root's, for the routes that revoke one.
func rootToken(e *rulesEnv) map[string]string {
	var tok struct{ ID int64 }
	e.must("POST", "/api/v1/tokens", "root", map[string]any{"name": "old", "scopes": []string{"read"}}, 201).json(&tok)
	return map[string]string{"id": itoa(tok.ID)}
}

// pushLatest pushes alice/app:latest.
func pushLatest(e *rulesEnv) map[string]string {
	if code := e.pushAs("alice", "alice/app", "latest"); code != http.StatusCreated {
		e.t.Fatalf("push: %d", code)
	}
	return nil
}

// ownedBy makes an object under owner's prefix (path under it, JSON
// body) as alice, and names its id as param.
func ownedBy(owner, path, body, param string) func(e *rulesEnv) map[string]string {
	return func(e *rulesEnv) map[string]string {
		prefix := strings.Replace(owner, "{repo}", "alice/app", 1)
		prefix = strings.Replace(prefix, ":ns", "alice", 1)
		var obj struct{ ID int64 }
		res := e.send("POST", prefix+"/"+path, basic("alice"), []byte(body))
		if res.status != http.StatusCreated {
			e.t.Fatalf("make %s: %d %s", path, res.status, res.body)
		}
		res.json(&obj)
		return map[string]string{param: itoa(obj.ID)}
	}
}

// walkBundle is a vulnerability database bundle laid out as Trivy's
// offline one is (its trivy.db need not be a real database to import).
func walkBundle() []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	now := time.Now().UTC().Format(time.RFC3339)
	for name, body := range map[string]string{
		"trivy.db":      "not really bolt",
		"metadata.json": `{"Version":2,"UpdatedAt":"` + now + `","NextUpdate":"` + now + `"}`,
	} {
		_ = tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body))})
		_, _ = tw.Write([]byte(body))
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

// auditEnv is the rules env with a scanner (a stand-in trivy that only
// tells its version: the walk asks for a scan, it does not run one).
func auditEnv(t *testing.T) *rulesEnv {
	t.Helper()
	trivy := filepath.Join(t.TempDir(), "trivy")
	if err := os.WriteFile(trivy, []byte("#!/bin/sh\necho '{\"Version\":\"0.0.0-walk\"}'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return newRulesEnvOver(t, openEnvConfig(t, server.Options{Search: true, Scan: true}, func(c *config.Config) {
		c.Scanner.Trivy = trivy
	}))
}

func (e *rulesEnv) auditEntries() []models.AuditEntry {
	e.t.Helper()
	es, err := e.app.DB.Audit.List(e.t.Context(), models.AuditFilter{}, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	return es
}

// Every route that changes something writes exactly one audit entry,
// with the change, naming the caller, the address, the action and its
// result; none changes anything outside an audited transaction.
func TestEveryChangingRouteIsAudited(t *testing.T) {
	rules := newRulesEnv(t).rules
	walked := map[string]bool{}
	for _, r := range rules {
		if r.Method == http.MethodGet {
			continue
		}
		w, ok := auditWalks[r.String()]
		if !ok {
			t.Errorf("%s changes something, and auditWalks does not say how to walk it", r)
			continue
		}
		walked[r.String()] = true
		t.Run(r.String(), func(t *testing.T) {
			t.Parallel()
			e := auditEnv(t)
			var values map[string]string
			if w.setup != nil {
				values = w.setup(e)
			}
			body := w.body
			if body == nil && r.Body != nil {
				body = []byte(baseBodies[r.String()])
			}
			as, authz := w.as, ""
			if as == "" && !w.anonymous {
				as = "root"
			}
			if as != "" {
				authz = basic(as)
			}
			before := e.auditEntries()
			res := e.send(r.Method, e.path(r, values), authz, body)
			if res.status/100 != 2 {
				t.Fatalf("%d %s", res.status, res.body)
			}
			all := e.auditEntries()
			added := all[:len(all)-len(before)]
			if w.none {
				if len(added) != 0 {
					t.Fatalf("a route that changes nothing wrote %+v", added)
				}
				return
			}
			if want := max(w.entries, 1); len(added) != want {
				t.Fatalf("%d entries, want %d: %+v", len(added), want, added)
			}
			kind := models.ActorUser
			if w.anonymous {
				kind = models.ActorAnonymous
			}
			for _, got := range added {
				if got.Action != w.action || got.Actor != as || got.ActorKind != kind || got.Result != models.AuditOK ||
					got.Address != "127.0.0.1" || got.Target == "" {
					t.Fatalf("entry = %+v, want %s by %q (%s) from 127.0.0.1", got, w.action, as, kind)
				}
			}
		})
	}
	for route := range auditWalks {
		if !walked[route] {
			t.Errorf("auditWalks has %s, which is no route that changes something", route)
		}
	}
}

// auditPage reads a view of the log as user.
func (e *env) auditPage(path, user string, status int) []models.AuditEntry {
	e.t.Helper()
	var page struct {
		Entries []models.AuditEntry
		Next    string
	}
	e.must("GET", path, user, nil, status).json(&page)
	return page.Entries
}

func actions(es []models.AuditEntry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Action + ":" + e.Result
	}
	return out
}

// The registry's changes and sign-ins are in the log: pushes (by whom),
// deletions of tags, manifests and blobs, docker's token sign-ins, the
// failed ones, and a refused move of an immutable tag.
func TestRegistryActionsAreAudited(t *testing.T) {
	e := newEnv(t, "alice", "root")
	if code := e.pushAs("alice", "alice/app", "v1"); code != http.StatusCreated {
		t.Fatalf("push: %d", code)
	}
	e.must("POST", "/api/v1/repositories/alice/app/immutable-tags", "alice", map[string]string{"pattern": "v*"}, 201)
	// The stand-in image differs by nothing but its tag: make another.
	cfg := []byte(`{"architecture":"arm64","os":"linux"}`)
	blob := e.pushBlob("alice", "alice/app", cfg)
	m := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":%d},"layers":[]}`, blob, len(cfg))
	put := func(tag string) int {
		req, _ := http.NewRequest("PUT", e.srv.URL+"/v2/alice/app/manifests/"+tag, strings.NewReader(m))
		req.SetBasicAuth("alice", pw)
		req.Header.Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := put("v1"); code != http.StatusForbidden {
		t.Fatalf("moving an immutable tag: %d", code)
	}
	if code := put("dev"); code != http.StatusCreated {
		t.Fatalf("push dev: %d", code)
	}
	del := func(path string) {
		req, _ := http.NewRequest("DELETE", e.srv.URL+path, nil)
		req.SetBasicAuth("alice", pw)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusAccepted {
			t.Fatalf("DELETE %s: %d", path, res.StatusCode)
		}
	}
	del("/v2/alice/app/manifests/dev")
	del("/v2/alice/app/blobs/" + blob.String())
	for _, who := range []string{"alice:" + pw, "alice:wrong"} {
		user, pass, _ := strings.Cut(who, ":")
		req, _ := http.NewRequest("GET", e.srv.URL+"/v2/token?service=wharf.test&scope=repository:alice/app:pull", nil)
		req.SetBasicAuth(user, pass)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}

	es := e.auditPage("/api/v1/repositories/alice/app/audit", "alice", 200)
	got := strings.Join(actions(es), " ")
	want := "blob.delete:ok tag.delete:ok manifest.push:ok manifest.push:denied immutable_rule.create:ok manifest.push:ok"
	if !strings.HasPrefix(got, want) {
		t.Fatalf("the repository's log = %s, want it to start %s", got, want)
	}
	if es[3].Target != "alice/app:v1" || es[3].Actor != "alice" || es[3].ActorKind != models.ActorUser {
		t.Errorf("the refused push = %+v", es[3])
	}
	signins := e.auditPage("/api/v1/namespaces/alice/audit?action=signin", "alice", 200)
	if got := strings.Join(actions(signins), " "); got != "signin:failed signin:ok" {
		t.Errorf("alice's sign-ins = %s", got)
	}
	if signins[1].Detail != "registry token" || signins[0].Actor != "alice" {
		t.Errorf("sign-ins = %+v", signins)
	}
}

// Who reads which view: a repository's admins its log, a namespace's
// owners theirs, site admins everything; the filters and the JSON Lines
// export; and a namespace made again under a freed name starts afresh.
func TestAuditViews(t *testing.T) {
	e := newEnv(t, "alice", "bob", "root")
	e.repo("alice", "alice", "app", "public")
	e.must("POST", "/api/v1/orgs", "alice", map[string]string{"name": "acme"}, 201)
	e.repo("alice", "acme", "tools", "public")
	e.must("PUT", "/api/v1/repositories/acme/tools/star", "bob", nil, 200)

	for _, c := range []struct {
		path, user string
		status     int
	}{
		{"/api/v1/audit", "root", 200},
		{"/api/v1/audit", "alice", 403},
		{"/api/v1/audit", "", 401},
		{"/api/v1/namespaces/acme/audit", "alice", 200},
		{"/api/v1/namespaces/acme/audit", "bob", 403},
		{"/api/v1/namespaces/acme/audit", "root", 200},
		{"/api/v1/repositories/acme/tools/audit", "alice", 200},
		{"/api/v1/repositories/acme/tools/audit", "bob", 403},
		{"/api/v1/repositories/alice/app/audit", "bob", 403},
		{"/api/v1/namespaces/nobody/audit", "root", 404},
		{"/api/v1/audit?result=maybe", "root", 400},
		{"/api/v1/audit?since=yesterday", "root", 400},
		{"/api/v1/audit?limit=501", "root", 400},
		{"/api/v1/audit?before=x", "root", 400},
		{"/api/v1/audit?actor=%00", "root", 400},
	} {
		if res := e.call("GET", c.path, c.user, nil); res.status != c.status {
			t.Errorf("GET %s as %q: %d %s, want %d", c.path, c.user, res.status, res.body, c.status)
		}
	}
	acme := actions(e.auditPage("/api/v1/namespaces/acme/audit", "alice", 200))
	if got := strings.Join(acme, " "); got != "star.add:ok repository.create:ok org.create:ok" {
		t.Errorf("acme's log = %s", got)
	}
	if got := actions(e.auditPage("/api/v1/audit?actor=bob", "root", 200)); strings.Join(got, " ") != "star.add:ok" {
		t.Errorf("bob's entries = %v", got)
	}
	if got := e.auditPage("/api/v1/audit?action=repository&target=tools", "root", 200); len(got) != 1 || got[0].Repository != "acme/tools" {
		t.Errorf("filtered = %+v", got)
	}
	first := e.auditPage("/api/v1/audit?limit=2", "root", 200)
	var page struct{ Next string }
	e.must("GET", "/api/v1/audit?limit=2", "root", nil, 200).json(&page)
	older := e.auditPage("/api/v1/audit?limit=2&before="+page.Next, "root", 200)
	if len(first) != 2 || len(older) == 0 || older[0].ID >= first[1].ID {
		t.Errorf("pages: %+v then %+v", first, older)
	}

	res := e.must("GET", "/api/v1/namespaces/acme/audit?format=jsonl", "alice", nil, 200)
	if ct := res.header.Get("Content-Type"); ct != "application/x-ndjson" {
		t.Errorf("export Content-Type %q", ct)
	}
	lines := strings.Split(strings.TrimSpace(string(res.body)), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], `"action":"org.create"`) || !strings.Contains(lines[2], `"action":"star.add"`) {
		t.Errorf("export (oldest first) = %s", res.body)
	}

	// A freed name taken again: the new owner reads nothing of before.
	e.must("DELETE", "/api/v1/orgs/acme", "alice", nil, 204)
	e.must("POST", "/api/v1/orgs", "bob", map[string]string{"name": "acme"}, 201)
	if got := actions(e.auditPage("/api/v1/namespaces/acme/audit", "bob", 200)); strings.Join(got, " ") != "org.create:ok" {
		t.Errorf("the new acme's log = %v", got)
	}
	if got := e.auditPage("/api/v1/audit?target=acme&action=org", "root", 200); len(got) != 3 {
		t.Errorf("site admins still see all of it: %v", actions(got))
	}
}

// A robot's push is in the log as the robot's, and its use of its
// secret too.
func TestRobotPushIsAuditedAsTheRobot(t *testing.T) {
	e := newEnv(t, "alice")
	e.repo("alice", "alice", "app", "public")
	var bot struct{ Name, Secret string }
	e.must("POST", "/api/v1/namespaces/alice/robots", "alice", map[string]any{"name": "ci",
		"permissions": []map[string]string{{"repository": "app", "permission": "write"}}}, 201).json(&bot)
	cfg := []byte(`{"architecture":"amd64","os":"linux"}`)
	cd := digest.FromBytes(cfg)
	do := func(method, path string, body []byte, ctype string) int {
		req, _ := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(body))
		req.SetBasicAuth("alice+ci", bot.Secret)
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := do("POST", "/v2/alice/app/blobs/uploads/?digest="+cd.String(), cfg, ""); code != 201 {
		t.Fatalf("blob: %d", code)
	}
	m := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":%d},"layers":[]}`, cd, len(cfg))
	if code := do("PUT", "/v2/alice/app/manifests/v1", []byte(m), "application/vnd.oci.image.manifest.v1+json"); code != 201 {
		t.Fatalf("push: %d", code)
	}
	es := e.auditPage("/api/v1/namespaces/alice/audit?actor=alice%2Bci", "alice", 200)
	if got := strings.Join(actions(es), " "); got != "manifest.push:ok robot.use:ok" {
		t.Fatalf("the robot's entries = %s", got)
	}
	if es[0].ActorKind != models.ActorRobot || es[0].Target != "alice/app:v1" {
		t.Errorf("the push = %+v", es[0])
	}
}
