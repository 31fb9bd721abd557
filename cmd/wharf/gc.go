package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/wharfhub/wharf/server"
	"github.com/wharfhub/wharf/server/config"
)

// optBool is a boolean flag that knows whether it was given.
type optBool struct{ set, v bool }

func (b *optBool) String() string   { return strconv.FormatBool(b.v) }
func (b *optBool) IsBoolFlag() bool { return true }
func (b *optBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	b.set, b.v = true, v
	return err
}

// gcCmd collects garbage once, with the server running or not.
func gcCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var dryRun bool
	var grace string
	var untagged optBool
	cfg, rest, err := config.Load("wharf gc", config.OpenSettings(), args, getenv, stderr, func(fs *flag.FlagSet) {
		fs.BoolVar(&dryRun, "dry-run", false, "report what would be deleted and delete nothing")
		fs.StringVar(&grace, "grace", "", "keep blobs and manifests used more recently than this (default: --gc-grace, 2h)")
		fs.Var(&untagged, "delete-untagged", "also delete untagged manifests no tag, index or subject keeps (default: --gc-delete-untagged)")
	})
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("gc: unexpected arguments %q", rest)
	}
	if grace != "" {
		d, err := time.ParseDuration(grace)
		if err != nil || d < 0 {
			return fmt.Errorf("gc: --grace must be a duration such as 2h, not %q", grace)
		}
		cfg.GCGrace = d
	}
	if untagged.set {
		cfg.GCDeleteUntagged = untagged.v
	}
	log, err := newLogger(cfg.LogLevel, cfg.LogFormat, stderr)
	if err != nil {
		return err
	}
	app, err := server.Open(ctx, cfg, log.With("command", "gc"), server.Options{})
	if err != nil {
		return err
	}
	defer app.Close()
	opts := app.GCOptions()
	opts.DryRun = dryRun
	rep, err := app.GC.Run(ctx, opts)
	fmt.Fprintf(stdout, "gc: %s\n", rep)
	if err != nil {
		return err
	}
	return nil
}
