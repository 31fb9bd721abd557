package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/wharfhub/wharf/cmd/wharf/deployhook"
	"github.com/wharfhub/wharf/server/config"
)

// deployHookFlags are the settings of `wharf deploy-hook`, read as every
// command's are (config.Parse): flag, environment, config file, default.
var deployHookFlags = []config.Flag{
	{Name: "listen", EnvName: "WHARF_DEPLOY_LISTEN", Def: "127.0.0.1:9000", Usage: "address to receive webhook deliveries on"},
	{Name: "secret", EnvName: "WHARF_DEPLOY_SECRET", Usage: "the webhook's secret; deliveries without a valid X-Wharf-Signature are refused (required)"},
	{Name: "run", EnvName: "WHARF_DEPLOY_RUN", Usage: "command line run with /bin/sh -c for each matching push (required)"},
	{Name: "repo", EnvName: "WHARF_DEPLOY_REPO", Usage: "act only on pushes to this repository, NAMESPACE/NAME (default: any)"},
	{Name: "tag", EnvName: "WHARF_DEPLOY_TAG", Usage: "act only on pushed tags matching this glob, e.g. 'v*' (default: any)"},
	{Name: "timeout", EnvName: "WHARF_DEPLOY_TIMEOUT", Def: "10m", Usage: "longest one run of the command may take before it is killed"},
	{Name: "signature-tolerance", EnvName: "WHARF_DEPLOY_SIGNATURE_TOLERANCE", Def: "5m",
		Usage: "refuse deliveries signed longer ago or further ahead than this; a delivery id seen within it is refused as a repeat"},
	{Name: "allow-legacy-signature", EnvName: "WHARF_DEPLOY_ALLOW_LEGACY_SIGNATURE", Def: "false", Bool: true,
		Usage: "also accept deliveries signed only with X-Hub-Signature-256, by older senders: true or false (such deliveries can be replayed)"},
	{Name: "log-level", Def: "info", Usage: "debug, info, warn or error"},
	{Name: "log-format", Def: "text", Usage: "text or json"},
}

const deployHookUsage = `Usage: wharf deploy-hook --secret S --run CMD [--listen ADDR] [--repo NS/NAME] [--tag GLOB] [--timeout D]

Receives Wharf's push webhooks, checks their signature and runs CMD (with
/bin/sh -c) once per matching push, never two at a time, with WHARF_REPO,
WHARF_TAG, WHARF_DIGEST and WHARF_PUSHER in its environment; reports
success, failure or error to the delivery's callback_url. A delivery must
carry a valid X-Wharf-Signature signed within --signature-tolerance; one
whose id was already received is refused (409) and not run again.

`

// deployHook runs `wharf deploy-hook` until ctx ends.
func deployHook(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	v, rest, err := config.Parse(config.Command{Name: "wharf deploy-hook", Header: deployHookUsage, Flags: deployHookFlags}, args, getenv, stderr)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("deploy-hook: unexpected arguments %q (quote the --run command line)", rest)
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
