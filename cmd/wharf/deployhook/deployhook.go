package deployhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/go-playground/webhooks/v6/docker"

	"github.com/wharfhub/wharf/server/webhook/signature"
)

const (
	// MaxBody is the largest delivery body accepted.
	MaxBody = 1 << 20
	// DefaultTimeout bounds one run of the command when Config.Timeout is 0.
	DefaultTimeout = 10 * time.Minute
	// CallbackContext is the "context" of every callback.
	CallbackContext = "wharf deploy-hook"

	headerEvent    = "X-Wharf-Event"
	headerDelivery = "X-Wharf-Delivery"

	outputTail      = 4 << 10
	maxQueue        = 64
	callbackTimeout = 10 * time.Second
	callbackTries   = 3
)

// Config configures a Handler.
type Config struct {
	// Listen is the address Run serves on.
	Listen string
	// Secret is the webhook's secret; deliveries must carry a valid
	// X-Wharf-Signature made with it. Required.
	Secret string
	// Tolerance is how far a delivery's signed time may be from this
	// machine's clock, either way (signature.DefaultTolerance, 5 minutes,
	// if 0). Accepted delivery ids are remembered at least this long, and
	// a repeat is refused with 409.
	Tolerance time.Duration
	// AllowLegacySignature also accepts deliveries that carry only
	// X-Hub-Signature-256, from senders older than X-Wharf-Signature. That
	// signs the body alone: such a delivery can be replayed, and its
	// unsigned X-Wharf-Event is believed (a missing one means push). Off by
	// default; a delivery with an X-Wharf-Signature is always held to it.
	AllowLegacySignature bool
	// Run is a command line run with /bin/sh -c for each matching push.
	Run string
	// Repo, if set, is the only repository ("ns/name", exact) acted on.
	Repo string
	// Tag, if set, is a path.Match glob the pushed tag must match.
	Tag string
	// Timeout bounds one run of the command (DefaultTimeout if 0).
	Timeout time.Duration
	// Logger receives the handler's logs (slog.Default() if nil).
	Logger *slog.Logger
}

// Handler is the webhook receiver; it is an http.Handler.
type Handler struct {
	cfg    Config
	log    *slog.Logger
	parser *docker.Webhook
	client *http.Client
	shell  string           // "/bin/sh"; tests change it
	now    func() time.Time // time.Now; tests change it
	seen   *remembered      // delivery ids accepted within the tolerance

	// base is the parent of every command's context; cancelling it kills
	// a running command (Shutdown does when its context ends first).
	base   context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	queue   []job
	running bool // a worker goroutine is draining the queue
	closed  bool
	wg      sync.WaitGroup // the worker and callbacks in flight
}

// job is one push to deploy.
type job struct {
	delivery    string
	repo        string
	tag         string
	digest      string
	pusher      string
	callbackURL string
}

