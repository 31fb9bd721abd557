package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/wharfhub/wharf/server"
)

// namespaceEnv is webhookEnv with users, polling fast.
func namespaceEnv(t *testing.T, users ...string) *env {
	t.Helper()
	return webhookEnv(t, users, fastPoll(server.Options{}))
}

// pushAs pushes a small image to repo:tag as user and returns the status
// of the manifest PUT (0 if the blob was refused).
func (e *env) pushAs(user, repo, tag string) int {
	e.t.Helper()
	cfg := []byte(`{"architecture":"amd64","os":"linux"}`)
	cd := digest.FromBytes(cfg)
	req, _ := http.NewRequest("POST", e.srv.URL+"/v2/"+repo+"/blobs/uploads/?digest="+cd.String(), bytes.NewReader(cfg))
	req.SetBasicAuth(user, pw)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		return 0
	}
	m, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"config": map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": len(cfg)},
		"layers": []any{}})
	req, _ = http.NewRequest("PUT", e.srv.URL+"/v2/"+repo+"/manifests/"+tag, bytes.NewReader(m))
	req.SetBasicAuth(user, pw)
	req.Header.Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// countingReceiver counts the deliveries it gets.
func countingReceiver(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		n.Add(1)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// waitDrained waits until the webhook worker has sent every queued
// delivery.
func (e *env) waitDrained() {
	e.t.Helper()
	eventually(e.t, "deliveries sent", func() bool {
		n, err := e.app.DB.Deliveries.Count(context.Background(), "pending", "sending")
		return err == nil && n == 0
	})
}

// A namespace is an identity, not a string: when an account goes, what its
// namespace owns (webhooks, quota) goes with it, and whoever registers the
// name next, as a user or as an organization, inherits nothing.
func TestDeletedNamespaceLeavesNothingToTheNextOwner(t *testing.T) {
	for _, as := range []string{"user", "org"} {
		t.Run("re-registered as "+as, func(t *testing.T) {
			e := namespaceEnv(t, "bigcorp", "heir", "root")
			old, oldHits := countingReceiver(t)
			e.must("POST", "/api/v1/namespaces/bigcorp/webhooks", "bigcorp",
				map[string]any{"name": "all", "url": old.URL + "/hook", "events": []string{"push", "delete"}}, 201)
			if err := e.app.DB.Namespaces.SetQuota(context.Background(), "bigcorp", 1000); err != nil {
				t.Fatal(err)
			}
			e.must("DELETE", "/api/v1/users/bigcorp", "bigcorp", nil, 204)

			owner := "bigcorp"
			switch as {
			case "user":
				if _, err := e.app.Accounts.CreateUser(context.Background(), "bigcorp", "new@example.com", pw, false); err != nil {
					t.Fatal(err)
				}
			case "org":
				owner = "heir"
				e.must("POST", "/api/v1/orgs", "heir", map[string]string{"name": "bigcorp"}, 201)
			}
			var hooks []map[string]any
			e.must("GET", "/api/v1/namespaces/bigcorp/webhooks", owner, nil, 200).json(&hooks)
			if len(hooks) != 0 {
				t.Fatalf("the new owner sees the old owner's webhooks: %v", hooks)
			}
			var usage struct {
				QuotaBytes int64 `json:"quota_bytes"`
			}
			e.must("GET", "/api/v1/namespaces/bigcorp/usage", owner, nil, 200).json(&usage)
			if usage.QuotaBytes != 0 {
				t.Fatalf("the old quota passed to the new owner: %+v", usage)
			}

			// The new owner's own webhook tells when the push's deliveries went out.
			mine, myHits := countingReceiver(t)
			e.must("POST", "/api/v1/namespaces/bigcorp/webhooks", owner,
				map[string]any{"name": "mine", "url": mine.URL + "/hook", "events": []string{"push"}}, 201)
			e.must("POST", "/api/v1/repositories", owner, map[string]string{"namespace": "bigcorp", "name": "secret", "visibility": "private"}, 201)
			if st := e.pushAs(owner, "bigcorp/secret", "v1"); st != http.StatusCreated {
				t.Fatalf("push: %d", st)
			}
			eventually(t, "the new owner's delivery", func() bool { return myHits.Load() > 0 })
			e.waitDrained()
			if n := oldHits.Load(); n != 0 {
				t.Fatalf("the old owner's receiver got %d deliveries of the new owner's private push", n)
			}
		})
	}
}

// Deleting an organization takes its repositories and webhooks; its name
// is free again and nothing of it comes back.
func TestDeleteOrganization(t *testing.T) {
	e := namespaceEnv(t, "owner", "member", "heir")
	e.must("POST", "/api/v1/orgs", "owner", map[string]string{"name": "acme"}, 201)
	e.must("PUT", "/api/v1/orgs/acme/members/member", "owner", map[string]string{"role": "member"}, 200)
	old, oldHits := countingReceiver(t)
	e.must("POST", "/api/v1/namespaces/acme/webhooks", "owner", map[string]any{"name": "all", "url": old.URL}, 201)
	e.must("POST", "/api/v1/repositories", "owner", map[string]string{"namespace": "acme", "name": "app"}, 201)

	e.must("DELETE", "/api/v1/orgs/acme", "member", nil, 403)
	e.must("DELETE", "/api/v1/orgs/acme", "", nil, 401)
	e.must("DELETE", "/api/v1/orgs/acme", "owner", nil, 204)
	e.must("GET", "/api/v1/orgs/acme", "owner", nil, 404)
	e.must("GET", "/api/v1/repositories/acme/app", "owner", nil, 404)
	e.must("DELETE", "/api/v1/orgs/acme", "owner", nil, 404)

	e.must("POST", "/api/v1/orgs", "heir", map[string]string{"name": "acme"}, 201)
	var hooks []map[string]any
	e.must("GET", "/api/v1/namespaces/acme/webhooks", "heir", nil, 200).json(&hooks)
	if len(hooks) != 0 {
		t.Fatalf("the new organization sees the old one's webhooks: %v", hooks)
	}
	e.must("GET", "/api/v1/repositories/acme/app", "heir", nil, 404)
	if st := e.pushAs("heir", "acme/app", "v1"); st != http.StatusCreated {
		t.Fatalf("push: %d", st)
	}
	e.waitDrained()
	if n := oldHits.Load(); n != 0 {
		t.Fatalf("the deleted organization's receiver got %d deliveries", n)
	}
}

// The only owner of an organization cannot delete their account, which
// would leave the organization with nobody to manage it.
func TestSoleOwnerAccountIsNotDeleted(t *testing.T) {
	e := namespaceEnv(t, "owner", "other", "root")
	e.must("POST", "/api/v1/orgs", "owner", map[string]string{"name": "acme"}, 201)
	r := e.must("DELETE", "/api/v1/users/owner", "owner", nil, 409)
	if !bytes.Contains(r.body, []byte("acme")) {
		t.Fatalf("the refusal does not name the organization: %s", r.body)
	}
	e.must("DELETE", "/api/v1/users/owner", "root", nil, 409)
	e.must("GET", "/api/v1/user", "owner", nil, 200)

	e.must("PUT", "/api/v1/orgs/acme/members/other", "owner", map[string]string{"role": "owner"}, 200)
	e.must("DELETE", "/api/v1/users/owner", "owner", nil, 204)
	var org struct {
		Members []struct{ User, Role string }
	}
	e.must("GET", "/api/v1/orgs/acme", "other", nil, 200).json(&org)
	if len(org.Members) != 1 || org.Members[0].User != "other" || org.Members[0].Role != "owner" {
		t.Fatalf("members after the owner left: %+v", org.Members)
	}
}

// Not even a site administrator can create a repository in a name nobody
// owns: it would pass to whoever registers the name.
func TestNoRepositoryInANamespaceNobodyOwns(t *testing.T) {
	e := namespaceEnv(t, "root")
	if st := e.pushAs("root", "nobody/app", "v1"); st == http.StatusCreated {
		t.Fatal("a site admin pushed into a namespace that does not exist")
	}
	e.must("POST", "/api/v1/repositories", "root", map[string]string{"namespace": "nobody", "name": "app"}, 403)
	if _, err := e.app.Accounts.CreateUser(context.Background(), "nobody", "nobody@example.com", pw, false); err != nil {
		t.Fatal(err)
	}
	e.must("GET", "/api/v1/repositories/nobody/app", "nobody", nil, 404)
}

// Changing one's email address to another account's, in any case, is a
// 409 conflict that says why; one's own, in another case, is fine.
func TestEmailTakenIsConflict(t *testing.T) {
	e := newEnv(t, "alice", "bob")
	for _, email := range []string{"alice@example.com", "ALICE@example.COM", " alice@example.com "} {
		r := e.must("PATCH", "/api/v1/user", "bob", map[string]any{"email": email}, 409)
		var body struct {
			Error struct{ Code, Message string }
		}
		r.json(&body)
		if body.Error.Code != "conflict" || body.Error.Message != "An account with that e-mail address exists." {
			t.Errorf("PATCH email %q: %s", email, r.body)
		}
	}
	var me struct{ Email string }
	e.must("PATCH", "/api/v1/user", "alice", map[string]any{"email": "Alice@Example.com"}, 200).json(&me)
	if me.Email != "Alice@Example.com" {
		t.Errorf("alice's email is %q", me.Email)
	}
	e.must("GET", "/api/v1/user", "bob", nil, 200).json(&me)
	if me.Email != "bob@example.com" {
		t.Errorf("bob's email is %q", me.Email)
	}
}

// A username is compared without case wherever credentials are given:
// Basic auth on the API, docker login's Basic auth on the token endpoint,
// and the OAuth password grant; the identity is the stored lowercase name.
func TestSignInIgnoresUsernameCase(t *testing.T) {
	e := newEnv(t, "alice")
	e.must("POST", "/api/v1/repositories", "alice", map[string]string{"namespace": "alice", "name": "app", "visibility": "private"}, 201)
	for _, user := range []string{"Alice", "ALICE"} {
		t.Run(user, func(t *testing.T) {
			var me struct{ Username string }
			e.must("GET", "/api/v1/user", user, nil, 200).json(&me)
			if me.Username != "alice" {
				t.Errorf("API as %q is %q", user, me.Username)
			}
			tok, access := e.registryToken(user, "repository:alice/app:pull,push")
			if len(access) != 1 || fmt.Sprint(access[0]["actions"]) != "[pull push]" {
				t.Errorf("token as %q grants %v", user, access)
			}
			var claims struct{ Sub string }
			payload, _ := jsonSegment(strings.Split(tok, ".")[1])
			_ = json.Unmarshal(payload, &claims)
			if claims.Sub != "alice" {
				t.Errorf("token as %q is for %q", user, claims.Sub)
			}
			form := "service=wharf.test&scope=repository:alice/app:pull&grant_type=password&username=" + user + "&password=" + pw
			req, _ := http.NewRequest("POST", e.srv.URL+"/v2/token", strings.NewReader(form))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				t.Errorf("password grant as %q: %d", user, res.StatusCode)
			}
		})
	}
}
