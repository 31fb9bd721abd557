package scan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Scanner finds the known vulnerabilities of an image.
type Scanner interface {
	// Name is the scanner and its version, as results record them.
	Name() string
	// Scan scans the image t with the vulnerability database in dbDir,
	// and, if sbom is set, also returns a CycloneDX SBOM of it.
	Scan(ctx context.Context, t Target, dbDir string, sbom bool) (*Report, error)
}

// Target is an image a scanner pulls from Wharf.
type Target struct {
	// Reference is host:port/repository@digest.
	Reference string
	// Token is a registry token that may pull only this repository, for
	// a few minutes.
	Token string
	// Insecure skips TLS verification (Wharf's own loopback address,
	// which its certificate does not name).
	Insecure bool
}

// Limits of what is read from the scanner.
const (
	maxReport = 64 << 20
	maxSBOM   = 32 << 20
	// ScanTimeout bounds one run of the scanner.
	ScanTimeout = 5 * time.Minute
)

// Trivy runs the trivy binary: `trivy image` against the registry,
// offline, with the database it is given, and `trivy convert` for the
// SBOM. Trivy is never linked in.
type Trivy struct {
	path    string
	version string
}

// NewTrivy finds trivy (path, or "trivy" on PATH) and asks its version.
func NewTrivy(ctx context.Context, path string) (*Trivy, error) {
	if path == "" {
		path = "trivy"
	}
	p, err := exec.LookPath(path)
	if err != nil {
		return nil, fmt.Errorf("scanner-trivy: %w", err)
	}
	t := &Trivy{path: p}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := t.command(ctx, "", "version", "--format", "json").Output()
	if err != nil {
		return nil, fmt.Errorf("scanner-trivy: %s version: %w", p, err)
	}
	var v struct{ Version string }
	if json.Unmarshal(out, &v) != nil || v.Version == "" {
		v.Version = "unknown"
	}
	t.version = v.Version
	return t, nil
}

// Name is "trivy" and its version.
func (t *Trivy) Name() string { return "trivy " + t.version }

// command makes a trivy run that cannot outlive Wharf (it dies with the
// process that started it) and sees only what it needs of the
// environment: no proxies, no credentials of Wharf's own.
func (t *Trivy) command(ctx context.Context, home string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, t.path, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	env := []string{"PATH=" + os.Getenv("PATH"), "TRIVY_NO_PROGRESS=true", "TRIVY_DISABLE_TELEMETRY=true"}
	if home != "" {
		env = append(env, "HOME="+home, "TMPDIR="+home, "XDG_CACHE_HOME="+filepath.Join(home, "cache"))
	}
	cmd.Env = env
	return cmd
}

// Scan runs `trivy image` on t.
func (t *Trivy) Scan(ctx context.Context, target Target, dbDir string, sbom bool) (*Report, error) {
	ctx, cancel := context.WithTimeout(ctx, ScanTimeout)
	defer cancel()
	work, err := os.MkdirTemp("", "wharf-scan-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	report := filepath.Join(work, "report.json")
	args := []string{"image", "--quiet", "--format", "json", "--output", report,
		"--cache-dir", dbDir, "--cache-backend", "memory",
		"--skip-db-update", "--skip-java-db-update", "--offline-scan", "--skip-version-check",
		"--image-src", "remote", "--scanners", "vuln", "--list-all-pkgs", "--timeout", ScanTimeout.String()}
	if target.Insecure {
		args = append(args, "--insecure")
	}
	cmd := t.command(ctx, work, append(args, target.Reference)...)
	cmd.Env = append(cmd.Env, "TRIVY_REGISTRY_TOKEN="+target.Token)
	if err := run(ctx, cmd); err != nil {
		return nil, err
	}
	b, err := readBounded(report, maxReport)
	if err != nil {
		return nil, fmt.Errorf("trivy report: %w", err)
	}
	findings, packages, err := parseTrivyReport(b)
	if err != nil {
		return nil, err
	}
	r := &Report{Findings: findings, Packages: packages}
	if !sbom {
		return r, nil
	}
	out := filepath.Join(work, "sbom.json")
	if err := run(ctx, t.command(ctx, work, "convert", "--quiet", "--format", "cyclonedx", "--output", out, report)); err != nil {
		return nil, fmt.Errorf("sbom: %w", err)
	}
	if r.SBOM, err = readBounded(out, maxSBOM); err != nil {
		return nil, fmt.Errorf("sbom: %w", err)
	}
	return r, nil
}

// run runs cmd, and on failure says why with the end of its stderr.
func run(ctx context.Context, cmd *exec.Cmd) error {
	var stderr tail
	cmd.Stderr = &stderr
	err := cmd.Run()
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("trivy: %w", ctx.Err())
	}
	msg := strings.TrimSpace(string(stderr.b))
	var ee *exec.ExitError
	if errors.As(err, &ee) && msg != "" {
		return fmt.Errorf("trivy failed (%s): %s", ee.ProcessState, msg)
	}
	return fmt.Errorf("trivy: %w", err)
}

// tail keeps the last bytes written to it: where a failing run says why.
type tail struct{ b []byte }

func (t *tail) Write(p []byte) (int, error) {
	const keep = 1 << 10
	t.b = append(t.b, p...)
	if len(t.b) > keep {
		t.b = append(t.b[:0], t.b[len(t.b)-keep:]...)
	}
	return len(p), nil
}

func readBounded(path string, limit int64) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Size() > limit {
		return nil, fmt.Errorf("%s is %d bytes, more than the %d read", filepath.Base(path), fi.Size(), limit)
	}
	return os.ReadFile(path)
}
