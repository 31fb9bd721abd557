package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/wharfhub/wharf/cmd/wharf/deployhook"
)

// deployHookFlag is one flag of `wharf deploy-hook` with its env var; a
// boolean one may be given bare (--flag) and reads true or false.
type deployHookFlag struct {
	name, env, def, usage string
	boolean               bool
}

var deployHookFlags = []deployHookFlag{
	{name: "listen", env: "WHARF_DEPLOY_LISTEN", def: "127.0.0.1:9000", usage: "address to receive webhook deliveries on"},
	{name: "secret", env: "WHARF_DEPLOY_SECRET", usage: "the webhook's secret; deliveries without a valid X-Wharf-Signature are refused (required)"},
	{name: "run", env: "WHARF_DEPLOY_RUN", usage: "command line run with /bin/sh -c for each matching push (required)"},
	{name: "repo", env: "WHARF_DEPLOY_REPO", usage: "act only on pushes to this repository, NAMESPACE/NAME (default: any)"},
	{name: "tag", env: "WHARF_DEPLOY_TAG", usage: "act only on pushed tags matching this glob, e.g. 'v*' (default: any)"},
	{name: "timeout", env: "WHARF_DEPLOY_TIMEOUT", def: "10m", usage: "longest one run of the command may take before it is killed"},
	{name: "signature-tolerance", env: "WHARF_DEPLOY_SIGNATURE_TOLERANCE", def: "5m",
		usage: "refuse deliveries signed longer ago or further ahead than this; a delivery id seen within it is refused as a repeat"},
	{name: "allow-legacy-signature", env: "WHARF_DEPLOY_ALLOW_LEGACY_SIGNATURE", def: "false", boolean: true,
		usage: "also accept deliveries signed only with X-Hub-Signature-256, by older senders: true or false (such deliveries can be replayed)"},
	{name: "log-level", env: "WHARF_LOG_LEVEL", def: "info", usage: "debug, info, warn or error"},
	{name: "log-format", env: "WHARF_LOG_FORMAT", def: "text", usage: "text or json"},
}

// boolFlag is a string flag that may be given bare, meaning "true".
type boolFlag struct{ v *string }

func (b boolFlag) String() string {
	if b.v == nil {
		return ""
	}
	return *b.v
}
func (b boolFlag) Set(s string) error { *b.v = s; return nil }
func (b boolFlag) IsBoolFlag() bool   { return true }

const deployHookUsage = `Usage: wharf deploy-hook --secret S --run CMD [--listen ADDR] [--repo NS/NAME] [--tag GLOB] [--timeout D]

Receives Wharf's push webhooks, checks their signature and runs CMD (with
/bin/sh -c) once per matching push, never two at a time, with WHARF_REPO,
WHARF_TAG, WHARF_DIGEST and WHARF_PUSHER in its environment; reports
success, failure or error to the delivery's callback_url. A delivery must
carry a valid X-Wharf-Signature signed within --signature-tolerance; one
whose id was already received is refused (409) and not run again.

Flags (each also read from its environment variable):
`

// deployHook runs `wharf deploy-hook` until ctx ends.
func deployHook(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("wharf deploy-hook", flag.ContinueOnError)
	fs.SetOutput(stderr)
	vals := map[string]*string{}
	width := 0
	for _, f := range deployHookFlags {
		if f.boolean {
			vals[f.name] = new(string)
			fs.Var(boolFlag{vals[f.name]}, f.name, f.usage)
		} else {
			vals[f.name] = fs.String(f.name, "", f.usage)
		}
		width = max(width, len(f.name))
	}
	fs.Usage = func() {
		fmt.Fprint(stderr, deployHookUsage)
		for _, f := range deployHookFlags {
			def := f.def
			if def == "" {
				def = `""`
			}
			fmt.Fprintf(stderr, "  --%-*s %s\n  %*s env %s, default %s\n", width, f.name, f.usage, width+2, "", f.env, def)
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
	tolerance, err := time.ParseDuration(v["signature-tolerance"])
	if err != nil || tolerance < time.Second {
		return fmt.Errorf("deploy-hook: --signature-tolerance %q: want a duration of at least 1s, such as 5m", v["signature-tolerance"])
	}
	allowLegacy, err := strconv.ParseBool(v["allow-legacy-signature"])
	if err != nil {
		return fmt.Errorf("deploy-hook: --allow-legacy-signature %q: want true or false", v["allow-legacy-signature"])
	}
	log, err := newLogger(v["log-level"], v["log-format"], stderr)
	if err != nil {
		return fmt.Errorf("deploy-hook: %w", err)
	}
	cfg := deployhook.Config{
		Listen:  v["listen"],
		Secret:  v["secret"],
		Run:     v["run"],
		Repo:    v["repo"],
		Tag:     v["tag"],
		Timeout: timeout,

		Tolerance:            tolerance,
		AllowLegacySignature: allowLegacy,
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
