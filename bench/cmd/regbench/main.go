package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"
)

var workloads = []string{"push", "image", "pull", "manifest_get", "manifest_head", "blob_head"}

type config struct {
	registry   *url.URL
	user, pass string
	auth       string // authToken or authBasic
	repo, tag  string
	blobSize   int64
	seed       uint64
	conc       int
	duration   time.Duration
	requests   int64
	wait       time.Duration
	opTimeout  time.Duration
	only       map[string]bool
	readonly   bool   // the image exists already: push nothing, check nothing first
	prefix     string // put before every result name
	pulls      int    // times to pull the blob; the median is reported
}

func main() {
	var (
		cfg      config
		registry = flag.String("registry", "", "registry base URL, e.g. http://127.0.0.1:5000 (loopback only)")
		only     = flag.String("only", "all", "comma-separated workloads: "+strings.Join(workloads, ",")+", or 'ping' to only wait for the registry")
		freePort = flag.Bool("free-port", false, "print a free loopback TCP port and exit (helper for scripts)")
		results  = flag.String("results", "", "also append RESULT lines to this file")
		tokInfo  = flag.String("token-info", "", "helper for scripts: treat -registry as a token server, save its JWKS "+
			"(/.well-known/jwks.json) to this file, print realm=, service= and issuer= lines and exit")
	)
	flag.StringVar(&cfg.user, "user", "", "username for Basic auth / token requests")
	flag.StringVar(&cfg.pass, "pass", "", "password for Basic auth / token requests")
	flag.StringVar(&cfg.auth, "auth", authToken, "how to authenticate to the registry: "+
		"'token' (as docker: Bearer tokens from the challenged realm, cached per scope; the registry never sees Basic credentials) "+
		"or 'basic' (Basic credentials on every request; a Bearer challenge still gets a token)")
	flag.StringVar(&cfg.repo, "repo", "", "repository to use (default <user>/regbench, or bench/regbench)")
	flag.StringVar(&cfg.tag, "tag", "bench", "tag for the pushed manifest")
	flag.Int64Var(&cfg.blobSize, "blob-size", 512<<20, "size in bytes of the big blob to push and pull")
	flag.Uint64Var(&cfg.seed, "seed", 1, "seed for the blob content generator")
	flag.IntVar(&cfg.conc, "c", 16, "concurrency for the request-rate tests")
	flag.DurationVar(&cfg.duration, "duration", 10*time.Second, "length of each request-rate test")
	flag.Int64Var(&cfg.requests, "requests", 0, "if > 0, run each request-rate test for this many requests instead of -duration")
	flag.DurationVar(&cfg.wait, "wait", 0, "keep retrying the initial GET /v2/ for up to this long (registry start-up)")
	flag.DurationVar(&cfg.opTimeout, "op-timeout", 10*time.Minute, "hard limit for each workload")
	flag.BoolVar(&cfg.readonly, "readonly", false, "the image repo:tag (pushed with the same -seed and -blob-size) exists "+
		"already: push nothing and ask for nothing before the timed pull, so the first request a mirror sees for "+
		"the blob is the timed GET; the manifest tests compare with the manifest as first fetched")
	flag.StringVar(&cfg.prefix, "prefix", "", "put this before every result name (e.g. cold_)")
	flag.IntVar(&cfg.pulls, "pulls", 1, "pull the blob this many times and report the median")
	flag.Parse()

	if *freePort {
		p, err := pickFreePort()
		if err != nil {
			fatal(err)
		}
		fmt.Println(p)
		return
	}
	if *tokInfo != "" {
		if err := cfg.validate(*registry, "ping"); err != nil {
			fatal(err)
		}
		if err := tokenInfo(cfg, *tokInfo, os.Stdout); err != nil {
			fatal(err)
		}
		return
	}
	if err := cfg.validate(*registry, *only); err != nil {
		fmt.Fprintln(os.Stderr, "regbench:", err)
		flag.Usage()
		os.Exit(2)
	}
	if *results != "" {
		f, err := os.OpenFile(*results, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			fatal(err)
		}
		defer f.Close()
		out = io.MultiWriter(os.Stdout, f)
	}
	if err := run(cfg); err != nil {
		fatal(err)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "regbench: error:", err)
	os.Exit(1)
}

