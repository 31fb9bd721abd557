package registry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/wharfhub/wharf/server"
	"github.com/wharfhub/wharf/server/config"
	"github.com/wharfhub/wharf/server/servertest"
	"github.com/wharfhub/wharf/server/testutil"
)

const (
	alice    = "alice"
	alicePw  = "alice-password"
	bob      = "bob"
	bobPw    = "bob-password"
	ociIndex = "application/vnd.oci.image.index.v1+json"
	ociImage = "application/vnd.oci.image.manifest.v1+json"
)

// env is a Wharf on a real SQLite file and blob directory in t.TempDir().
type env struct {
	t   *testing.T
	app *server.App
	srv *httptest.Server
	dir string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvAt(t, t.TempDir())
}

func newEnvAt(t *testing.T, dir string) *env {
	t.Helper()
	return newEnvWith(t, dir, func(*config.Config) {})
}

// newEnvWith is newEnvAt with its configuration changed by tune.
func newEnvWith(t *testing.T, dir string, tune func(*config.Config)) *env {
	t.Helper()
	return newEnvOpts(t, dir, tune, server.Options{})
}

// newEnvOpts is newEnvWith with the app's options.
func newEnvOpts(t *testing.T, dir string, tune func(*config.Config), opts server.Options) *env {
	t.Helper()
	cfg := &config.Config{Addr: "127.0.0.1:0", DataDir: dir, BaseURL: "http://wharf.test", LogLevel: "error",
		Database: e2eDatabase(t, dir)}
	tune(cfg)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	app, err := server.Open(context.Background(), cfg, log, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range [][2]string{{alice, alicePw}, {bob, bobPw}} {
		if _, err := app.Accounts.CreateUser(context.Background(), u[0], u[0]+"@example.com", u[1], false); err != nil &&
			!strings.Contains(err.Error(), "taken") {
			t.Fatal(err)
		}
	}
	e := &env{t: t, app: app, srv: httptest.NewServer(servertest.Handler(t, app)), dir: dir}
	t.Cleanup(e.close)
	return e
}

func (e *env) close() {
	if e.srv != nil {
		e.srv.Close()
		e.app.Close()
		e.srv = nil
	}
}

// req describes one request; user "" is anonymous.
type req struct {
	method, path string
	user, pw     string
	body         []byte
	header       map[string]string
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

// code returns the first OCI error code of the answer.
func (r resp) code() string {
	var e struct {
		Errors []struct{ Code string } `json:"errors"`
	}
	_ = json.Unmarshal(r.body, &e)
	if len(e.Errors) == 0 {
		return ""
	}
	return e.Errors[0].Code
}

func (e *env) do(q req) resp {
	e.t.Helper()
	var body io.Reader
	if q.body != nil {
		body = bytes.NewReader(q.body)
	}
	r, err := http.NewRequest(q.method, e.srv.URL+q.path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if q.user != "" {
		r.SetBasicAuth(q.user, q.pw)
	}
	for k, v := range q.header {
		r.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

// as is a request by alice.
func as(method, path string, body []byte) req {
	return req{method: method, path: path, user: alice, pw: alicePw, body: body}
}

// pushBlob uploads b to repo monolithically and fails the test otherwise.
func (e *env) pushBlob(repo string, b []byte) digest.Digest {
	e.t.Helper()
	d := digest.FromBytes(b)
	r := e.do(as("POST", "/v2/"+repo+"/blobs/uploads/?digest="+d.String(), b))
	if r.status != http.StatusCreated {
		e.t.Fatalf("push blob: %d %s", r.status, r.body)
	}
	return d
}

// image builds an OCI image manifest whose config and layer are pushed to
// repo, and returns its bytes.
func (e *env) image(repo string, layer string) []byte {
	e.t.Helper()
	cfg := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
	cd := e.pushBlob(repo, cfg)
	ld := e.pushBlob(repo, []byte(layer))
	m := map[string]any{
		"schemaVersion": 2,
		"mediaType":     ociImage,
		"config":        map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": len(cfg)},
		"layers":        []any{map[string]any{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": ld, "size": len(layer)}},
	}
	b, _ := json.Marshal(m)
	return b
}

func (e *env) putManifest(repo, ref string, b []byte, mediaType string) resp {
	e.t.Helper()
	q := as("PUT", "/v2/"+repo+"/manifests/"+ref, b)
	q.header = map[string]string{"Content-Type": mediaType}
	return e.do(q)
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// grant makes user a collaborator on repo with permission.
func (e *env) grant(repo, user, permission string) {
	e.t.Helper()
	ctx := context.Background()
	r, err := e.app.DB.Repositories.Get(ctx, repo)
	if err != nil {
		e.t.Fatal(err)
	}
	u, err := e.app.DB.Users.GetByName(ctx, user)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.app.DB.Repositories.SetCollaborator(ctx, r.ID, u.ID, permission); err != nil {
		e.t.Fatal(err)
	}
}

// e2eDatabase keeps one database per data directory, so a test that
// reopens a directory (a restart) finds its metadata again.
var e2eDatabases = map[string]string{}

func e2eDatabase(t *testing.T, dir string) string {
	t.Helper()
	if d, ok := e2eDatabases[dir]; ok {
		return d
	}
	d := testutil.Database(t)
	e2eDatabases[dir] = d
	return d
}
