package config

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMirrorSettings: --mirror is repeatable, WHARF_MIRRORS and the file's
// mirrors list give the same, credentials come from the environment or
// the file (never a flag), and mistakes say why.
func TestMirrorSettings(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) string {
		p := filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_")+".yaml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	hub := "hub=https://registry-1.docker.io"
	for _, c := range []struct {
		name string
		args []string
		env  map[string]string
		file string
		want string // mirrors as NAME=URL:USER:PASS;...
		err  string
	}{
		{name: "none", want: ""},
		{name: "repeated flag", args: []string{"--mirror", hub, "--mirror", "ghcr=https://ghcr.io/"},
			want: "hub=https://registry-1.docker.io::;ghcr=https://ghcr.io::"},
		{name: "environment list", env: map[string]string{"WHARF_MIRRORS": hub + ",quay=https://quay.io"},
			want: "hub=https://registry-1.docker.io::;quay=https://quay.io::"},
		{name: "file list and file credentials", file: "mirrors:\n  - " + hub + "\nmirror_hub_username: bot\nmirror-hub-password: s3cret\n",
			want: "hub=https://registry-1.docker.io:bot:s3cret"},
		{name: "environment credentials beat the file", file: "mirrors: [" + hub + "]\nmirror_hub_username: bot\nmirror_hub_password: file\n",
			env: map[string]string{"WHARF_MIRROR_HUB_USERNAME": "envbot", "WHARF_MIRROR_HUB_PASSWORD": "env"}, want: "hub=https://registry-1.docker.io:envbot:env"},
		{name: "dashes in the name's variables", args: []string{"--mirror", "my-hub=http://127.0.0.1:5000"},
			env: map[string]string{"WHARF_MIRROR_MY_HUB_USERNAME": "u", "WHARF_MIRROR_MY_HUB_PASSWORD": "p"}, want: "my-hub=http://127.0.0.1:5000:u:p"},
		{name: "no equals", args: []string{"--mirror", "https://registry-1.docker.io"}, err: "want NAME=URL"},
		{name: "bad name", args: []string{"--mirror", "Hub=https://x.example"}, err: "not a namespace name"},
		// The namespace rule of users and organizations, not one of its own.
		{name: "a dotted name", args: []string{"--mirror", "docker.io=https://x.example"}, err: "not a namespace name"},
		{name: "a one-letter name", args: []string{"--mirror", "h=https://x.example"}, err: "not a namespace name"},
		{name: "twice", args: []string{"--mirror", hub, "--mirror", hub}, err: "given twice"},
		{name: "credentials in the URL", args: []string{"--mirror", "hub=https://u:p@registry-1.docker.io"}, err: "credentials go in the environment"},
		{name: "a path", args: []string{"--mirror", "hub=https://registry-1.docker.io/v2/"}, err: "not a registry URL"},
		{name: "half the credentials", args: []string{"--mirror", hub}, env: map[string]string{"WHARF_MIRROR_HUB_USERNAME": "u"}, err: "both a username and a password"},
		{name: "credentials of no mirror", file: "mirror_ghcr_username: u\n", err: "names no mirror"},
		{name: "registry-mirror must be a mirror", args: []string{"--registry-mirror", "hub"}, err: "not one of the mirrors"},
		{name: "no password flag", args: []string{"--mirror-hub-password", "x"}, err: "flag provided but not defined"},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := c.args
			if c.file != "" {
				args = append([]string{"--config", write(c.file)}, args...)
			}
			cfg, _, err := Load("wharf serve", ServeSettings, args, func(k string) string { return c.env[k] }, io.Discard, nil)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one saying %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range cfg.Mirrors {
				got = append(got, m.Name+"="+m.URL+":"+m.Username+":"+m.Password)
			}
			if strings.Join(got, ";") != c.want {
				t.Fatalf("mirrors %q, want %q", strings.Join(got, ";"), c.want)
			}
			if cfg.MirrorTTL != 5*time.Minute {
				t.Fatalf("mirror-ttl %s, want the default 5m", cfg.MirrorTTL)
			}
		})
	}
}
