package deployhook

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/go-playground/webhooks/v6/docker"

	"github.com/wharfhub/wharf/server/webhook/signature"
)

const secret = "s3cret"

// payload is a Wharf push delivery body, built like Wharf builds it.
type payload struct {
	CallbackURL string     `json:"callback_url"`
	Action      string     `json:"action,omitempty"`
	PushData    pushData   `json:"push_data"`
	Repository  repository `json:"repository"`
}

type pushData struct {
	PushedAt int64    `json:"pushed_at"`
	Images   []string `json:"images"`
	Pusher   string   `json:"pusher"`
	Tag      string   `json:"tag"`
	Digest   string   `json:"digest"`
}

type repository struct {
	RepoName     string `json:"repo_name"`
	Namespace    string `json:"namespace"`
	Name         string `json:"name"`
	Owner        string `json:"owner"`
	IsPrivate    bool   `json:"is_private"`
	Description  string `json:"description"`
	StarCount    int    `json:"star_count"`
	CommentCount int    `json:"comment_count"`
	DateCreated  int64  `json:"date_created"`
	RepoURL      string `json:"repo_url"`
	Status       string `json:"status"`
}

const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func push(repo, tag, callback string) []byte {
	ns, name, _ := strings.Cut(repo, "/")
	b, err := json.Marshal(payload{
		CallbackURL: callback,
		PushData:    pushData{PushedAt: 1767225600, Images: []string{}, Pusher: "alice", Tag: tag, Digest: digest},
		Repository: repository{RepoName: repo, Namespace: ns, Name: name, Owner: ns,
			Description: "an app", DateCreated: 1767000000,
			RepoURL: "http://127.0.0.1:5000/r/" + repo, Status: "Active"},
	})
	if err != nil {
		panic(err)
	}
	return b
}

var deliveryIDs atomic.Int64

// newID is a fresh delivery id.
func newID() string { return fmt.Sprintf("d-%d", deliveryIDs.Add(1)) }

// signedAs is a delivery as Wharf's worker sends it: event, id, both
// signatures (X-Wharf-Signature made at now) and X-Wharf-Timestamp.
func signedAs(body []byte, id, event string, now time.Time) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Wharf-Event", event)
	req.Header.Set("X-Wharf-Delivery", id)
	req.Header.Set("X-Wharf-Timestamp", fmt.Sprint(now.Unix()))
	req.Header.Set(signature.HubHeader, signature.SignHub(secret, body))
	sig, err := signature.Sign(secret, now, id, event, body)
	if err != nil {
		panic(err)
	}
	req.Header.Set(signature.Header, sig)
	return req
}

// signed is a push delivery with a fresh id, signed at now.
func signed(body []byte, now time.Time) *http.Request {
	return signedAs(body, newID(), "push", now)
}

func serve(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// deliver posts body as a push delivery with a fresh id, signed now.
func deliver(t *testing.T, h *Handler, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	return serve(h, signed(body, h.now()))
}

func newHandler(t *testing.T, cfg Config) *Handler {
	t.Helper()
	if cfg.Secret == "" {
		cfg.Secret = secret
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Shutdown(context.Background()) })
	return h
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// waitIdle waits until no command runs or is queued and no callback is in flight.
func waitIdle(t *testing.T, h *Handler) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			h.mu.Lock()
			idle := !h.running && len(h.queue) == 0
			h.mu.Unlock()
			if idle {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		h.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("handler never went idle")
	}
}

func readLines(t *testing.T, file string) []string {
	t.Helper()
	b, err := os.ReadFile(file)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(strings.TrimSpace(string(b)))
}