func (cfg *config) validate(registry, only string) error {
	if registry == "" {
		return errors.New("-registry is required")
	}
	u, err := url.Parse(strings.TrimSuffix(registry, "/"))
	if err != nil {
		return fmt.Errorf("-registry: %w", err)
	}
	if err := checkLoopback(u); err != nil {
		return fmt.Errorf("-registry: %w (regbench only targets local test registries)", err)
	}
	cfg.registry = u
	switch cfg.auth {
	case "":
		cfg.auth = authToken
	case authToken, authBasic:
	default:
		return fmt.Errorf("-auth: want %q or %q, not %q", authToken, authBasic, cfg.auth)
	}
	if cfg.repo == "" {
		cfg.repo = "bench/regbench"
		if cfg.user != "" {
			cfg.repo = strings.ToLower(cfg.user) + "/regbench"
		}
	}
	if cfg.blobSize <= 0 || cfg.conc <= 0 || cfg.conc > 1024 || cfg.duration <= 0 || cfg.requests < 0 {
		return errors.New("-blob-size, -c (1..1024) and -duration must be positive")
	}
	if cfg.pulls == 0 {
		cfg.pulls = 1
	}
	if cfg.pulls < 1 || cfg.pulls > 100 {
		return errors.New("-pulls must be 1..100")
	}
	cfg.only = map[string]bool{}
	for _, w := range strings.Split(only, ",") {
		switch w = strings.TrimSpace(w); {
		case w == "all":
			for _, x := range workloads {
				cfg.only[x] = true
			}
		case w == "ping":
			cfg.only[w] = true
		case slices.Contains(workloads, w):
			cfg.only[w] = true
		default:
			return fmt.Errorf("-only: unknown workload %q", w)
		}
		if cfg.readonly && (w == "push" || w == "image") {
			return fmt.Errorf("-only %s: -readonly pushes nothing", w)
		}
	}
	if cfg.readonly {
		delete(cfg.only, "push") // from "all"
		delete(cfg.only, "image")
	}
	return nil
}

func pickFreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// out receives RESULT lines; a variable so tests can capture them.
var out io.Writer = os.Stdout

// resultPrefix is -prefix.
var resultPrefix string

func result(name string, value float64, unit string, extra ...string) {
	line := fmt.Sprintf("RESULT name=%s%s value=%.3f unit=%s", resultPrefix, name, value, unit)
	for _, e := range extra {
		line += " " + e
	}
	fmt.Fprintln(out, line)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "regbench: "+format+"\n", args...)
}

// sizeLabel gives the blob size a short, exact name (512MiB, 2GiB, 1000B)
// used in result names so runs with different sizes never get compared.
func sizeLabel(n int64) string {
	switch {
	case n%(1<<30) == 0:
		return fmt.Sprintf("%dGiB", n>>30)
	case n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	case n%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

func mibps(n int64, d time.Duration) float64 { return float64(n) / (1 << 20) / d.Seconds() }

func run(cfg config) error {
	resultPrefix = cfg.prefix
	c := newClient(cfg.registry, cfg.user, cfg.pass, cfg.auth, cfg.conc)
	if err := ping(c, cfg.wait); err != nil {
		return err
	}
	if len(cfg.only) == 1 && cfg.only["ping"] {
		return nil
	}
	if err := runWorkloads(cfg, c); err != nil {
		return err
	}
	// How often auth cost a round trip outside the measured request: with
	// tokens cached per scope this stays at one fetch per scope and no 401s
	// whatever the number of requests.
	result("token_fetches", float64(c.tokenFetches.Load()), "count", "auth="+cfg.auth)
	result("auth_401s", float64(c.challenged.Load()), "count", "auth="+cfg.auth)
	return nil
}

func runWorkloads(cfg config, c *client) error {
	bg := context.Background()
	label := sizeLabel(cfg.blobSize)

	t0 := time.Now()
	digest := blobDigest(cfg.seed, cfg.blobSize)
	logf("blob %s: %s (hashed locally in %.2fs)", label, digest, time.Since(t0).Seconds())

	if cfg.only["push"] {
		ctx, cancel := context.WithTimeout(bg, cfg.opTimeout)
		if err := c.prepare(ctx, http.MethodPost, c.url("/v2/"+cfg.repo+"/blobs/uploads/")); err != nil {
			cancel()
			return fmt.Errorf("push: %w", err)
		}
		t0 := time.Now()
		err := c.pushBlob(ctx, cfg.repo, digest, cfg.blobSize, func() io.Reader { return newPRNG(cfg.seed, cfg.blobSize) })
		d := time.Since(t0)
		cancel()
		if err != nil {
			return fmt.Errorf("push: %w", err)
		}
		result("push_"+label, mibps(cfg.blobSize, d), "MiB/s", fmt.Sprintf("bytes=%d", cfg.blobSize), fmt.Sprintf("seconds=%.3f", d.Seconds()))
	}

	needBlob := cfg.only["pull"] || cfg.only["image"] || cfg.only["manifest_get"] || cfg.only["manifest_head"] || cfg.only["blob_head"]
	if needBlob && !cfg.only["push"] && !cfg.readonly {
		ok, err := c.blobExists(bg, cfg.repo, digest)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("blob %s not in %s; run with the push workload first", digest, cfg.repo)
		}
	}

	if cfg.only["pull"] {
		if err := pullTest(cfg, c, digest, label); err != nil {
			return err
		}
	}

	manifestTests := cfg.only["manifest_get"] || cfg.only["manifest_head"] || cfg.only["blob_head"]
	if !cfg.only["image"] && !manifestTests {
		return nil
	}
	man, err := theImage(cfg, c, descriptor{MediaType: mtLayer, Digest: digest, Size: cfg.blobSize})
	if err != nil {
		return err
	}

	tests := []struct {
		name  string
		newOp func() func(context.Context) error
	}{
		{"manifest_get", c.manifestGetOp(cfg.repo, cfg.tag, man)},
		{"manifest_head", c.headOp("HEAD manifest", "/v2/"+cfg.repo+"/manifests/"+cfg.tag, manifestAccept, int64(len(man)))},
		{"blob_head", c.headOp("HEAD blob", "/v2/"+cfg.repo+"/blobs/"+digest, "", cfg.blobSize)},
	}
	for _, t := range tests {
		if !cfg.only[t.name] {
			continue
		}
		if err := rateTest(cfg, t.name, t.newOp); err != nil {
			return err
		}
	}
	return nil
}

// pullTest GETs the big blob -pulls times and reports the median.
func pullTest(cfg config, c *client, digest, label string) error {
	ctx, cancel := context.WithTimeout(context.Background(), cfg.opTimeout)
	defer cancel()
	if err := c.prepare(ctx, http.MethodGet, c.url("/v2/"+cfg.repo+"/blobs/"+digest)); err != nil {
		return fmt.Errorf("pull: %w", err)
	}
	var times, firsts []time.Duration
	var n int64
	for range cfg.pulls {
		t0 := time.Now()
		var first time.Duration
		got, err := c.pullBlob(ctx, cfg.repo, digest, func() { first = time.Since(t0) })
		d := time.Since(t0)
		if err != nil {
			return fmt.Errorf("pull: %w", err)
		}
		n = got
		times, firsts = append(times, d), append(firsts, first)
		logf("pulled %s in %.3fs (%.1f MiB/s; first byte after %.1f ms)", label, d.Seconds(), mibps(n, d), ms(first))
	}
	slices.Sort(times)
	slices.Sort(firsts)
	d := times[len(times)/2]
	result("pull_"+label, mibps(n, d), "MiB/s", fmt.Sprintf("bytes=%d", n), fmt.Sprintf("seconds=%.3f", d.Seconds()),
		fmt.Sprintf("pulls=%d", len(times)))
	// A registry that streams what it fetches answers at once; one that
	// downloads and then serves answers after the whole blob.
	result("pull_"+label+"_first_byte", ms(firsts[len(firsts)/2]), "ms")
	return nil
}

// theImage pushes the image (a small config and a manifest with the big
// blob as its layer) tagged -tag and returns the manifest's bytes; with
// -readonly it fetches them instead, and checks that the manifest holds
// the blob.
func theImage(cfg config, c *client, layer descriptor) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), cfg.opTimeout)
	defer cancel()
	if !cfg.readonly {
		man, err := c.pushImage(ctx, cfg.repo, cfg.tag, layer)
		if err != nil {
			return nil, fmt.Errorf("push image: %w", err)
		}
		logf("pushed manifest %s:%s (%d bytes)", cfg.repo, cfg.tag, len(man))
		return man, nil
	}
	man, err := c.getManifest(ctx, cfg.repo, cfg.tag)
	if err != nil {
		return nil, err
	}
	var m struct {
		Layers []descriptor `json:"layers"`
	}
	if err := json.Unmarshal(man, &m); err != nil || len(m.Layers) != 1 || m.Layers[0] != layer {
		return nil, fmt.Errorf("manifest %s:%s is not the image regbench pushes with -seed %d -blob-size %d", cfg.repo, cfg.tag, cfg.seed, cfg.blobSize)
	}
	logf("fetched manifest %s:%s (%d bytes)", cfg.repo, cfg.tag, len(man))
	return man, nil
}

