package mirrortest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// DistributionEnv names the environment variable that holds the path to
// CNCF Distribution's registry binary; scripts/distribution.sh sets it.
const DistributionEnv = "WHARF_DISTRIBUTION"

// DistributionBinary returns $WHARF_DISTRIBUTION, the path to CNCF
// Distribution's registry binary, or skips the test when it is not set. A
// relative path is taken from the current directory or else from the
// module root (the nearest directory above with a go.mod).
func DistributionBinary(t testing.TB) string {
	t.Helper()
	bin := os.Getenv(DistributionEnv)
	if bin == "" {
		t.Skipf("%s is not set; run under scripts/distribution.sh (e.g. scripts/distribution.sh go test ./server/mirror/...) to test against CNCF Distribution", DistributionEnv)
	}
	bin = resolveBinary(bin)
	if fi, err := os.Stat(bin); err != nil || fi.IsDir() {
		t.Fatalf("%s=%s is not a registry binary (%v); run under scripts/distribution.sh", DistributionEnv, bin, err)
	}
	return bin
}

// resolveBinary makes a relative path absolute. go test runs a test in
// its package's directory, so a path relative to the module root (as in
// WHARF_DISTRIBUTION=.cache/bin/registry go test ./...) is looked for
// there too.
func resolveBinary(bin string) string {
	if filepath.IsAbs(bin) {
		return bin
	}
	abs, err := filepath.Abs(bin)
	if err != nil {
		return bin
	}
	if _, err := os.Stat(abs); err == nil {
		return abs
	}
	for dir := filepath.Dir(abs); ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, bin)
		}
		if filepath.Dir(dir) == dir {
			return abs
		}
	}
}

// StartDistribution runs CNCF Distribution's registry binary bin with
// filesystem storage (deletes enabled) in a temporary directory on a free
// loopback port, and returns its base URL, "http://127.0.0.1:PORT". With
// user and password non-empty it requires Basic auth with them (htpasswd,
// realm "mirrortest"). It returns once GET /v2/ answers 200 or 401; the
// registry is stopped when the test ends.
func StartDistribution(t testing.TB, bin, user, password string) string {
	t.Helper()
	if (user == "") != (password == "") {
		t.Fatalf("mirrortest.StartDistribution: give both user and password, or neither")
	}
	dir := t.TempDir()
	auth := ""
	if user != "" {
		if strings.ContainsAny(user, ":\n") {
			t.Fatalf("mirrortest.StartDistribution: user %q cannot be in an htpasswd file", user)
		}
		hash, err := bcrypt.GenerateFromPassword([]byte(password), 5)
		if err != nil {
			t.Fatalf("mirrortest.StartDistribution: bcrypt: %v", err)
		}
		htpasswd := filepath.Join(dir, "htpasswd")
		if err := os.WriteFile(htpasswd, []byte(user+":"+string(hash)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		auth = "auth:\n  htpasswd:\n    realm: mirrortest\n    path: " + strconv.Quote(htpasswd) + "\n"
	}
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	secret := make([]byte, 16)
	rand.Read(secret)

	// A port picked by listening on :0 may be taken again before the
	// registry binds it; try a few.
	var lastErr error
	for range 3 {
		port, err := freePort()
		if err != nil {
			t.Fatalf("mirrortest.StartDistribution: %v", err)
		}
		addr := "127.0.0.1:" + strconv.Itoa(port)
		cfg := "version: 0.1\n" +
			"log:\n  level: error\n  accesslog:\n    disabled: true\n" +
			"storage:\n  filesystem:\n    rootdirectory: " + strconv.Quote(data) + "\n" +
			"  delete:\n    enabled: true\n" +
			"  maintenance:\n    uploadpurging:\n      enabled: false\n" +
			"http:\n  addr: " + addr + "\n  secret: " + hex.EncodeToString(secret) + "\n" +
			auth
		cfgPath := filepath.Join(dir, "config.yml")
		if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		base := "http://" + addr
		lastErr = startRegistry(t, bin, cfgPath, filepath.Join(dir, "registry-"+strconv.Itoa(port)+".log"), base)
		if lastErr == nil {
			return base
		}
		if !errors.Is(lastErr, errExited) || !strings.Contains(lastErr.Error(), "address already in use") {
			break
		}
	}
	t.Fatalf("mirrortest.StartDistribution: %v", lastErr)
	return ""
}

var errExited = errors.New("registry exited")

// startRegistry starts bin serving cfgPath and waits until base/v2/
// answers. On success it registers the registry's stopping with t.Cleanup;
// on failure the registry is stopped and the error includes its log.
func startRegistry(t testing.TB, bin, cfgPath, logPath, base string) error {
	logf, err := os.Create(logPath)
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, "serve", cfgPath)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Distribution 3 exports OpenTelemetry traces to localhost:4318 unless
	// told not to.
	cmd.Env = append(os.Environ(), "OTEL_SDK_DISABLED=true", "OTEL_TRACES_EXPORTER=none",
		"OTEL_METRICS_EXPORTER=none", "OTEL_LOGS_EXPORTER=none")
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", bin, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait(); logf.Close() }()
	stop := func() {
		cmd.Process.Kill()
		<-done
	}
	readLog := func() string {
		b, _ := os.ReadFile(logPath)
		return strings.TrimSpace(string(b))
	}

	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-done:
			return fmt.Errorf("%w (%v) before answering on %s; log:\n%s", errExited, err, base, readLog())
		default:
		}
		resp, err := client.Get(base + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				t.Cleanup(stop)
				return nil
			}
			err = fmt.Errorf("GET /v2/: %s", resp.Status)
		}
		if time.Now().After(deadline) {
			stop()
			return fmt.Errorf("registry at %s not ready after 30s (%v); log:\n%s", base, err, readLog())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
