package api_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
)

func (e *env) putBlob(user, repo string, b []byte) (int, string) {
	e.t.Helper()
	d := digest.FromBytes(b)
	req, _ := http.NewRequest("POST", e.srv.URL+"/v2/"+repo+"/blobs/uploads/?digest="+d.String(), bytes.NewReader(b))
	req.SetBasicAuth(user, pw)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(res.Body)
	return res.StatusCode, buf.String()
}

// Usage counts each blob once per namespace; a quota refuses a push past
// it with DENIED, but not content the namespace already holds.
func TestUsageAndQuota(t *testing.T) {
	e := newEnv(t, "alice", "root", "mallory")
	one := bytes.Repeat([]byte("a"), 1000)
	two := bytes.Repeat([]byte("b"), 1000)
	if s, _ := e.putBlob("alice", "alice/one", one); s != 201 {
		t.Fatal(s)
	}
	if s, _ := e.putBlob("alice", "alice/two", one); s != 201 {
		t.Fatal(s)
	}
	var u struct {
		Bytes, Blobs, Repositories int64
		Quota                      int64 `json:"quota_bytes"`
	}
	e.must("GET", "/api/v1/namespaces/alice/usage", "alice", nil, 200).json(&u)
	if u.Bytes != 1000 || u.Blobs != 1 || u.Repositories != 2 || u.Quota != 0 {
		t.Fatalf("usage: %+v", u)
	}
	e.must("GET", "/api/v1/namespaces/alice/usage", "mallory", nil, 403)
	e.must("PUT", "/api/v1/namespaces/alice/quota", "alice", map[string]int64{"bytes": 1500}, 403)
	e.must("PUT", "/api/v1/namespaces/alice/quota", "root", map[string]int64{"bytes": 1500}, 200)
	// A new blob would go over: DENIED, with a clear message.
	s, body := e.putBlob("alice", "alice/one", two)
	if s != http.StatusForbidden || !strings.Contains(body, "DENIED") || !strings.Contains(body, "quota") {
		t.Fatalf("over quota: %d %s", s, body)
	}
	if ok, _ := e.app.DB.Namespaces.HasBlob(context.Background(), "alice", digest.FromBytes(two).String()); ok {
		t.Fatal("a refused blob was linked")
	}
	// A blob the namespace already holds is free.
	if s, body := e.putBlob("alice", "alice/three", one); s != 201 {
		t.Fatalf("re-link: %d %s", s, body)
	}
	e.must("PUT", "/api/v1/namespaces/alice/quota", "root", map[string]int64{"bytes": 0}, 200)
	if s, _ := e.putBlob("alice", "alice/one", two); s != 201 {
		t.Fatalf("without a quota: %d", s)
	}
}
