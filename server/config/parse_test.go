package config

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestParseOtherCommand: a command other than serve (deploy-hook's shape:
// environment variables of its own, a bare boolean flag) reads its
// settings in the same order as serve: flag, environment, file, default.
func TestParseOtherCommand(t *testing.T) {
	cmd := Command{Name: "wharf hook", Flags: []Flag{
		{Name: "listen", EnvName: "HOOK_LISTEN", Def: "127.0.0.1:9000"},
		{Name: "legacy", EnvName: "HOOK_LEGACY", Def: "false", Bool: true},
		{Name: "log-level", Def: "info"},
	}}
	file := filepath.Join(t.TempDir(), "hook.yaml")
	if err := os.WriteFile(file, []byte("listen: 127.0.0.1:9100\nlog_level: warn\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name       string
		args       []string
		env        map[string]string
		key, want  string
		wantArgs   int
		wantErrSub string
	}{
		{name: "default", key: "listen", want: "127.0.0.1:9000"},
		{name: "file", args: []string{"--config", file}, key: "listen", want: "127.0.0.1:9100"},
		{name: "file key with underscore", args: []string{"--config", file}, key: "log-level", want: "warn"},
		{name: "own env beats file", args: []string{"--config", file}, env: map[string]string{"HOOK_LISTEN": "127.0.0.1:9200"}, key: "listen", want: "127.0.0.1:9200"},
		{name: "derived env", env: map[string]string{"WHARF_LOG_LEVEL": "debug"}, key: "log-level", want: "debug"},
		{name: "flag beats env", args: []string{"--listen", "127.0.0.1:9300"}, env: map[string]string{"HOOK_LISTEN": "127.0.0.1:9200"}, key: "listen", want: "127.0.0.1:9300"},
		{name: "bare bool", args: []string{"--legacy"}, key: "legacy", want: "true"},
		{name: "bool with value", args: []string{"--legacy=false"}, env: map[string]string{"HOOK_LEGACY": "true"}, key: "legacy", want: "false"},
		{name: "rest kept", args: []string{"--legacy", "a", "b"}, key: "legacy", want: "true", wantArgs: 2},
		{name: "unknown file key", args: []string{"--config", writeFile(t, "nope: 1\n")}, wantErrSub: `unknown setting "nope"`},
		{name: "repeated file key", args: []string{"--config", writeFile(t, "log_level: a\nlog-level: b\n")}, wantErrSub: "set twice"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			v, rest, err := Parse(cmd, c.args, func(k string) string { return c.env[k] }, &out)
			if c.wantErrSub != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErrSub) {
					t.Fatalf("error %v, want one saying %q", err, c.wantErrSub)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if v[c.key] != c.want || len(rest) != c.wantArgs {
				t.Fatalf("%s = %q with %d args, want %q with %d", c.key, v[c.key], len(rest), c.want, c.wantArgs)
			}
		})
	}
}

func writeFile(t *testing.T, body string) string {
	p := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestParseHelp: --help prints every flag with its environment variable
// and default, the command's own flags too, and answers flag.ErrHelp.
func TestParseHelp(t *testing.T) {
	var out bytes.Buffer
	cmd := Command{Name: "wharf hook", Header: "Usage: wharf hook [flags]\n\nDoes hooks.\n",
		Flags: []Flag{{Name: "listen", EnvName: "HOOK_LISTEN", Def: "127.0.0.1:9000", Usage: "where"}},
		Extra: func(fs *flag.FlagSet) { fs.Bool("dry-run", false, "only say what would happen") }}
	_, _, err := Parse(cmd, []string{"--help"}, func(string) string { return "" }, &out)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("error %v, want flag.ErrHelp", err)
	}
	for _, want := range []string{"Does hooks.", "--listen", "HOOK_LISTEN", "127.0.0.1:9000", "--config", "WHARF_CONFIG", "--dry-run", "only say"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %q:\n%s", want, out.String())
		}
	}
}
