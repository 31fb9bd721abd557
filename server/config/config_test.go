package config

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTrustedProxies(t *testing.T) {
	dir := t.TempDir()
	n := 0
	file := func(body string) string {
		n++
		p := filepath.Join(dir, fmt.Sprintf("wharf%d.yaml", n))
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, c := range []struct {
		name    string
		args    []string
		env     map[string]string
		want    string
		wantErr string
	}{
		{name: "default trusts none", want: ""},
		{name: "flag", args: []string{"--trusted-proxies", "10.0.0.0/8, 192.0.2.1"}, want: "10.0.0.0/8, 192.0.2.1"},
		{name: "environment", env: map[string]string{"WHARF_TRUSTED_PROXIES": "fd00::/8"}, want: "fd00::/8"},
		{name: "config file, flag spelling", args: []string{"--config", file("trusted-proxies: 10.1.0.0/16\n")}, want: "10.1.0.0/16"},
		{name: "config file, underscore spelling", args: []string{"--config", file("trusted_proxies: 10.2.0.0/16\n")}, want: "10.2.0.0/16"},
		{name: "flag beats environment", args: []string{"--trusted-proxies", "10.0.0.1"}, env: map[string]string{"WHARF_TRUSTED_PROXIES": "10.0.0.2"}, want: "10.0.0.1"},
		{name: "not a CIDR", args: []string{"--trusted-proxies", "proxy.example"}, wantErr: `trusted-proxies: trusted proxy "proxy.example"`},
		{name: "one key spelled twice", args: []string{"--config", file("trusted_proxies: 10.0.0.1\ntrusted-proxies: 10.0.0.2\n")}, wantErr: "set twice"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			cfg, _, err := Load("wharf serve", ServeSettings, c.args, func(k string) string { return c.env[k] }, &out, nil)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.TrustedProxies != c.want {
				t.Fatalf("TrustedProxies = %q, want %q", cfg.TrustedProxies, c.want)
			}
		})
	}
	var out bytes.Buffer
	ServeUsage(&out, "wharf serve", ServeSettings)
	if !strings.Contains(out.String(), "--trusted-proxies") || !strings.Contains(out.String(), "WHARF_TRUSTED_PROXIES") {
		t.Fatalf("--help lacks --trusted-proxies:\n%s", out.String())
	}
}
