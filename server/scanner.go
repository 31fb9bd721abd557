package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os/exec"

	"github.com/wharfhub/wharf/server/auth"
	"github.com/wharfhub/wharf/server/config"
	"github.com/wharfhub/wharf/server/scan"
)

// findScanner finds the scanner: --scanner-trivy, which must work, or
// trivy on PATH, if there is one. Without one, scanning is off.
func findScanner(ctx context.Context, cfg *config.Config, log *slog.Logger) (scan.Scanner, error) {
	path := cfg.Scanner.Trivy
	if path == "" {
		if _, err := exec.LookPath("trivy"); err != nil {
			log.Info("scanner: no trivy on PATH and no --scanner-trivy: images are not scanned")
			return nil, nil
		}
	}
	t, err := scan.NewTrivy(ctx, path)
	if err != nil {
		return nil, err
	}
	log.Info("scanner: images are scanned on push", "scanner", t.Name())
	return t, nil
}

// newScan makes the scan service; its jobs run on the job worker (see
// newTrust), against this replica's own listener.
func newScan(a *App, scanner scan.Scanner) *scan.Service {
	return scan.New(scan.Config{DB: a.DB, Store: a.Store, Content: a.Content, Scanner: scanner, Log: a.Log,
		DataDir: a.Config.DataDir, Target: a.scanTarget,
		Wake: func() {
			if a.Jobs != nil {
				a.Jobs.Wake()
			}
		}})
}

// scanTarget is where the scanner pulls an image: this replica's own
// listener, with a token that pulls only that repository.
func (a *App) scanTarget(_ context.Context, repository, digest string) (scan.Target, error) {
	addr, _ := a.serving.Load().(net.Addr)
	if addr == nil {
		return scan.Target{}, errors.New("scanner: the server is not listening yet")
	}
	if a.Tokens == nil {
		return scan.Target{}, errors.New("scanner: no token service (no base URL)")
	}
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return scan.Target{}, err
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
		if ip != nil && ip.To4() == nil {
			host = "::1"
		}
	}
	tok, err := a.Tokens.IssueScanner(repository, auth.TokenTTL)
	if err != nil {
		return scan.Target{}, err
	}
	return scan.Target{Reference: net.JoinHostPort(host, port) + "/" + repository + "@" + digest, Token: tok,
		Insecure: a.tls != nil}, nil
}