func TestDeliveries(t *testing.T) {
	good := push("alice/app", "v1.2", "")
	flipped := bytes.Clone(good)
	i := bytes.Index(flipped, []byte("v1.2"))
	flipped[i+1] ^= 0x01 // "v1.2" -> "v0.2", same length, still valid JSON
	deleted := func() []byte {
		var p payload
		_ = json.Unmarshal(good, &p)
		p.Action = "tag_deleted"
		b, _ := json.Marshal(p)
		return b
	}()
	tests := []struct {
		name    string
		cfg     Config
		body    []byte
		tamper  func(*http.Request) // changes the request after signing
		code    int
		runs    bool
		wantEnv []string
	}{
		{name: "good signature runs with the push in its env", body: good, code: 202, runs: true,
			wantEnv: []string{"WHARF_REPO=alice/app", "WHARF_TAG=v1.2", "WHARF_DIGEST=" + digest, "WHARF_PUSHER=alice", "PARENT_VAR=kept"}},
		{name: "missing signatures", body: good, tamper: func(r *http.Request) {
			r.Header.Del(signature.Header)
			r.Header.Del(signature.HubHeader)
		}, code: 401},
		{name: "wrong secret", body: good, tamper: resign("other", good), code: 401},
		{name: "signature without t=", body: good, tamper: func(r *http.Request) {
			_, v1, _ := strings.Cut(r.Header.Get(signature.Header), ",")
			r.Header.Set(signature.Header, v1)
		}, code: 401},
		{name: "garbage signature", body: good, tamper: func(r *http.Request) { r.Header.Set(signature.Header, "t=1,v1=zz") }, code: 401},
		{name: "one byte flipped after signing", body: flipped, tamper: resign(secret, good), code: 401},
		{name: "signed garbage is a parse error", body: []byte("{not json"), code: 400},
		{name: "signed empty body is a parse error", body: []byte{}, code: 400},
		{name: "repo filter matches", cfg: Config{Repo: "alice/app"}, body: good, code: 202, runs: true},
		{name: "repo filter does not match", cfg: Config{Repo: "alice/other"}, body: good, code: 202},
		{name: "repo filter is exact", cfg: Config{Repo: "alice/ap"}, body: good, code: 202},
		{name: "tag glob matches", cfg: Config{Tag: "v1.*"}, body: good, code: 202, runs: true},
		{name: "tag glob with class matches", cfg: Config{Tag: "v[0-9]*"}, body: good, code: 202, runs: true},
		{name: "tag glob does not match", cfg: Config{Tag: "v2.*"}, body: good, code: 202},
		{name: "exact tag does not match", cfg: Config{Tag: "latest"}, body: good, code: 202},
		{name: "delete event ignored", body: deleted, code: 202},
	}
	t.Setenv("PARENT_VAR", "kept")
	t.Setenv("WHARF_DEPLOY_SECRET", secret)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			envFile := filepath.Join(dir, "env")
			countFile := filepath.Join(dir, "count")
			cfg := tc.cfg
			cfg.Run = fmt.Sprintf("env > %q; echo run >> %q", envFile, countFile)
			h := newHandler(t, cfg)
			req := signed(tc.body, h.now())
			if tc.tamper != nil {
				tc.tamper(req)
			}
			rec := serve(h, req)
			if rec.Code != tc.code {
				t.Fatalf("status %d (%s), want %d", rec.Code, rec.Body, tc.code)
			}
			waitIdle(t, h)
			runs := len(readLines(t, countFile))
			if tc.runs && runs != 1 || !tc.runs && runs != 0 {
				t.Fatalf("command ran %d times, want runs=%v", runs, tc.runs)
			}
			if !tc.runs {
				return
			}
			b, _ := os.ReadFile(envFile)
			env := strings.Split(string(b), "\n")
			for _, want := range tc.wantEnv {
				if !contains(env, want) {
					t.Errorf("env lacks %s", want)
				}
			}
			for _, kv := range env {
				if strings.HasPrefix(kv, "WHARF_DEPLOY_SECRET=") {
					t.Errorf("the secret leaked into the command's env")
				}
			}
		})
	}
}

