package main

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

	"github.com/wharfhub/wharf/server"
	"github.com/wharfhub/wharf/server/config"
)

func TestUserCreate(t *testing.T) {
	dir := t.TempDir()
	env := func(string) string { return "" }
	tests := []struct {
		name     string
		args     []string
		stdin    string
		code     int
		inStderr string
	}{
		{"creates an account", []string{"user", "create", "alice", "--email", "a@example.com", "--password-stdin", "--data-dir", dir}, "long-password\n", 0, ""},
		{"refuses a taken name", []string{"user", "create", "alice", "--email", "a@example.com", "--password-stdin", "--data-dir", dir}, "long-password\n", 1, "taken"},
		{"refuses an invalid name", []string{"user", "create", "Bad Name", "--email", "a@example.com", "--password-stdin", "--data-dir", dir}, "long-password\n", 1, "A username must be 2 to 64 characters"},
		{"refuses a short password", []string{"user", "create", "bob", "--email", "b@example.com", "--password-stdin", "--data-dir", dir}, "short\n", 1, "8 to 72"},
		{"needs --password-stdin", []string{"user", "create", "bob", "--email", "b@example.com", "--data-dir", dir}, "", 1, "password-stdin"},
		{"refuses a taken email address", []string{"user", "create", "dave", "--email", "A@Example.COM", "--password-stdin", "--data-dir", dir}, "long-password\n", 1, "An account with that e-mail address exists."},
		{"flags before the name", []string{"user", "create", "--email", "c@example.com", "--password-stdin", "--data-dir", dir, "carol"}, "long-password\n", 0, ""},
		{"unknown command", []string{"frobnicate"}, "", 2, "unknown command"},
		{"bad flag value", []string{"serve", "--log-level", "loud", "--data-dir", dir}, "", 1, "log-level"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), tc.args, env, strings.NewReader(tc.stdin), &out, &errb)
			if code != tc.code || !strings.Contains(errb.String(), tc.inStderr) {
				t.Fatalf("code %d, stderr %q; want %d containing %q", code, errb.String(), tc.code, tc.inStderr)
			}
		})
	}
	// The accounts made are in the audit log, as the command's: a site
	// admin reads it through the API.
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"user", "create", "root", "--email", "r@example.com", "--password-stdin", "--admin", "--data-dir", dir},
		env, strings.NewReader("long-password\n"), &out, &errb); code != 0 {
		t.Fatalf("create root: %d %s", code, errb.String())
	}
	srv := serveDataDir(t, dir, "http://registry.test")
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/audit?action=user.create", nil)
	req.SetBasicAuth("root", "long-password")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var page struct {
		Entries []struct {
			Actor     string `json:"actor"`
			ActorKind string `json:"actor_kind"`
			Target    string `json:"target"`
		} `json:"entries"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/v1/audit: %d %v", resp.StatusCode, err)
	}
	var got []string
	for _, e := range page.Entries {
		got = append(got, e.Target+" by "+e.Actor+" ("+e.ActorKind+")")
	}
	want := []string{"root by wharf user create (system)", "carol by wharf user create (system)", "alice by wharf user create (system)"}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("audit entries = %q, want %q", got, want)
	}
}

func TestHelpListsEveryFlagWithItsEnv(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"serve", "--help"}, func(string) string { return "" }, nil, &out, &errb); code != 0 {
		t.Fatalf("code %d", code)
	}
	for _, want := range []string{"--addr", "WHARF_ADDR", "--data-dir", "WHARF_DATA_DIR", "--base-url", "WHARF_BASE_URL", "--config"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("help lacks %s", want)
		}
	}
}

func TestUserResetPassword(t *testing.T) {
	dir := t.TempDir()
	env := func(string) string { return "" }
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"user", "create", "alice", "--email", "a@example.com", "--password-stdin", "--data-dir", dir},
		env, strings.NewReader("long-password\n"), &out, &errb); code != 0 {
		t.Fatalf("create: %s", errb.String())
	}
	out.Reset()
	errb.Reset()
	if code := run(context.Background(), []string{"user", "reset-password", "nobody", "--data-dir", dir}, env, nil, &out, &errb); code != 1 ||
		!strings.Contains(errb.String(), "There is no account by that name.") {
		t.Errorf("an unknown account: %d %q", code, errb.String())
	}
	out.Reset()
	errb.Reset()
	code := run(context.Background(), []string{"user", "reset-password", "alice", "--data-dir", dir, "--base-url", "https://registry.example"},
		env, nil, &out, &errb)
	link := strings.TrimSpace(out.String())
	if code != 0 || !strings.HasPrefix(link, "https://registry.example/reset-password?token=wrr_") || !strings.Contains(errb.String(), "sets a new password once") {
		t.Fatalf("reset-password: %d %q %q", code, link, errb.String())
	}
	// The link opens the page that sets the password.
	srv := serveDataDir(t, dir, "https://registry.example")
	resp, err := srv.Client().Get(srv.URL + strings.TrimPrefix(link, "https://registry.example"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "For <b>alice</b>") || resp.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("the link's page: %d %q\n%.1000s", resp.StatusCode, resp.Header.Get("Referrer-Policy"), body)
	}
}

// serveDataDir serves the data directory dir, as base, over HTTP until
// the test ends.
func serveDataDir(t *testing.T, dir, base string) *httptest.Server {
	t.Helper()
	cfg, _, err := config.Load("test", config.ServeSettings, []string{"--data-dir", dir, "--base-url", base}, func(string) string { return "" }, io.Discard, nil)
	if err != nil {
		t.Fatal(err)
	}
	app, err := server.Open(context.Background(), cfg, slog.New(slog.DiscardHandler), server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h, err := app.Handler()
	if err != nil {
		app.Close()
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() { srv.Close(); app.Close() })
	return srv
}