// New checks cfg and returns a Handler.
func New(cfg Config) (*Handler, error) {
	if cfg.Secret == "" {
		return nil, errors.New("deployhook: a secret is required")
	}
	if strings.TrimSpace(cfg.Run) == "" {
		return nil, errors.New("deployhook: a command to run is required")
	}
	if cfg.Tag != "" {
		if _, err := path.Match(cfg.Tag, ""); err != nil {
			return nil, fmt.Errorf("deployhook: tag glob %q: %w", cfg.Tag, err)
		}
	}
	if cfg.Repo != "" && (strings.Count(cfg.Repo, "/") < 1 || strings.HasPrefix(cfg.Repo, "/") || strings.HasSuffix(cfg.Repo, "/")) {
		return nil, fmt.Errorf("deployhook: repo %q must be NAMESPACE/NAME", cfg.Repo)
	}
	if cfg.Timeout < 0 {
		return nil, errors.New("deployhook: timeout must not be negative")
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Tolerance < 0 {
		return nil, errors.New("deployhook: the signature tolerance must not be negative")
	}
	if cfg.Tolerance == 0 {
		cfg.Tolerance = signature.DefaultTolerance
	}
	if cfg.Tolerance < time.Second {
		return nil, errors.New("deployhook: the signature tolerance must be at least 1s")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	parser, err := docker.New()
	if err != nil {
		return nil, err
	}
	base, cancel := context.WithCancel(context.Background())
	return &Handler{
		cfg:    cfg,
		log:    log,
		parser: parser,
		client: &http.Client{
			Timeout: callbackTimeout,
			// A redirected POST would turn into a GET; report the 3xx instead.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		shell:  "/bin/sh",
		now:    time.Now,
		seen:   newRemembered(cfg.Tolerance, maxRemembered),
		base:   base,
		cancel: cancel,
	}, nil
}

// extra holds what the go-playground payload type does not: Wharf's digest
// and the action of a delete event.
type extra struct {
	Action   string `json:"action"`
	PushData struct {
		Digest string `json:"digest"`
	} `json:"push_data"`
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		answer(w, http.StatusMethodNotAllowed, "only POST")
		return
	}
	delivery := r.Header.Get(headerDelivery)
	log := h.log.With("delivery", delivery, "remote", r.RemoteAddr)
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			log.Warn("delivery refused: body too large")
			answer(w, http.StatusRequestEntityTooLarge, "body too large")
			return
		}
		answer(w, http.StatusBadRequest, "cannot read body")
		return
	}
	ev, code, msg := h.authenticate(r, delivery, body)
	if code != 0 {
		log.Warn("delivery refused", "status", code, "reason", msg)
		answer(w, code, msg)
		return
	}
	if ev != "push" {
		log.Info("delivery ignored", "event", ev)
		answer(w, http.StatusAccepted, "ignored: event "+ev)
		return
	}
	// The parser reads the body itself; give it the bytes already read.
	r.Body = io.NopCloser(bytes.NewReader(body))
	parsed, err := h.parser.Parse(r, docker.BuildEvent)
	if err != nil {
		log.Warn("delivery refused: cannot parse payload", "err", err)
		answer(w, http.StatusBadRequest, "cannot parse payload: "+err.Error())
		return
	}
	pl, ok := parsed.(docker.BuildPayload)
	if !ok {
		answer(w, http.StatusBadRequest, fmt.Sprintf("unexpected payload %T", parsed))
		return
	}
	var ex extra
	if err := json.Unmarshal(body, &ex); err != nil {
		answer(w, http.StatusBadRequest, "cannot parse payload")
		return
	}
	if ex.Action != "" && ex.Action != "push" && ex.Action != "pushed" {
		log.Info("delivery ignored", "action", ex.Action)
		answer(w, http.StatusAccepted, "ignored: action "+ex.Action)
		return
	}
	repo := pl.Repository.RepoName
	if repo == "" && pl.Repository.Namespace != "" && pl.Repository.Name != "" {
		repo = pl.Repository.Namespace + "/" + pl.Repository.Name
	}
	j := job{
		delivery:    delivery,
		repo:        repo,
		tag:         pl.PushData.Tag,
		digest:      ex.PushData.Digest,
		pusher:      pl.PushData.Pusher,
		callbackURL: pl.CallbackURL,
	}
	log = log.With("repo", j.repo, "tag", j.tag, "digest", j.digest)
	if reason := h.mismatch(j); reason != "" {
		log.Info("push ignored", "reason", reason)
		answer(w, http.StatusAccepted, "ignored: "+reason)
		return
	}
	if err := h.enqueue(j); err != nil {
		// Not taken: the sender's retry (same id) must not be a replay.
		h.seen.forget(delivery)
		log.Warn("push refused", "err", err)
		answer(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	log.Info("push queued")
	answer(w, http.StatusAccepted, "queued")
}

func answer(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
}

// authenticate checks the delivery's signature and remembers its id, and
// returns its event, taken only from signed data. A non-zero code refuses
// the delivery with msg.
//
// A delivery with X-Wharf-Signature must verify against its X-Wharf-Delivery,
// X-Wharf-Event and body, be signed within the tolerance, and not repeat an
// id accepted before (409). One with only X-Hub-Signature-256 is refused
// unless Config.AllowLegacySignature.
func (h *Handler) authenticate(r *http.Request, delivery string, body []byte) (event string, code int, msg string) {
	sigs := r.Header.Values(signature.Header)
	switch {
	case len(sigs) > 1:
		return "", http.StatusUnauthorized, "more than one " + signature.Header
	case len(sigs) == 1:
		event = r.Header.Get(headerEvent)
		now := h.now()
		signedAt, err := signature.Verify(h.cfg.Secret, sigs[0], delivery, event, body, now, h.cfg.Tolerance)
		if err != nil {
			return "", http.StatusUnauthorized, err.Error()
		}
		switch err := h.seen.add(delivery, signedAt, now); {
		case errors.Is(err, errReplay):
			return "", http.StatusConflict, fmt.Sprintf("delivery %s already received: not run again", delivery)
		case err != nil:
			return "", http.StatusServiceUnavailable, err.Error()
		}
		return event, 0, ""
	case !h.cfg.AllowLegacySignature:
		if r.Header.Get(signature.HubHeader) != "" {
			return "", http.StatusUnauthorized, "missing " + signature.Header + ": " + signature.HubHeader +
				" alone can be replayed; upgrade the sender, or start deploy-hook with --allow-legacy-signature"
		}
		return "", http.StatusUnauthorized, "missing " + signature.Header
	case !signature.VerifyHub(h.cfg.Secret, body, r.Header.Get(signature.HubHeader)):
		return "", http.StatusUnauthorized, "missing or bad " + signature.Header + " or " + signature.HubHeader
	}
	// A legacy delivery: nothing but the body is signed.
	if event = r.Header.Get(headerEvent); event == "" {
		event = "push"
	}
	return event, 0, ""
}

// mismatch says why a push does not match the filters, or "" if it does.
func (h *Handler) mismatch(j job) string {
	if h.cfg.Repo != "" && j.repo != h.cfg.Repo {
		return fmt.Sprintf("repository %q is not %q", j.repo, h.cfg.Repo)
	}
	if h.cfg.Tag != "" {
		if ok, _ := path.Match(h.cfg.Tag, j.tag); !ok {
			return fmt.Sprintf("tag %q does not match %q", j.tag, h.cfg.Tag)
		}
	}
	return ""
}

var errClosed = errors.New("shutting down")

// enqueue adds j to the queue, replacing a queued, not yet started push of
// the same repository, and starts the worker if none runs.
func (h *Handler) enqueue(j job) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return errClosed
	}
	replaced := false
	for i, q := range h.queue {
		if q.repo == j.repo {
			h.log.Info("queued push superseded", "repo", q.repo, "tag", q.tag, "delivery", q.delivery, "by", j.delivery)
			h.queue[i] = j
			replaced = true
			break
		}
	}
	if !replaced {
		if len(h.queue) >= maxQueue {
			return errors.New("too many pushes queued")
		}
		h.queue = append(h.queue, j)
	}
	if !h.running {
		h.running = true
		h.wg.Add(1)
		go h.work()
	}
	return nil
}

