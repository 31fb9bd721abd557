package registry_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
)

// pushAs pushes a one-layer image to repo:tag with user's credentials and
// returns the manifest's answer.
func (e *env) pushAs(user, pw, repo, tag, layer string) resp {
	e.t.Helper()
	blob := func(b []byte) (digest.Digest, int) {
		d := digest.FromBytes(b)
		r := e.do(req{method: "POST", path: "/v2/" + repo + "/blobs/uploads/?digest=" + d.String(), user: user, pw: pw, body: b})
		if r.status != http.StatusCreated {
			return "", r.status
		}
		return d, r.status
	}
	cfg := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
	cd, st := blob(cfg)
	if cd == "" {
		return resp{status: st}
	}
	ld, st := blob([]byte(layer))
	if ld == "" {
		return resp{status: st}
	}
	m := mustJSON(e.t, map[string]any{"schemaVersion": 2, "mediaType": ociImage,
		"config": map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": len(cfg)},
		"layers": []any{map[string]any{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": ld, "size": len(layer)}}})
	return e.do(req{method: "PUT", path: "/v2/" + repo + "/manifests/" + tag, user: user, pw: pw, body: m,
		header: map[string]string{"Content-Type": ociImage}})
}

type robotJSON struct {
	ID          int64
	Name        string
	Secret      string
	Permissions []struct{ Repository, Permission string }
	LastUsedAt  *time.Time `json:"last_used_at"`
}

// Robot accounts: a namespace's owner makes one with a permission per
// repository; it signs in as NS+NAME with its secret (docker login's
// Basic credentials, and the token realm), does what each permission
// says and nothing else, is named as the pusher, records its last use,
// and stops working when its permissions change or it is deleted.
func TestRobotAccounts(t *testing.T) {
	e := newEnv(t)
	for _, r := range []string{`{"namespace":"alice","name":"app"}`, `{"namespace":"alice","name":"other"}`,
		`{"namespace":"alice","name":"secret","visibility":"private"}`} {
		if res := e.do(as("POST", "/api/v1/repositories", []byte(r))); res.status != http.StatusCreated {
			t.Fatalf("create %s: %d %s", r, res.status, res.body)
		}
	}
	if r := e.pushAs(alice, alicePw, "alice/secret", "v1", "hidden"); r.status != http.StatusCreated {
		t.Fatalf("push secret: %d", r.status)
	}
	for _, c := range []struct{ body, want string }{
		{`{"name":"Bad Name"}`, "lowercase"},
		{`{"name":"ci","permissions":[{"repository":"bob/x","permission":"read"}]}`, "repositories of alice only"},
		{`{"name":"ci","permissions":[{"repository":"nope","permission":"read"}]}`, "no repository alice/nope"},
		{`{"name":"ci","permissions":[{"repository":"app","permission":"owner"}]}`, "read, write or admin"},
		{`{"name":"ci","expires_at":"2001-01-01T00:00:00Z"}`, "future"},
	} {
		if r := e.do(as("POST", "/api/v1/namespaces/alice/robots", []byte(c.body))); r.status != http.StatusBadRequest || !strings.Contains(string(r.body), c.want) {
			t.Errorf("%s: %d %s, want %q", c.body, r.status, r.body, c.want)
		}
	}
	res := e.do(as("POST", "/api/v1/namespaces/alice/robots", []byte(`{"name":"ci","description":"the CI",
		"permissions":[{"repository":"app","permission":"write"},{"repository":"alice/secret","permission":"read"}]}`)))
	if res.status != http.StatusCreated {
		t.Fatalf("create robot: %d %s", res.status, res.body)
	}
	var robot robotJSON
	_ = json.Unmarshal(res.body, &robot)
	if robot.Name != "alice+ci" || !strings.HasPrefix(robot.Secret, "wharf_robot_") || len(robot.Permissions) != 2 {
		t.Fatalf("robot: %+v", robot)
	}
	if r := e.do(as("POST", "/api/v1/namespaces/alice/robots", []byte(`{"name":"ci"}`))); r.status != http.StatusBadRequest {
		t.Errorf("a second robot named ci: %d", r.status)
	}
	bot, secret := robot.Name, robot.Secret

	if r := e.pushAs(bot, secret, "alice/app", "v1", "built by ci"); r.status != http.StatusCreated {
		t.Fatalf("the robot pushes to alice/app: %d %s", r.status, r.body)
	}
	for _, repo := range []string{"alice/other", "alice/secret", "bob/x", "alice/new"} {
		if r := e.pushAs(bot, secret, repo, "v1", "nope"); r.status < 400 {
			t.Errorf("the robot pushes to %s: %d", repo, r.status)
		}
	}
	if r := e.do(req{method: "GET", path: "/v2/alice/secret/manifests/v1", user: bot, pw: secret}); r.status != http.StatusOK {
		t.Errorf("the robot pulls alice/secret: %d", r.status)
	}
	if r := e.do(req{method: "GET", path: "/v2/alice/app/manifests/v1", user: bot, pw: "wharf_robot_wrong"}); r.status != http.StatusUnauthorized {
		t.Errorf("a wrong secret: %d", r.status)
	}
	// The token realm grants what the permissions allow, and no more.
	tok := e.do(req{method: "GET", path: "/v2/token?service=wharf.test&scope=repository:alice/app:push,pull&scope=repository:alice/other:push,pull", user: bot, pw: secret})
	var tj struct{ Token string }
	_ = json.Unmarshal(tok.body, &tj)
	claims, err := e.app.Tokens.Verify(tj.Token)
	if err != nil {
		t.Fatalf("token: %d %s %v", tok.status, tok.body, err)
	}
	if got := strings.Join(claims.Actions("alice/app"), ","); got != "pull,push" {
		t.Errorf("token actions on alice/app: %s", got)
	}
	if got := strings.Join(claims.Actions("alice/other"), ","); got != "pull" {
		t.Errorf("token actions on alice/other: %s", got)
	}

	// The catalog lists what it may pull: the public repositories and
	// the private one it reads.
	cat := e.do(req{method: "GET", path: "/v2/_catalog", user: bot, pw: secret})
	if !strings.Contains(string(cat.body), `"alice/secret"`) || !strings.Contains(string(cat.body), `"alice/other"`) {
		t.Errorf("the robot's catalog: %d %s", cat.status, cat.body)
	}
	// The pusher is the robot.
	tags := e.do(as("GET", "/api/v1/repositories/alice/app/tags", nil))
	if !strings.Contains(string(tags.body), `"pusher":"alice+ci"`) {
		t.Errorf("tags: %s", tags.body)
	}
	// On the API it reads what it may, and manages nothing.
	if r := e.do(req{method: "GET", path: "/api/v1/repositories/alice/secret", user: bot, pw: secret}); r.status != http.StatusOK {
		t.Errorf("the robot reads alice/secret on the API: %d", r.status)
	}
	for _, q := range []req{
		{method: "PUT", path: "/api/v1/repositories/alice/app/star"},
		{method: "POST", path: "/api/v1/tokens", body: []byte(`{"name":"x","scopes":["read"]}`)},
		{method: "POST", path: "/api/v1/namespaces/alice/robots", body: []byte(`{"name":"x"}`)},
		{method: "PATCH", path: "/api/v1/repositories/alice/app", body: []byte(`{"description":"mine"}`)},
	} {
		q.user, q.pw = bot, secret
		if r := e.do(q); r.status != http.StatusForbidden && r.status != http.StatusNotFound {
			t.Errorf("the robot %s %s: %d %s", q.method, q.path, r.status, r.body)
		}
	}
	// Nobody but alice sees or makes her robots.
	for _, q := range []req{{method: "GET", path: "/api/v1/namespaces/alice/robots"},
		{method: "POST", path: "/api/v1/namespaces/alice/robots", body: []byte(`{"name":"bobs"}`)}} {
		q.user, q.pw = bob, bobPw
		if r := e.do(q); r.status < 400 {
			t.Errorf("bob %s %s: %d", q.method, q.path, r.status)
		}
	}
	list := e.do(as("GET", "/api/v1/namespaces/alice/robots", nil))
	var robots []robotJSON
	_ = json.Unmarshal(list.body, &robots)
	if len(robots) != 1 || robots[0].Secret != "" || robots[0].LastUsedAt == nil {
		t.Errorf("robots: %s", list.body)
	}

	// Fewer permissions hold at once for new logins.
	id := strconv.FormatInt(robot.ID, 10)
	if r := e.do(as("PUT", "/api/v1/namespaces/alice/robots/"+id+"/permissions", []byte(`{"permissions":[{"repository":"app","permission":"read"}]}`))); r.status != http.StatusOK {
		t.Fatalf("set permissions: %d %s", r.status, r.body)
	}
	if r := e.pushAs(bot, secret, "alice/app", "v2", "again"); r.status < 400 {
		t.Errorf("a read-only robot pushes: %d", r.status)
	}
	if r := e.do(req{method: "GET", path: "/v2/alice/secret/manifests/v1", user: bot, pw: secret}); r.status < 400 {
		t.Errorf("the robot still pulls alice/secret: %d", r.status)
	}
	// An expired robot is refused; a deleted one too.
	if err := e.app.DB.Writer().Exec("UPDATE robots SET expires_at = ? WHERE id = ?", time.Now().Add(-time.Minute).UTC(), robot.ID).Error; err != nil {
		t.Fatal(err)
	}
	if r := e.do(req{method: "GET", path: "/v2/alice/app/manifests/v1", user: bot, pw: secret}); r.status != http.StatusUnauthorized {
		t.Errorf("an expired robot: %d", r.status)
	}
	if r := e.do(as("DELETE", "/api/v1/namespaces/alice/robots/"+id, nil)); r.status != http.StatusNoContent {
		t.Fatalf("delete robot: %d %s", r.status, r.body)
	}
	if r := e.do(req{method: "GET", path: "/v2/alice/app/manifests/v1", user: bot, pw: secret}); r.status != http.StatusUnauthorized {
		t.Errorf("a deleted robot: %d", r.status)
	}
}
