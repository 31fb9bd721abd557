package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/wharfhub/wharf/server/mirror/mirrortest"
)

// registryClient speaks /v2/ the way docker does: a 401 sends it to the
// token realm (with Basic credentials, if it has them) and back.
type registryClient struct {
	t          *testing.T
	base       string
	user, pass string
	token      string
}

var realmRE = regexp.MustCompile(`Bearer realm="([^"]+)",service="([^"]+)"(?:,scope="([^"]+)")?`)

func (c *registryClient) do(method, path string, body []byte) *http.Response {
	c.t.Helper()
	for attempt := 0; ; attempt++ {
		req, _ := http.NewRequest(method, c.base+path, bytes.NewReader(body))
		req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json")
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			c.t.Fatal(err)
		}
		m := realmRE.FindStringSubmatch(res.Header.Get("WWW-Authenticate"))
		if res.StatusCode != http.StatusUnauthorized || m == nil || attempt > 0 {
			return res
		}
		res.Body.Close()
		treq, _ := http.NewRequest(http.MethodGet, m[1]+"?service="+m[2]+"&scope="+m[3], nil)
		if c.user != "" {
			treq.SetBasicAuth(c.user, c.pass)
		}
		tres, err := http.DefaultClient.Do(treq)
		if err != nil {
			c.t.Fatal(err)
		}
		var tok struct{ Token string }
		_ = json.NewDecoder(tres.Body).Decode(&tok)
		tres.Body.Close()
		c.token = tok.Token
	}
}

func (c *registryClient) get(path string) (int, []byte, http.Header) {
	c.t.Helper()
	res := c.do(http.MethodGet, path, nil)
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b, res.Header
}