// Shutdown stops taking pushes, drops queued ones (reporting "error" for
// them) and waits for the running command and callbacks in flight. If ctx
// ends first, the running command is killed and Shutdown still waits for it
// to end, then returns ctx's error.
func (h *Handler) Shutdown(ctx context.Context) error {
	h.mu.Lock()
	h.closed = true
	dropped := h.queue
	h.queue = nil
	h.mu.Unlock()
	for _, j := range dropped {
		h.log.Warn("queued push dropped: shutting down", "delivery", j.delivery, "repo", j.repo, "tag", j.tag)
		h.report(j, "error", "not run: deploy-hook shut down before it was its turn")
	}
	done := make(chan struct{})
	go func() {
		h.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		h.cancel()
		return nil
	case <-ctx.Done():
		h.cancel()
		<-done
		return ctx.Err()
	}
}

// Run serves cfg.Listen until ctx ends, then shuts down gracefully: it stops
// accepting deliveries and waits for a running command (up to its timeout).
func Run(ctx context.Context, cfg Config, logger *slog.Logger) error {
	if logger != nil {
		cfg.Logger = logger
	}
	h, err := New(cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("deploy-hook: %w", err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(h.log.Handler(), slog.LevelWarn),
	}
	filters := []any{"addr", ln.Addr().String(), "timeout", h.cfg.Timeout, "signature_tolerance", h.cfg.Tolerance}
	if cfg.Repo != "" {
		filters = append(filters, "repo", cfg.Repo)
	}
	if cfg.Tag != "" {
		filters = append(filters, "tag", cfg.Tag)
	}
	h.log.Info("deploy-hook listening", filters...)
	if cfg.AllowLegacySignature {
		h.log.Warn("deploy-hook accepts deliveries signed only with " + signature.HubHeader + ": those can be replayed")
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		_ = h.Shutdown(context.Background())
		return fmt.Errorf("deploy-hook: %w", err)
	case <-ctx.Done():
	}
	h.log.Info("deploy-hook shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	_ = srv.Shutdown(sctx)
	cancel()
	// The command's own timeout bounds the wait; the margin covers the
	// kill grace and the callbacks.
	wctx, cancel := context.WithTimeout(context.Background(), h.cfg.Timeout+time.Minute)
	defer cancel()
	if err := h.Shutdown(wctx); err != nil {
		h.log.Warn("deploy-hook shutdown cut short", "err", err)
	}
	return nil
}
