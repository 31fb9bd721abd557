package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
)

// kill -9 while tokens are made and tags pushed: after a restart, the
// audit log has an entry for exactly the tokens and tags that exist
// (each written in its change's transaction), and every change that was
// acknowledged is there.
func TestAuditSurvivesKillMidRequest(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a real process")
	}
	bin := buildWharf(t)
	dir := t.TempDir()
	createAlice(t, dir)
	p := startWharf(t, bin, dir)

	cfg := []byte(`{"architecture":"amd64","os":"linux"}`)
	cd := digest.FromBytes(cfg)
	if res := p.do(t, "POST", "/v2/alice/crash/blobs/uploads/?digest="+cd.String(), bytes.NewReader(cfg), nil); res.StatusCode != 201 {
		t.Fatalf("config blob: %d", res.StatusCode)
	}
	manifest := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":%d},"layers":[]}`, cd, len(cfg))

	send := func(method, path, ctype, body string) (int, error) {
		r, _ := http.NewRequest(method, "http://"+p.addr+path, strings.NewReader(body))
		r.SetBasicAuth("alice", "long-password")
		r.Header.Set("Content-Type", ctype)
		res, err := http.DefaultClient.Do(r)
		if err != nil {
			return 0, err
		}
		res.Body.Close()
		return res.StatusCode, nil
	}
	var mu sync.Mutex
	acked := map[string]bool{} // "token NAME" and "alice/crash:TAG" that got a 2xx
	var done atomic.Int64
	reached := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				name := fmt.Sprintf("w%d-%d", w, i)
				var key string
				var code int
				var err error
				if i%2 == 0 {
					key = "token " + name
					code, err = send("POST", "/api/v1/tokens", "application/json", `{"name":"`+name+`","scopes":["read"]}`)
				} else {
					key = "alice/crash:" + name
					code, err = send("PUT", "/v2/alice/crash/manifests/"+name, "application/vnd.oci.image.manifest.v1+json", manifest)
				}
				if err != nil {
					return // killed
				}
				if code/100 != 2 {
					t.Errorf("%s: %d", key, code)
					return
				}
				mu.Lock()
				acked[key] = true
				mu.Unlock()
				if done.Add(1) == 120 {
					close(reached)
				}
			}
		}()
	}
	select {
	case <-reached:
	case <-time.After(60 * time.Second):
		t.Fatalf("after a minute, %d changes were acknowledged", done.Load())
	}
	p.kill()
	wg.Wait()

	q := startWharf(t, bin, dir)
	get := func(path string, v any) []byte {
		r, _ := http.NewRequest("GET", "http://"+q.addr+path, nil)
		r.SetBasicAuth("alice", "long-password")
		res, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(res.Body)
		if res.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", path, res.StatusCode, buf.Bytes())
		}
		if v != nil {
			if err := json.Unmarshal(buf.Bytes(), v); err != nil {
				t.Fatal(err)
			}
		}
		return buf.Bytes()
	}
	exists := map[string]bool{}
	var tokens []struct{ Name string }
	get("/api/v1/tokens", &tokens)
	for _, tok := range tokens {
		exists["token "+tok.Name] = true
	}
	var tags struct{ Tags []string }
	get("/v2/alice/crash/tags/list?n=10000", &tags)
	for _, tag := range tags.Tags {
		exists["alice/crash:"+tag] = true
	}
	logged := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(get("/api/v1/namespaces/alice/audit?format=jsonl", nil)))
	for sc.Scan() {
		var e struct{ Action, Target, Detail, Result string }
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("%v: %s", err, sc.Bytes())
		}
		switch {
		case e.Action == "token.create" && e.Result == "ok":
			logged[e.Detail] = true
		case e.Action == "manifest.push" && e.Result == "ok":
			logged[e.Target] = true
		}
	}
	for k := range acked {
		if !exists[k] {
			t.Errorf("%s was acknowledged and is gone", k)
		}
	}
	for k := range exists {
		if !logged[k] {
			t.Errorf("%s exists without its audit entry", k)
		}
	}
	for k := range logged {
		if !exists[k] {
			t.Errorf("%s has an audit entry and does not exist", k)
		}
	}
	if len(exists) < 120 {
		t.Errorf("only %d changes survived, want at least the 120 acknowledged", len(exists))
	}
	t.Logf("%d acknowledged, %d exist, %d logged", len(acked), len(exists), len(logged))
}