// TestMirrorEndToEnd runs wharf with two mirrors: a CNCF Distribution
// without auth, and another Wharf with token auth and credentials from
// the environment. Anonymous pulls come through with the upstreams'
// bytes, pushes are DENIED, a mirror's name cannot be taken by an account,
// and with the upstream gone the cached tag is still served.
func TestMirrorEndToEnd(t *testing.T) {
	dist := mirrortest.StartDistribution(t, mirrortest.DistributionBinary(t), "", "")
	img := mirrortest.RandomImage(7, 2, 64<<10)
	mirrortest.Push(t, dist, "library/alpine", "3.20", "", "", img)
	proxy := mirrortest.NewProxy(t, dist)

	bin := buildWharf(t)
	upDir := t.TempDir()
	cmd := exec.Command(bin, "user", "create", "upbot", "--email", "up@example.com", "--password-stdin", "--data-dir", upDir)
	cmd.Stdin = strings.NewReader("upbot-password")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("user create: %v %s", err, out)
	}
	up := startWharf(t, bin, upDir, "--default-visibility", "private")
	private := mirrortest.RandomImage(8, 1, 32<<10)
	mirrortest.Push(t, "http://"+up.addr, "upbot/app", "v1", "upbot", "upbot-password", private)

	dir := t.TempDir()
	createAlice(t, dir)
	mk := exec.Command(bin, "user", "create", "root", "--email", "root@example.com", "--password-stdin", "--admin", "--data-dir", dir)
	mk.Stdin = strings.NewReader("root-password-1")
	if out, err := mk.CombinedOutput(); err != nil {
		t.Fatalf("user create root: %v %s", err, out)
	}
	w := serveLoggedEnv(t, bin, dir, []string{"WHARF_MIRROR_UP_USERNAME=upbot", "WHARF_MIRROR_UP_PASSWORD=upbot-password"},
		"--mirror", "hub="+proxy.URL(), "--mirror", "up=http://"+up.addr, "--mirror-ttl", "0s", "--registry-mirror", "hub")
	base := "http://" + w.addr
	anon := &registryClient{t: t, base: base}

	t.Run("first pull from Distribution, anonymously, with its bytes", func(t *testing.T) {
		status, body, hdr := anon.get("/v2/hub/library/alpine/manifests/3.20")
		if status != 200 || !bytes.Equal(body, img.Manifest) || hdr.Get("Docker-Content-Digest") != img.Digest.String() {
			t.Fatalf("manifest: %d %s", status, body)
		}
		for _, l := range append([][]byte{img.Config}, img.Layers...) {
			d := digest.FromBytes(l)
			status, got, _ := anon.get("/v2/hub/library/alpine/blobs/" + d.String())
			if status != 200 || !bytes.Equal(got, l) {
				t.Fatalf("blob %s: %d, %d bytes of %d", d, status, len(got), len(l))
			}
		}
	})
	t.Run("a private image of a Wharf upstream, with its token flow", func(t *testing.T) {
		status, body, _ := anon.get("/v2/up/upbot/app/manifests/v1")
		if status != 200 || !bytes.Equal(body, private.Manifest) {
			t.Fatalf("manifest through the token-auth upstream: %d %s", status, body)
		}
		d := digest.FromBytes(private.Layers[0])
		if status, got, _ := anon.get("/v2/up/upbot/app/blobs/" + d.String()); status != 200 || !bytes.Equal(got, private.Layers[0]) {
			t.Fatalf("blob through the token-auth upstream: %d", status)
		}
	})
	t.Run("Docker Hub paths at the root, for dockerd's registry-mirrors", func(t *testing.T) {
		root := &registryClient{t: t, base: base}
		status, body, _ := root.get("/v2/library/alpine/manifests/3.20")
		if status != 200 || !bytes.Equal(body, img.Manifest) {
			t.Fatalf("root path: %d %s", status, body)
		}
		d := digest.FromBytes(img.Layers[1])
		if status, got, _ := root.get("/v2/library/alpine/blobs/" + d.String()); status != 200 || !bytes.Equal(got, img.Layers[1]) {
			t.Fatalf("root blob: %d", status)
		}
		// A local account's namespace is never the mirror's.
		if status, body, _ := root.get("/v2/alice/alpine/manifests/3.20"); status == 200 || strings.Contains(string(body), "mirror") {
			t.Fatalf("a local name answered from the mirror: %d %s", status, body)
		}
		alice := &registryClient{t: t, base: base, user: "alice", pass: "long-password"}
		res := alice.do(http.MethodPost, "/v2/library/alpine/blobs/uploads/", nil)
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden || !strings.Contains(string(b), "DENIED") {
			t.Fatalf("push through the root mirror: %d %s, want 403 DENIED", res.StatusCode, b)
		}
	})
	t.Run("a name the upstream does not have", func(t *testing.T) {
		if status, body, _ := anon.get("/v2/hub/library/nothing/manifests/latest"); status != 404 || !strings.Contains(string(body), "MANIFEST_UNKNOWN") {
			t.Fatalf("unknown upstream name: %d %s", status, body)
		}
	})
	t.Run("a corrupt upstream blob fails the download and is not kept", func(t *testing.T) {
		fresh := mirrortest.RandomImage(12, 1, 512<<10)
		mirrortest.Push(t, dist, "library/fresh", "1", "", "", fresh)
		if status, _, _ := anon.get("/v2/hub/library/fresh/manifests/1"); status != 200 {
			t.Fatalf("manifest: %d", status)
		}
		path := "/v2/hub/library/fresh/blobs/" + digest.FromBytes(fresh.Layers[0]).String()
		proxy.SetMode(mirrortest.CorruptBlobs)
		res := anon.do(http.MethodGet, path, nil)
		got, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err == nil && bytes.Equal(got, fresh.Layers[0]) {
			t.Fatal("a corrupt blob reached the client whole")
		}
		if err == nil && int64(len(got)) == res.ContentLength {
			t.Fatalf("the corrupt download looked complete: %d bytes, status %d", len(got), res.StatusCode)
		}
		proxy.SetMode(mirrortest.Pass)
		if status, got, _ := anon.get(path); status != 200 || !bytes.Equal(got, fresh.Layers[0]) {
			t.Fatalf("after the upstream is sound: %d, %d bytes", status, len(got))
		}
	})
	t.Run("pushes are denied", func(t *testing.T) {
		alice := &registryClient{t: t, base: base, user: "alice", pass: "long-password"}
		res := alice.do(http.MethodPost, "/v2/hub/library/alpine/blobs/uploads/", nil)
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden || !strings.Contains(string(b), "DENIED") {
			t.Fatalf("push to a mirror: %d %s, want 403 DENIED", res.StatusCode, b)
		}
	})
	t.Run("the mirror's name is no account's", func(t *testing.T) {
		cmd := exec.Command(bin, "user", "create", "hub", "--email", "h@example.com", "--password-stdin", "--data-dir", dir)
		cmd.Stdin = strings.NewReader("hub-password-1")
		if out, err := cmd.CombinedOutput(); err == nil {
			t.Fatalf("an account took the mirror's name: %s", out)
		}
	})
	t.Run("the cached tag is served with the upstream down", func(t *testing.T) {
		proxy.SetMode(mirrortest.Unavailable)
		status, body, _ := anon.get("/v2/hub/library/alpine/manifests/3.20")
		if status != 200 || !bytes.Equal(body, img.Manifest) {
			t.Fatalf("stale serve: %d %s", status, body)
		}
		waitFor(t, 10*time.Second, "a log line says the tag was served stale", func() bool {
			return strings.Contains(w.log.String(), "serving the cached tag")
		})
		if status, _, _ := anon.get("/v2/hub/library/other/manifests/1"); status != http.StatusServiceUnavailable {
			t.Errorf("uncached with the upstream down: %d, want 503", status)
		}
	})
	t.Run("search finds what the mirror cached", func(t *testing.T) {
		waitFor(t, 20*time.Second, "search finds hub/library/alpine", func() bool {
			res, err := http.Get(base + "/api/v1/search?q=alpine")
			if err != nil {
				return false
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			return strings.Contains(string(b), `"hub/library/alpine"`) || strings.Contains(string(b), `"name":"library/alpine"`)
		})
	})
	t.Run("the hub shows the mirror and its cached repository", func(t *testing.T) {
		for path, want := range map[string]string{
			"/u/hub":                "A read-only cache of",
			"/r/hub/library/alpine": "Mirror of <code>" + strings.TrimPrefix(proxy.URL(), "http://") + "/library/alpine</code>",
		} {
			if status, b := basicCall(t, http.MethodGet, base+path, "", "", ""); status != 200 || !strings.Contains(b, want) {
				t.Errorf("GET %s: %d, want a page saying %q", path, status, want)
			}
		}
	})
	t.Run("site admins see the mirrors and what they cached", func(t *testing.T) {
		get := func(user, pass string) (int, string) {
			return basicCall(t, http.MethodGet, base+"/api/v1/mirrors", user, pass, "")
		}
		status, body := get("root", "root-password-1")
		if status != 200 || !strings.Contains(body, `"name":"hub"`) || !strings.Contains(body, `"registry_mirror":true`) ||
			!strings.Contains(body, `"name":"up"`) || strings.Contains(body, `"repositories":0`) {
			t.Fatalf("GET /api/v1/mirrors as an admin: %d %s", status, body)
		}
		if status, _ := get("alice", "long-password"); status != http.StatusForbidden {
			t.Fatalf("GET /api/v1/mirrors as alice: %d, want 403", status)
		}
	})
	t.Run("site admins add and remove mirrors while it runs", func(t *testing.T) {
		call := func(method, path, user, pass, body string) (int, string) {
			return basicCall(t, method, base+path, user, pass, body)
		}
		def := `{"name":"dist","url":"` + dist + `"}`
		for _, c := range []struct {
			user, pass, body string
			want             int
		}{
			{"alice", "long-password", def, http.StatusForbidden},
			{"root", "root-password-1", `{"name":"Bad Name","url":"` + dist + `"}`, http.StatusBadRequest},
			{"root", "root-password-1", `{"name":"x","url":"ftp://example.com"}`, http.StatusBadRequest},
			{"root", "root-password-1", `{"name":"alice","url":"` + dist + `"}`, http.StatusConflict},
			{"root", "root-password-1", `{"name":"hub","url":"` + dist + `"}`, http.StatusConflict},
			{"root", "root-password-1", def, http.StatusCreated},
			{"root", "root-password-1", def, http.StatusConflict},
		} {
			if status, body := call(http.MethodPost, "/api/v1/mirrors", c.user, c.pass, c.body); status != c.want {
				t.Fatalf("POST /api/v1/mirrors %s as %s: %d %s, want %d", c.body, c.user, status, body, c.want)
			}
		}
		status, body, _ := anon.get("/v2/dist/library/alpine/manifests/3.20")
		if status != 200 || !bytes.Equal(body, img.Manifest) {
			t.Fatalf("pull through the mirror added at run time: %d %s", status, body)
		}
		if status, body := call(http.MethodGet, "/api/v1/mirrors", "root", "root-password-1", ""); !strings.Contains(body, `"name":"dist"`) ||
			!strings.Contains(body, `"source":"api"`) || !strings.Contains(body, `"source":"flags"`) {
			t.Fatalf("GET /api/v1/mirrors: %d %s", status, body)
		}
		if status, _ := call(http.MethodDelete, "/api/v1/mirrors/hub", "root", "root-password-1", ""); status != http.StatusConflict {
			t.Fatalf("removing a flags' mirror: %d, want 409", status)
		}
		if status, body := call(http.MethodDelete, "/api/v1/mirrors/dist", "root", "root-password-1", ""); status != http.StatusNoContent {
			t.Fatalf("DELETE /api/v1/mirrors/dist: %d %s", status, body)
		}
		// Its namespace is gone (with what it cached): the name is the root
		// mirror's now (hub, whose upstream is down at this point).
		if status, _, _ := anon.get("/v2/dist/library/alpine/manifests/3.20"); status == http.StatusOK {
			t.Fatal("a removed mirror still serves")
		}
		if _, body := call(http.MethodGet, "/api/v1/mirrors", "root", "root-password-1", ""); strings.Contains(body, `"name":"dist"`) {
			t.Fatalf("a removed mirror is still listed: %s", body)
		}
		if status, _ := call(http.MethodDelete, "/api/v1/mirrors/dist", "root", "root-password-1", ""); status != http.StatusNotFound {
			t.Fatalf("removing it twice: %d, want 404", status)
		}
	})
	t.Run("metrics count hits, misses, stale serves and bytes", func(t *testing.T) {
		_, b := basicCall(t, http.MethodGet, base+"/metrics", "", "", "")
		for _, re := range []string{
			`wharf_mirror_misses_total [1-9]`, `wharf_mirror_stale_serves_total [1-9]`,
			`wharf_mirror_upstream_errors_total [1-9]`, `wharf_mirror_bytes_fetched_total [1-9]`,
			`wharf_mirror_bytes_served_total [1-9]`, `wharf_mirror_revalidations_total [1-9]`,
		} {
			if !regexp.MustCompile(re).MatchString(b) {
				t.Errorf("/metrics lacks %s", re)
			}
		}
	})
}

// basicCall sends one request, with Basic credentials unless user is
// empty and a JSON body unless body is, and answers the status and body.
func basicCall(t *testing.T, method, url, user, pass, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}
