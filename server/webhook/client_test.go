package webhook

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wharfhub/wharf/server/webhook/signature"
)

// loopbackClient is a client whose guard allows spec and dials loopback only.
func loopbackClient(t *testing.T, spec string, res Resolver, timeout time.Duration) *http.Client {
	t.Helper()
	g := loopbackOnly(t, mustGuard(t, spec))
	if res != nil {
		g.Resolver = res
	}
	return NewClient(g, timeout)
}

func TestSendHeadersAndSignature(t *testing.T) {
	type seen struct {
		method string
		header http.Header
		body   []byte
	}
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- seen{r.Method, r.Header.Clone(), body}
		w.Header().Set("X-Receiver", "deploy-hook")
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, "queued")
	}))
	defer srv.Close()

	body := []byte(`{"push_data":{"tag":"latest"}}`)
	ts := time.Unix(1700000000, 0)
	c := loopbackClient(t, "loopback", nil, 5*time.Second)
	resp := Send(context.Background(), c, Request{
		URL: srv.URL + "/hook", Event: "push", DeliveryID: "d-42", Secret: "s3cret", Body: body, Timestamp: ts,
	})
	if resp.Err != nil || !resp.OK() {
		t.Fatalf("Send = %+v", resp)
	}
	if resp.Status != http.StatusAccepted || resp.BodyExcerpt != "queued" || resp.Headers.Get("X-Receiver") != "deploy-hook" {
		t.Errorf("response = %+v", resp)
	}
	if resp.Duration <= 0 {
		t.Errorf("duration = %v", resp.Duration)
	}
	s := <-got
	if s.method != http.MethodPost || string(s.body) != string(body) {
		t.Errorf("server saw %s %q", s.method, s.body)
	}
	wantHeaders := map[string]string{
		"Content-Type":      "application/json",
		"User-Agent":        "Wharf-Webhook/1",
		"X-Wharf-Event":     "push",
		"X-Wharf-Delivery":  "d-42",
		"X-Wharf-Timestamp": "1700000000",
	}
	for k, v := range wantHeaders {
		if s.header.Get(k) != v {
			t.Errorf("%s = %q; want %q", k, s.header.Get(k), v)
		}
	}
	if sig := s.header.Get("X-Hub-Signature-256"); !signature.VerifyHub("s3cret", s.body, sig) {
		t.Errorf("signature %q does not verify", sig)
	}
	// X-Wharf-Signature signs the timestamp, the id and the event with the body.
	wsig := s.header.Get("X-Wharf-Signature")
	if !strings.HasPrefix(wsig, "t=1700000000,v1=") {
		t.Errorf("X-Wharf-Signature = %q", wsig)
	}
	if _, err := signature.Verify("s3cret", wsig, "d-42", "push", s.body, ts, time.Minute); err != nil {
		t.Errorf("X-Wharf-Signature %q: %v", wsig, err)
	}
	if _, err := signature.Verify("s3cret", wsig, "d-42", "test", s.body, ts, time.Minute); err == nil {
		t.Errorf("X-Wharf-Signature %q verifies for another event", wsig)
	}

	// Without a secret there is no signature, and the timestamp is now.
	resp = Send(context.Background(), c, Request{URL: srv.URL, Event: "push", DeliveryID: "d-43", Body: body})
	if resp.Err != nil {
		t.Fatal(resp.Err)
	}
	s = <-got
	if _, ok := s.header["X-Hub-Signature-256"]; ok {
		t.Error("signed without a secret")
	}
	if _, ok := s.header["X-Wharf-Signature"]; ok {
		t.Error("signed without a secret")
	}
	sec, err := strconv.ParseInt(s.header.Get("X-Wharf-Timestamp"), 10, 64)
	if err != nil || time.Since(time.Unix(sec, 0)).Abs() > time.Minute {
		t.Errorf("X-Wharf-Timestamp = %q", s.header.Get("X-Wharf-Timestamp"))
	}
}

func TestSendAnswers(t *testing.T) {
	big := strings.Repeat("a", 100<<10)
	tests := []struct {
		name       string
		status     int
		body       string
		wantOK     bool
		wantExcept int
	}{
		{"2xx is ok", 200, "ok", true, 2},
		{"5xx is an answer, not an error", 503, "down", false, 4},
		{"long answers are cut to 4 KiB", 200, big, true, MaxExcerpt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			resp := Send(context.Background(), loopbackClient(t, "loopback", nil, 5*time.Second), Request{URL: srv.URL, Body: []byte("{}")})
			if resp.Err != nil {
				t.Fatal(resp.Err)
			}
			if resp.Status != tt.status || resp.OK() != tt.wantOK || len(resp.BodyExcerpt) != tt.wantExcept {
				t.Errorf("status %d ok %v excerpt %d bytes", resp.Status, resp.OK(), len(resp.BodyExcerpt))
			}
		})
	}
}

func TestSendTimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // so that the server notices the client leaving
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	defer srv.Close()
	start := time.Now()
	resp := Send(context.Background(), loopbackClient(t, "loopback", nil, 200*time.Millisecond), Request{URL: srv.URL, Body: []byte("{}")})
	if resp.Err == nil {
		t.Fatalf("a slow server did not time out: %+v", resp)
	}
	var ne net.Error
	if !errors.As(resp.Err, &ne) || !ne.Timeout() {
		t.Errorf("error %v is not a timeout", resp.Err)
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("Send took %v", el)
	}
}

func TestSendNeverPanics(t *testing.T) {
	c := loopbackClient(t, "loopback", nil, time.Second)
	tests := []struct {
		name string
		c    *http.Client
		ctx  context.Context
		url  string
	}{
		{"nil client", nil, context.Background(), "http://127.0.0.1:1/"},
		{"nil context", c, nil, "http://127.0.0.1:1/"},
		{"bad url", c, context.Background(), "http://[::1"},
		{"empty url", c, context.Background(), ""},
		{"file url", c, context.Background(), "file:///etc/passwd"},
		{"refused target", loopbackClient(t, "", nil, time.Second), context.Background(), "http://127.0.0.1:1/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := Send(tt.ctx, tt.c, Request{URL: tt.url})
			if resp.Err == nil {
				t.Errorf("Send = %+v; want an error", resp)
			}
		})
	}
}

func TestSendRefusesLoopbackByDefault(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer srv.Close()
	resp := Send(context.Background(), loopbackClient(t, "", nil, time.Second), Request{URL: srv.URL})
	if !errors.Is(resp.Err, ErrRefused) {
		t.Fatalf("Send to loopback with the default list: %v; want ErrRefused", resp.Err)
	}
	if !strings.Contains(resp.Err.Error(), "is a loopback address, refused by --webhook-allowed-hosts") {
		t.Errorf("error = %v", resp.Err)
	}
	if hits.Load() != 0 {
		t.Error("the server was reached")
	}
}

// hopServer counts its requests and answers /to?u=URL with a redirect to
// URL, /hop/N with a redirect to /hop/N-1, and /hop/0 with "landed".
func hopServer(t *testing.T, hits *atomic.Int32) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path == "/to" {
			http.Redirect(w, r, r.URL.Query().Get("u"), http.StatusTemporaryRedirect)
			return
		}
		n, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/hop/"))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		if n > 0 {
			http.Redirect(w, r, "/hop/"+strconv.Itoa(n-1), http.StatusTemporaryRedirect)
			return
		}
		io.WriteString(w, "landed")
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestRedirects(t *testing.T) {
	var hits atomic.Int32
	srv := hopServer(t, &hits)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	res := newFakeResolver(map[string][][]string{
		"hooks.test": {{"127.0.0.1"}},
		"evil.test":  {{"127.0.0.1"}},
	})
	byIP := srv.URL                          // http://127.0.0.1:port
	byName := "http://hooks.test:" + port    // allowed by the host glob
	evil := "http://evil.test:" + port + "/" // resolves to loopback too

	tests := []struct {
		name, spec, start string
		wantErr           string // "" lands; "refused" wraps ErrRefused
		wantHits          int32
	}{
		{"to cloud metadata the dial is refused", "loopback", byIP + "/to?u=" + url.QueryEscape("http://169.254.169.254/latest/meta-data/"), "refused", 1},
		{"to mapped cloud metadata", "loopback", byIP + "/to?u=" + url.QueryEscape("http://[::ffff:169.254.169.254]/"), "refused", 1},
		{"to a file", "loopback", byIP + "/to?u=" + url.QueryEscape("file:///etc/passwd"), "refused", 1},
		{"to another scheme", "loopback", byIP + "/to?u=" + url.QueryEscape("gopher://127.0.0.1/"), "refused", 1},
		{"to a name that resolves to loopback", "hooks.test", byName + "/to?u=" + url.QueryEscape(evil), "refused", 1},
		{"to an allowed name", "hooks.test,evil.test", byName + "/to?u=" + url.QueryEscape(evil+"hop/0"), "", 2},
		{"three redirects are followed", "loopback", byIP + "/to?u=/hop/2", "", 4},
		{"a fourth is not", "loopback", byIP + "/to?u=/hop/3", "stopped after 3 redirects", 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hits.Store(0)
			resp := Send(context.Background(), loopbackClient(t, tt.spec, res, 5*time.Second), Request{URL: tt.start, Body: []byte("{}")})
			switch tt.wantErr {
			case "":
				if resp.Err != nil || resp.BodyExcerpt != "landed" {
					t.Fatalf("Send = %+v", resp)
				}
			case "refused":
				if !errors.Is(resp.Err, ErrRefused) {
					t.Fatalf("Send error = %v; want ErrRefused", resp.Err)
				}
			default:
				if resp.Err == nil || !strings.Contains(resp.Err.Error(), tt.wantErr) {
					t.Fatalf("Send error = %v; want %q", resp.Err, tt.wantErr)
				}
			}
			if got := hits.Load(); got != tt.wantHits {
				t.Errorf("%d requests reached the server; want %d", got, tt.wantHits)
			}
		})
	}
}
