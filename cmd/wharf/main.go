package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/wharfhub/wharf/server"
	"github.com/wharfhub/wharf/server/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `Wharf: a container registry and hub.

Usage:
  wharf serve [flags]                 serve the registry API and the hub
  wharf user create NAME [flags]      create an account
  wharf user reset-password NAME [flags]
                                      print a one-time link that sets a new password
  wharf search reindex [flags]        rebuild the search index from the database (server stopped)
  wharf gc [--dry-run] [flags]        delete blobs no manifest references (server running or not)
  wharf scanner db import FILE [flags]
                                      import a Trivy offline vulnerability database bundle
  wharf deploy-hook [flags]           receive Wharf's push webhooks and run a deploy command
  wharf CMD --help                    flags of a command

`

// run is the whole CLI, testable without a process.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(ctx, args[1:], getenv, stderr)
	case "user":
		err = user(ctx, args[1:], getenv, stdin, stdout, stderr)
	case "search":
		err = searchCmd(ctx, args[1:], getenv, stdout, stderr)
	case "gc":
		err = gcCmd(ctx, args[1:], getenv, stdout, stderr)
	case "scanner":
		err = scannerCmd(ctx, args[1:], getenv, stdin, stdout, stderr)
	case "deploy-hook":
		err = deployHook(ctx, args[1:], getenv, stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "wharf: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "wharf: %v\n", err)
		return 1
	}
	return 0
}

// newLogger is every subcommand's logger: level is debug, info, warn or
// error (as slog spells them), format text or json.
func newLogger(level, format string, w io.Writer) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}

// adminLogger is the logger of the commands that administer the data
// directory: warnings and errors only, in the configured format.
func adminLogger(cfg *config.Config, w io.Writer) (*slog.Logger, error) {
	return newLogger("warn", cfg.LogFormat, w)
}

// openAdmin opens the app for an admin command (no search index, no
// scanner, no listener), logging warnings and worse to w.
func openAdmin(ctx context.Context, cfg *config.Config, w io.Writer, command string) (*server.App, context.Context, error) {
	log, err := adminLogger(cfg, w)
	if err != nil {
		return nil, ctx, err
	}
	app, err := server.Open(ctx, cfg, log, server.Options{})
	// What the command changes is in the audit log as the system's, by
	// the command's name.
	return app, server.AsSystem(ctx, "wharf "+command), err
}

func serve(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	cfg, rest, err := config.Load("wharf serve", config.ServeSettings, args, getenv, stderr, nil)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("serve: unexpected arguments %q", rest)
	}
	log, err := newLogger(cfg.LogLevel, cfg.LogFormat, stderr)
	if err != nil {
		return err
	}
	// Listening first gives a base URL to a server configured without one.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	app, err := server.Open(ctx, cfg, log, server.Options{Search: true, Listener: ln, Scan: true})
	if err != nil {
		ln.Close()
		return err
	}
	// SIGHUP reads the certificate files again (they are also watched).
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	served := make(chan struct{})
	go func() {
		for {
			select {
			case <-hup:
				if err := app.ReloadCertificates(); err != nil {
					log.Error("SIGHUP: tls certificate not reloaded; the previous one is still served", "err", err)
				} else {
					log.Info("SIGHUP: tls certificate files read")
				}
			case <-served:
				return
			}
		}
	}()
	// Serve returns once the workers have stopped: only then do the
	// search index and the database close.
	serr := app.Serve(ctx, nil)
	close(served)
	if err := app.Close(); err != nil && serr == nil {
		serr = fmt.Errorf("close: %w", err)
	}
	return serr
}

const userUsage = `usage: wharf user create NAME --email E --password-stdin [--admin] --data-dir DIR
       wharf user reset-password NAME --data-dir DIR [--base-url URL]`

func user(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	switch {
	case len(args) > 0 && args[0] == "create":
		return userCreate(ctx, args[1:], getenv, stdin, stdout, stderr)
	case len(args) > 0 && args[0] == "reset-password":
		return userResetPassword(ctx, args[1:], getenv, stdout, stderr)
	}
	return errors.New(userUsage)
}

// userResetPassword prints a one-time link that sets a new password for
// the account NAME: for whoever can run commands on the server.
func userResetPassword(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	name := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	cfg, rest, err := config.Load("wharf user reset-password NAME", config.OpenSettings("base-url"), args, getenv, stderr, nil)
	if err != nil {
		return err
	}
	if name == "" && len(rest) == 1 {
		name, rest = rest[0], nil
	}
	if name == "" || len(rest) > 0 {
		return errors.New(userUsage)
	}
	app, ctx, err := openAdmin(ctx, cfg, stderr, "user reset-password")
	if err != nil {
		return err
	}
	defer app.Close()
	link, err := app.Recovery.IssueLink(ctx, name, "wharf user reset-password")
	if err != nil {
		return fmt.Errorf("user reset-password %s: %w", name, err)
	}
	fmt.Fprintln(stdout, link.URL)
	fmt.Fprintf(stderr, "A link for %s that sets a new password once, until %s; using it ends every session of the account.\n",
		link.User, link.ExpiresAt.Format(time.RFC3339))
	return nil
}

func userCreate(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	name := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	var email string
	var passwordStdin, admin bool
	cfg, rest, err := config.Load("wharf user create NAME", config.OpenSettings(), args, getenv, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", "email address of the account")
		fs.BoolVar(&passwordStdin, "password-stdin", false, "read the password from standard input")
		fs.BoolVar(&admin, "admin", false, "make the account a site administrator")
	})
	if err != nil {
		return err
	}
	if name == "" && len(rest) == 1 {
		name, rest = rest[0], nil
	}
	if name == "" || len(rest) > 0 {
		return errors.New("usage: wharf user create NAME --email E --password-stdin [--admin] --data-dir DIR")
	}
	if !passwordStdin {
		return errors.New("user create: --password-stdin is required (passwords are never taken as arguments)")
	}
	pw, err := io.ReadAll(io.LimitReader(stdin, 4096))
	if err != nil {
		return fmt.Errorf("read password: %w", err)
	}
	password := strings.TrimRight(string(pw), "\r\n")
	app, ctx, err := openAdmin(ctx, cfg, stderr, "user create")
	if err != nil {
		return err
	}
	defer app.Close()
	u, err := app.Accounts.CreateUser(ctx, name, email, password, admin)
	if err != nil {
		return fmt.Errorf("user create %s: %w", name, err)
	}
	fmt.Fprintf(stdout, "created user %s (id %d)\n", u.Username, u.ID)
	return nil
}

func searchCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "reindex" {
		return errors.New("usage: wharf search reindex --data-dir DIR")
	}
	cfg, rest, err := config.Load("wharf search reindex", config.OpenSettings(), args[1:], getenv, stderr, nil)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("search reindex: unexpected arguments %q", rest)
	}
	app, ctx, err := openAdmin(ctx, cfg, stderr, "search reindex")
	if err != nil {
		return err
	}
	defer app.Close()
	n, err := app.Reindex(ctx)
	if err != nil {
		return fmt.Errorf("search reindex: %w", err)
	}
	fmt.Fprintf(stdout, "indexed %d repositories\n", n)
	return nil
}
