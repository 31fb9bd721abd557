package config

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPrecedence: a flag beats the environment, the environment beats
// the config file, the file beats the default, for every kind of value.
func TestPrecedence(t *testing.T) {
	file := filepath.Join(t.TempDir(), "wharf.yaml")
	yaml := "addr: 127.0.0.1:7001\nlog_level: warn\nupload-ttl: 3h\nallow-signup: false\nbase-url: https://file.example/\n"
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, c := range []struct {
		name string
		args []string
		env  map[string]string
		want func(*Config) string
		is   string
	}{
		{"default", nil, nil, func(c *Config) string { return c.Addr }, "127.0.0.1:5000"},
		{"file beats default", []string{"--config", file}, nil, func(c *Config) string { return c.Addr }, "127.0.0.1:7001"},
		{"file through WHARF_CONFIG", nil, map[string]string{"WHARF_CONFIG": file}, func(c *Config) string { return c.Addr }, "127.0.0.1:7001"},
		{"environment beats file", []string{"--config", file}, map[string]string{"WHARF_ADDR": "127.0.0.1:7002"}, func(c *Config) string { return c.Addr }, "127.0.0.1:7002"},
		{"flag beats environment and file", []string{"--config", file, "--addr", "127.0.0.1:7003"}, map[string]string{"WHARF_ADDR": "127.0.0.1:7002"},
			func(c *Config) string { return c.Addr }, "127.0.0.1:7003"},
		{"underscore key in the file", []string{"--config", file}, nil, func(c *Config) string { return c.LogLevel }, "warn"},
		{"duration from the file", []string{"--config", file}, nil, func(c *Config) string { return c.UploadTTL.String() }, (3 * time.Hour).String()},
		{"boolean from the file", []string{"--config", file}, nil, func(c *Config) string {
			if c.AllowSignup {
				return "true"
			}
			return "false"
		}, "false"},
		{"trailing slash of the base URL dropped", []string{"--config", file}, nil, func(c *Config) string { return c.BaseURL }, "https://file.example"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			cfg, _, err := Load("wharf serve", ServeSettings, c.args, env(c.env), &out, nil)
			if err != nil {
				t.Fatalf("Load: %v (%s)", err, out.String())
			}
			if got := c.want(cfg); got != c.is {
				t.Errorf("got %q, want %q", got, c.is)
			}
		})
	}
}

// TestBadSettingsSayWhy: a wrong value or file is a clear error naming it.
func TestBadSettingsSayWhy(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, c := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"unknown key in the file", []string{"--config", write("a.yaml", "adress: x\n")}, nil, `unknown setting "adress"`},
		{"not YAML", []string{"--config", write("b.yaml", "addr: [\n")}, nil, "config file"},
		{"missing file", []string{"--config", filepath.Join(dir, "none.yaml")}, nil, "config file"},
		{"bad log level", []string{"--log-level", "loud"}, nil, "log"},
		{"bad duration in the environment", nil, map[string]string{"WHARF_UPLOAD_TTL": "soon"}, "upload-ttl"},
		{"empty data dir", []string{"--data-dir", ""}, map[string]string{}, "data-dir"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			_, _, err := Load("wharf serve", ServeSettings, c.args, func(k string) string { return c.env[k] }, &out, nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, c.want)
			}
		})
	}
}
