package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wharfhub/wharf/models"
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
	// The accounts made are in the audit log, as the command's.
	db, err := models.OpenSQLite(filepath.Join(dir, "wharf.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	es, err := db.Audit.List(context.Background(), models.AuditFilter{Action: "user.create"}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 || es[0].Target != "carol" || es[1].Target != "alice" || es[0].Actor != "wharf user create" || es[0].ActorKind != models.ActorSystem {
		t.Errorf("audit entries = %+v, want alice's and carol's creation by wharf user create", es)
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
