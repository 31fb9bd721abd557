package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"strings"
	"testing"
)

func TestDeployHookFlags(t *testing.T) {
	noEnv := func(string) string { return "" }
	secretEnv := func(k string) string {
		if k == "WHARF_DEPLOY_SECRET" {
			return "from-env"
		}
		return ""
	}
	tests := []struct {
		name   string
		args   []string
		getenv func(string) string
		want   string // in the error; "" means no error
		notIn  string // must not be in the error
	}{
		{"no flags", nil, noEnv, "--secret (or WHARF_DEPLOY_SECRET) and --run (or WHARF_DEPLOY_RUN) are required", ""},
		{"missing secret", []string{"--run", "true"}, noEnv, "--secret (or WHARF_DEPLOY_SECRET) is required", "--run"},
		{"missing run", []string{"--secret", "s"}, noEnv, "--run (or WHARF_DEPLOY_RUN) is required", "--secret"},
		{"secret from the environment", []string{"--run", "true", "--timeout", "nope"}, secretEnv, "--timeout", "required"},
		{"empty run", []string{"--secret", "s", "--run", "  "}, noEnv, "--run", ""},
		{"bad timeout", []string{"--secret", "s", "--run", "true", "--timeout", "-1s"}, noEnv, "--timeout", ""},
		{"bad tag glob", []string{"--secret", "s", "--run", "true", "--tag", "v[1", "--listen", "127.0.0.1:0"}, noEnv, "tag glob", ""},
		{"bad repo", []string{"--secret", "s", "--run", "true", "--repo", "app", "--listen", "127.0.0.1:0"}, noEnv, "NAMESPACE/NAME", ""},
		{"unquoted command", []string{"--secret", "s", "--run", "echo", "hi"}, noEnv, "unexpected arguments", ""},
		{"unknown flag", []string{"--secret", "s", "--run", "true", "--frob"}, noEnv, "frob", ""},
		{"starts and stops with its context", []string{"--secret", "s", "--run", "true", "--listen", "127.0.0.1:0"}, noEnv, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel() // a started server stops at once
			var out, errb bytes.Buffer
			err := deployHook(ctx, tc.args, tc.getenv, &out, &errb)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("error %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || (tc.notIn != "" && strings.Contains(err.Error(), tc.notIn)) {
				t.Fatalf("error %v; want one containing %q", err, tc.want)
			}
		})
	}
}

func TestDeployHookHelp(t *testing.T) {
	var out, errb bytes.Buffer
	err := deployHook(context.Background(), []string{"--help"}, func(string) string { return "" }, &out, &errb)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("error %v, want flag.ErrHelp", err)
	}
	for _, want := range []string{
		"--listen", "WHARF_DEPLOY_LISTEN", "127.0.0.1:9000",
		"--secret", "WHARF_DEPLOY_SECRET",
		"--run", "WHARF_DEPLOY_RUN",
		"--repo", "WHARF_DEPLOY_REPO",
		"--tag", "WHARF_DEPLOY_TAG",
		"--timeout", "WHARF_DEPLOY_TIMEOUT", "10m",
		"--log-level", "WHARF_LOG_LEVEL",
	} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("help lacks %s:\n%s", want, errb.String())
		}
	}
}
