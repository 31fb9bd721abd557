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
		{"bad signature tolerance", []string{"--secret", "s", "--run", "true", "--signature-tolerance", "soon"}, noEnv, "--signature-tolerance", ""},
		{"signature tolerance under a second", []string{"--secret", "s", "--run", "true", "--signature-tolerance", "500ms"}, noEnv, "--signature-tolerance", ""},
		{"bad legacy switch", []string{"--secret", "s", "--run", "true", "--allow-legacy-signature=maybe"}, noEnv, "--allow-legacy-signature", ""},
		{"bad legacy switch from the environment", []string{"--secret", "s", "--run", "true"}, func(k string) string {
			if k == "WHARF_DEPLOY_ALLOW_LEGACY_SIGNATURE" {
				return "maybe"
			}
			return ""
		}, "--allow-legacy-signature", ""},
		{"a bare legacy switch takes no value", []string{"--secret", "s", "--run", "true", "--allow-legacy-signature", "--listen", "127.0.0.1:0"}, noEnv, "", ""},
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

// The signature settings reach the receiver: it logs them as it starts.
func TestDeployHookSignatureSettings(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		env        map[string]string
		tolerance  string
		legacyWarn bool
	}{
		{"defaults: 5m, no legacy signatures", nil, nil, "signature_tolerance=5m0s", false},
		{"flags", []string{"--signature-tolerance", "90s", "--allow-legacy-signature"}, nil, "signature_tolerance=1m30s", true},
		{"environment", nil, map[string]string{"WHARF_DEPLOY_SIGNATURE_TOLERANCE": "2m", "WHARF_DEPLOY_ALLOW_LEGACY_SIGNATURE": "true"}, "signature_tolerance=2m0s", true},
		{"a flag beats the environment", []string{"--allow-legacy-signature=false"}, map[string]string{"WHARF_DEPLOY_ALLOW_LEGACY_SIGNATURE": "1"}, "signature_tolerance=5m0s", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			var out, errb bytes.Buffer
			args := append([]string{"--secret", "s", "--run", "true", "--listen", "127.0.0.1:0"}, tc.args...)
			if err := deployHook(ctx, args, func(k string) string { return tc.env[k] }, &out, &errb); err != nil {
				t.Fatal(err)
			}
			log := errb.String()
			if !strings.Contains(log, tc.tolerance) || strings.Contains(log, "X-Hub-Signature-256") != tc.legacyWarn {
				t.Fatalf("want %s and legacy warning %v in the log:\n%s", tc.tolerance, tc.legacyWarn, log)
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
		"--signature-tolerance", "WHARF_DEPLOY_SIGNATURE_TOLERANCE", "5m",
		"--allow-legacy-signature", "WHARF_DEPLOY_ALLOW_LEGACY_SIGNATURE",
		"X-Wharf-Signature",
	} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("help lacks %s:\n%s", want, errb.String())
		}
	}
}
