package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/wharfhub/wharf/server/deployhook"
)

// deployHookFlag is one flag of `wharf deploy-hook` with its env var.
type deployHookFlag struct {
	name, env, def, usage string
}

var deployHookFlags = []deployHookFlag{
	{"listen", "WHARF_DEPLOY_LISTEN", "127.0.0.1:9000", "address to receive webhook deliveries on"},
	{"secret", "WHARF_DEPLOY_SECRET", "", "the webhook's secret; deliveries without a valid X-Hub-Signature-256 are refused (required)"},
	{"run", "WHARF_DEPLOY_RUN", "", "command line run with /bin/sh -c for each matching push (required)"},
	{"repo", "WHARF_DEPLOY_REPO", "", "act only on pushes to this repository, NAMESPACE/NAME (default: any)"},
	{"tag", "WHARF_DEPLOY_TAG", "", "act only on pushed tags matching this glob, e.g. 'v*' (default: any)"},
	{"timeout", "WHARF_DEPLOY_TIMEOUT", "10m", "longest one run of the command may take before it is killed"},
	{"log-level", "WHARF_LOG_LEVEL", "info", "debug, info, warn or error"},
	{"log-format", "WHARF_LOG_FORMAT", "text", "text or json"},
}

const deployHookUsage = `Usage: wharf deploy-hook --secret S --run CMD [--listen ADDR] [--repo NS/NAME] [--tag GLOB] [--timeout D]

Receives Wharf's push webhooks, checks their signature and runs CMD (with
/bin/sh -c) once per matching push, never two at a time, with WHARF_REPO,
WHARF_TAG, WHARF_DIGEST and WHARF_PUSHER in its environment; reports
success, failure or error to the delivery's callback_url.

Flags (each also read from its environment variable):
`

// deployHook runs `wharf deploy-hook` until ctx ends.
func deployHook(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("wharf deploy-hook", flag.ContinueOnError)
	fs.SetOutput(stderr)
	vals := map[string]*string{}
	for _, f := range deployHookFlags {
		vals[f.name] = fs.String(f.name, "", f.usage)
	}
	fs.Usage = func() {
		fmt.Fprint(stderr, deployHookUsage)
		for _, f := range deployHookFlags {
			def := f.def
			if def == "" {
				def = `""`
			}
			fmt.Fprintf(stderr, "  --%-11s %s\n  %13s env %s, default %s\n", f.name, f.usage, "", f.env, def)
		}
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("deploy-hook: unexpected arguments %q (quote the --run command line)", fs.Args())
	}
	explicit := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { explicit[f.Name] = true })
	v := map[string]string{}
	for _, f := range deployHookFlags {
		val := f.def
		if e := getenv(f.env); e != "" {
			val = e
		}
		if explicit[f.name] {
			val = *vals[f.name]
		}
		v[f.name] = val
	}
	var missing []string
	if v["secret"] == "" {
		missing = append(missing, "--secret (or WHARF_DEPLOY_SECRET)")
	}
	if strings.TrimSpace(v["run"]) == "" {
		missing = append(missing, "--run (or WHARF_DEPLOY_RUN)")
	}
	if len(missing) > 0 {
		return fmt.Errorf("deploy-hook: %s required; see wharf deploy-hook --help", strings.Join(missing, " and ")+pluralIs(len(missing)))
	}
	timeout, err := time.ParseDuration(v["timeout"])
	if err != nil || timeout <= 0 {
		return fmt.Errorf("deploy-hook: --timeout %q: want a positive duration such as 90s or 10m", v["timeout"])
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(v["log-level"])); err != nil {
		return fmt.Errorf("deploy-hook: --log-level %q: want debug, info, warn or error", v["log-level"])
	}
	opts := &slog.HandlerOptions{Level: level}
	var log *slog.Logger
	switch v["log-format"] {
	case "text":
		log = slog.New(slog.NewTextHandler(stderr, opts))
	case "json":
		log = slog.New(slog.NewJSONHandler(stderr, opts))
	default:
		return fmt.Errorf("deploy-hook: --log-format %q: want text or json", v["log-format"])
	}
	cfg := deployhook.Config{
		Listen:  v["listen"],
		Secret:  v["secret"],
		Run:     v["run"],
		Repo:    v["repo"],
		Tag:     v["tag"],
		Timeout: timeout,
	}
	if err := deployhook.Run(ctx, cfg, log); err != nil {
		if errors.Is(err, context.Canceled) {
			return nil
		}
		return err
	}
	return nil
}

func pluralIs(n int) string {
	if n > 1 {
		return " are"
	}
	return " is"
}