// rateTest warms up (one request, which also settles any token exchange),
// runs the load and prints rps and latency percentiles.
func rateTest(cfg config, name string, newOp func() func(context.Context) error) error {
	if err := newOp()(context.Background()); err != nil {
		return fmt.Errorf("%s warm-up: %w", name, err)
	}
	limit := cfg.opTimeout
	if cfg.requests == 0 {
		limit = cfg.duration + time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	r := runLoad(ctx, cfg.conc, cfg.duration, cfg.requests, newOp)
	if r.errors > 0 {
		logf("%s: %d of %d requests failed; first error: %v", name, r.errors, r.errors+r.ok, r.firstErr)
	}
	if r.ok == 0 {
		return fmt.Errorf("%s: no successful requests", name)
	}
	extra := []string{fmt.Sprintf("requests=%d", r.ok), fmt.Sprintf("errors=%d", r.errors), fmt.Sprintf("c=%d", cfg.conc)}
	result(name+"_rps", r.rps(), "req/s", extra...)
	result(name+"_p50", ms(r.percentile(50)), "ms")
	result(name+"_p99", ms(r.percentile(99)), "ms")
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// ping does GET /v2/, retrying connection errors for up to wait so scripts
// can use it as a readiness probe. Any HTTP status (200, or 401 from an
// authenticating registry) means the server is up, so no token is fetched;
// a Bearer challenge is remembered as the token realm (token mode).
func ping(c *client, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		resp, err := c.send(ctx, request{method: http.MethodGet, url: c.url("/v2/")}, "")
		cancel()
		if err == nil {
			drain(resp)
			c.setPing(resp)
			logf("GET /v2/: %s", resp.Status)
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("registry not reachable: %w", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