// resign replaces a request's X-Wharf-Signature by one of body under
// secret, with the request's own id, event and time.
func resign(secret string, body []byte) func(*http.Request) {
	return func(r *http.Request) {
		old, err := signature.Parse(r.Header.Get(signature.Header))
		if err != nil {
			panic(err)
		}
		sig, err := signature.Sign(secret, time.Unix(old.Timestamp, 0), r.Header.Get("X-Wharf-Delivery"), r.Header.Get("X-Wharf-Event"), body)
		if err != nil {
			panic(err)
		}
		r.Header.Set(signature.Header, sig)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestMethodAndSize(t *testing.T) {
	h := newHandler(t, Config{Run: "true"})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d, want 405", rec.Code)
	}
	big := bytes.Repeat([]byte(" "), MaxBody+1)
	if rec := deliver(t, h, big); rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("big body: %d, want 413", rec.Code)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	for _, cfg := range []Config{
		{Run: "true"},
		{Secret: secret},
		{Secret: secret, Run: "true", Tag: "v[1"},
		{Secret: secret, Run: "true", Repo: "noslash"},
		{Secret: secret, Run: "true", Timeout: -time.Second},
		{Secret: secret, Run: "true", Tolerance: -time.Second},
		{Secret: secret, Run: "true", Tolerance: time.Millisecond},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}

// The command appends "start TAG" and "end TAG" lines; runs must never interleave.
func TestRunsNeverOverlap(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "log")
	h := newHandler(t, Config{Run: fmt.Sprintf(`echo "start-$WHARF_TAG" >> %q; sleep 0.3; echo "end-$WHARF_TAG" >> %q`, log, log)})
	// Different repositories: nothing is coalesced, both must run.
	for _, repo := range []string{"alice/one", "alice/two"} {
		b := push(repo, strings.TrimPrefix(repo, "alice/"), "")
		if rec := deliver(t, h, b); rec.Code != 202 {
			t.Fatalf("status %d", rec.Code)
		}
	}
	waitIdle(t, h)
	got := strings.Join(readLines(t, log), " ")
	if got != "start-one end-one start-two end-two" {
		t.Fatalf("log %q: runs overlapped or were lost", got)
	}
}

func TestQueuedPushesOfOneRepoCoalesce(t *testing.T) {
	dir := t.TempDir()
	log, gate := filepath.Join(dir, "log"), filepath.Join(dir, "gate")
	h := newHandler(t, Config{Run: fmt.Sprintf(
		`echo "start-$WHARF_TAG" >> %q; while [ ! -e %q ]; do sleep 0.02; done; echo "end-$WHARF_TAG" >> %q`, log, gate, log)})
	send := func(tag string) {
		b := push("alice/app", tag, "")
		if rec := deliver(t, h, b); rec.Code != 202 {
			t.Fatalf("status %d", rec.Code)
		}
	}
	send("v1")
	deadline := time.Now().Add(10 * time.Second)
	for len(readLines(t, log)) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("first run never started")
		}
		time.Sleep(10 * time.Millisecond)
	}
	send("v2") // queued, then superseded
	send("v3")
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, h)
	got := strings.Join(readLines(t, log), " ")
	if got != "start-v1 end-v1 start-v3 end-v3" {
		t.Fatalf("log %q, want v1 then the latest, v3", got)
	}
}

func TestCallbacks(t *testing.T) {
	tests := []struct {
		name    string
		run     string
		timeout time.Duration
		state   string
		inDesc  string
	}{
		{"true reports success", "echo deployed; true", 0, "success", "deployed"},
		{"false reports failure", "echo broken >&2; false", 0, "failure", "broken"},
		{"exit 3 reports failure", "exit 3", 0, "failure", "exit status 3"},
		{"timeout reports error", "echo slow; sleep 30", 300 * time.Millisecond, "error", "timed out"},
		{"a command not found reports error", "/nonexistent/deploy", 0, "error", "not found"},
		{"a shell that cannot start reports error", "true", 0, "error", "did not start"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := make(chan callback, 4)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var cb callback
				if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
					t.Errorf("callback %s %s", r.Method, r.Header.Get("Content-Type"))
				}
				if err := json.NewDecoder(r.Body).Decode(&cb); err != nil {
					t.Errorf("callback body: %v", err)
				}
				got <- cb
			}))
			defer srv.Close()
			h := newHandler(t, Config{Run: tc.run, Timeout: tc.timeout})
			if strings.Contains(tc.name, "shell") {
				h.shell = filepath.Join(t.TempDir(), "no-shell")
			}
			b := push("alice/app", "v1", srv.URL+"/cb/123")
			start := time.Now()
			if rec := deliver(t, h, b); rec.Code != 202 {
				t.Fatalf("status %d", rec.Code)
			}
			select {
			case cb := <-got:
				if cb.State != tc.state || !strings.Contains(cb.Description, tc.inDesc) || cb.Context != CallbackContext {
					t.Fatalf("callback %+v, want state %s with %q", cb, tc.state, tc.inDesc)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("no callback")
			}
			if tc.timeout > 0 && time.Since(start) > 10*time.Second {
				t.Errorf("the timed-out command was not killed promptly (%s)", time.Since(start))
			}
			waitIdle(t, h)
			if len(got) != 0 {
				t.Errorf("more than one callback")
			}
		})
	}
}

