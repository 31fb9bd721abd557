package config

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSMTPSettings: the password comes from the environment or the
// config file, never a flag; settings that cannot go together say why.
func TestSMTPSettings(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "wharf.yaml")
	if err := os.WriteFile(file, []byte("smtp_addr: mail.example.com:587\nsmtp_from: wharf@example.com\nsmtp_username: bot\nsmtp-password: from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		args []string
		env  map[string]string
		want string // addr from user:pass tls
		err  string
	}{
		{name: "none", want: "  : auto"},
		{name: "file", args: []string{"--config", file}, want: "mail.example.com:587 wharf@example.com bot:from-file auto"},
		{name: "environment beats the file", args: []string{"--config", file}, env: map[string]string{"WHARF_SMTP_PASSWORD": "from-env"},
			want: "mail.example.com:587 wharf@example.com bot:from-env auto"},
		{name: "flags", args: []string{"--smtp-addr", "127.0.0.1:1025", "--smtp-from", "Wharf <w@example.com>", "--smtp-tls", "none"},
			want: "127.0.0.1:1025 Wharf <w@example.com> : none"},
		{name: "no password flag", args: []string{"--smtp-password", "x"}, err: "flag provided but not defined"},
		{name: "no from", args: []string{"--smtp-addr", "127.0.0.1:1025"}, err: "needs smtp-from"},
		{name: "a username without a password", args: []string{"--smtp-addr", "h:25", "--smtp-from", "w@example.com", "--smtp-username", "bot"},
			err: "both a username"},
		{name: "bad address", args: []string{"--smtp-addr", "mail.example.com"}, err: "host:port"},
		{name: "bad from", args: []string{"--smtp-from", "not an address"}, err: "smtp-from must be"},
		{name: "bad tls", args: []string{"--smtp-tls", "maybe"}, err: "auto, starttls, tls or none"},
	} {
		t.Run(c.name, func(t *testing.T) {
			getenv := func(k string) string { return c.env[k] }
			cfg, _, err := Load("wharf serve", ServeSettings, append([]string{"--data-dir", dir}, c.args...), getenv, io.Discard, nil)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			s := cfg.SMTP
			if got := s.Addr + " " + s.From + " " + s.Username + ":" + s.Password + " " + s.TLS; got != c.want {
				t.Errorf("smtp = %q, want %q", got, c.want)
			}
		})
	}
}
