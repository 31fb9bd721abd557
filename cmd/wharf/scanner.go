package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/wharfhub/wharf/server/config"
)

const scannerUsage = "usage: wharf scanner db import FILE --data-dir DIR (FILE: a Trivy offline database bundle, db.tar.gz; - reads stdin)"

// scannerCmd imports the scanner's vulnerability database, with the
// server running or not: every replica scans with it from then on, and
// every scanned image is scanned again.
func scannerCmd(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) < 2 || args[0] != "db" || args[1] != "import" {
		return errors.New(scannerUsage)
	}
	args = args[2:]
	file := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") || len(args) > 0 && args[0] == "-" {
		file, args = args[0], args[1:]
	}
	cfg, rest, err := config.Load("wharf scanner db import", config.OpenSettings(), args, getenv, stderr, nil)
	if err != nil {
		return err
	}
	if file == "" && len(rest) == 1 {
		file, rest = rest[0], nil
	}
	if file == "" || len(rest) > 0 {
		return errors.New(scannerUsage)
	}
	in := stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return fmt.Errorf("scanner db import: %w", err)
		}
		defer f.Close()
		in = f
	}
	app, ctx, err := openAdmin(ctx, cfg, stderr, "scanner db import")
	if err != nil {
		return err
	}
	defer app.Close()
	d, err := app.Scan.ImportDatabase(ctx, in, "")
	if err != nil {
		return fmt.Errorf("scanner db import: %w", err)
	}
	fmt.Fprintf(stdout, "imported vulnerability database %s (%d bytes, built %s, %s old); every scanned image is queued for a rescan\n",
		d.Digest, d.Size, d.UpdatedAt.Format(time.RFC3339), time.Since(d.UpdatedAt).Round(time.Minute))
	return nil
}