func TestCallbackDescriptionKeepsTheTail(t *testing.T) {
	got := make(chan callback, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var cb callback
		_ = json.NewDecoder(r.Body).Decode(&cb)
		got <- cb
	}))
	defer srv.Close()
	h := newHandler(t, Config{Run: `i=0; while [ $i -lt 2000 ]; do echo "line $i"; i=$((i+1)); done; echo LAST`})
	b := push("alice/app", "v1", srv.URL)
	deliver(t, h, b)
	cb := <-got
	if len(cb.Description) > outputTail+100 || !strings.HasSuffix(cb.Description, "LAST") || strings.Contains(cb.Description, "line 0\n") {
		t.Fatalf("description of %d bytes ends %q", len(cb.Description), cb.Description[max(0, len(cb.Description)-40):])
	}
}

func TestCallbackOnlyHTTP(t *testing.T) {
	dir := t.TempDir()
	h := newHandler(t, Config{Run: "echo ran >> " + filepath.Join(dir, "log")})
	b := push("alice/app", "v1", "file:///etc/passwd")
	if rec := deliver(t, h, b); rec.Code != 202 {
		t.Fatalf("status %d", rec.Code)
	}
	waitIdle(t, h) // no callback attempted, nothing hangs
	if n := len(readLines(t, filepath.Join(dir, "log"))); n != 1 {
		t.Fatalf("ran %d times", n)
	}
}

// A payload marshalled like Wharf's is accepted by the go-playground parser,
// with no header it would require.
func TestDockerParserAcceptsWharfPayload(t *testing.T) {
	body := push("alice/app", "v1", "https://hub.example.com/cb")
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	p, _ := docker.New()
	v, err := p.Parse(req, docker.BuildEvent)
	if err != nil {
		t.Fatal(err)
	}
	pl := v.(docker.BuildPayload)
	if pl.Repository.RepoName != "alice/app" || pl.PushData.Tag != "v1" || pl.PushData.Pusher != "alice" || pl.CallbackURL != "https://hub.example.com/cb" {
		t.Fatalf("parsed %+v", pl)
	}
}

func TestRunServesAndShutsDownGracefully(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "log")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Find a free port by listening briefly.
	l := httptest.NewServer(http.NotFoundHandler())
	addr := l.Listener.Addr().String()
	l.Close()
	started := filepath.Join(dir, "started")
	errc := make(chan error, 1)
	go func() {
		err := Run(ctx, Config{Listen: addr, Secret: secret,
			Run: fmt.Sprintf(`echo started >> %q; sleep 0.5; echo done >> %q`, started, log)},
			slog.New(slog.NewTextHandler(io.Discard, nil)))
		errc <- err
	}()
	b := push("alice/app", "v1", "")
	var resp *http.Response
	var err error
	for i := 0; i < 100; i++ {
		req := signed(b, time.Now())
		req.RequestURI, req.URL.Scheme, req.URL.Host = "", "http", addr
		if resp, err = http.DefaultClient.Do(req); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 202 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	// Stop while the command runs: wait until it has started.
	deadline := time.Now().Add(10 * time.Second)
	for len(readLines(t, started)) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the command never started")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return")
	}
	if n := len(readLines(t, log)); n != 1 {
		t.Fatalf("shutdown did not wait for the running command (%d lines)", n)
	}
}

// A callback description is what Wharf accepts: at most 1000 bytes of
// valid text, the end of the output kept, colour codes dropped.
func TestDescribeFitsTheCallback(t *testing.T) {
	out := &tail{max: outputTail}
	fmt.Fprintf(out, "\x1b[31mstarting\x1b[0m\n%s\nfinal line: disk full \xff\n", strings.Repeat("é", 3000))
	d := describe("exit status 1", out)
	if len(d) > maxDescription || !utf8.ValidString(d) || strings.ContainsRune(d, 0x1b) {
		t.Fatalf("description of %d bytes, valid %v: %q", len(d), utf8.ValidString(d), d[:min(len(d), 80)])
	}
	if !strings.HasPrefix(d, "exit status 1\n") || !strings.Contains(d, "final line: disk full") {
		t.Fatalf("description lost its status or the end of the output: %q", d)
	}
}
