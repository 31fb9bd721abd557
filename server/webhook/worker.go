package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/webhook/signature"
)

// DefaultBackoff is the wait before each retry: about an hour in all.
var DefaultBackoff = []time.Duration{10 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute,
	5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 15 * time.Minute}

// Worker delivers the outbox: it claims due deliveries, signs and sends
// them with bounded concurrency, and records every attempt.
type Worker struct {
	db      *models.DB
	client  *http.Client
	baseURL string
	log     *slog.Logger
	opts    WorkerOptions

	wake chan struct{}
	now  func() time.Time
}

// WorkerOptions tune a delivery worker; a zero field takes its default.
type WorkerOptions struct {
	// Concurrency bounds deliveries in flight (8).
	Concurrency int
	// Backoff is the retry plan (DefaultBackoff).
	Backoff []time.Duration
	// Lease is how long a claimed delivery is held before another attempt
	// may take it, after a crash (2m).
	Lease time.Duration
	// Poll is how often the outbox is read when nothing wakes the worker
	// (1s).
	Poll time.Duration
	// Drain is how long deliveries in flight when Run's context ends may
	// take to finish (10s); those still going then are cancelled, and
	// recorded as failed attempts to retry.
	Drain time.Duration
}

// NewWorker makes a delivery worker that sends with client (the
// SSRF-guarded client of NewClient); baseURL builds callback URLs.
func NewWorker(db *models.DB, client *http.Client, baseURL string, log *slog.Logger, opts WorkerOptions) *Worker {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 8
	}
	if opts.Backoff == nil {
		opts.Backoff = DefaultBackoff
	}
	if opts.Lease <= 0 {
		opts.Lease = 2 * time.Minute
	}
	if opts.Poll <= 0 {
		opts.Poll = time.Second
	}
	if opts.Drain <= 0 {
		opts.Drain = 10 * time.Second
	}
	return &Worker{db: db, client: client, baseURL: strings.TrimRight(baseURL, "/"), log: log, opts: opts,
		wake: make(chan struct{}, 1), now: func() time.Time { return time.Now().UTC() }}
}

// Wake makes the worker look for due deliveries now (after a push).
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends, and returns once the deliveries in flight
// then have finished (or, after WorkerOptions.Drain, been cancelled and
// recorded for a retry): every claimed delivery is recorded before Run
// returns. Deliveries left pending (by a crash, or because the process
// stopped) are picked up on the next start.
func (w *Worker) Run(ctx context.Context) error {
	// Sends outlive ctx by up to Drain, so that a shutdown does not cut
	// a delivery off half-way.
	sendCtx, cancelSends := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelSends()
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(w.opts.Drain, cancelSends) })
	defer stop()
	sem := make(chan struct{}, w.opts.Concurrency)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		if ctx.Err() != nil {
			return nil
		}
		due, err := w.db.Deliveries.ClaimDue(ctx, w.now(), w.opts.Lease, cap(sem)*2)
		if err != nil && ctx.Err() == nil {
			w.log.Error("webhooks: claim deliveries", "err", err)
		}
		for _, d := range due {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				w.deliver(sendCtx, d)
			}()
		}
		if len(due) == cap(sem)*2 {
			continue // more are due: keep going
		}
		select {
		case <-ctx.Done():
			return nil
		case <-w.wake:
		case <-time.After(w.opts.Poll):
		}
	}
}

func (w *Worker) deliver(ctx context.Context, d models.Delivery) {
	h, err := w.db.Webhooks.Get(ctx, d.WebhookID)
	if err != nil {
		return // deleted with its deliveries
	}
	body := d.RequestBody
	if body == "" {
		b, err := w.payload(ctx, &d)
		if err != nil {
			w.log.Error("webhooks: build payload", "delivery", d.ID, "err", err)
			return
		}
		body = string(b)
	}
	var a models.Attempt
	if !h.Active && d.Event != "test" {
		a = models.Attempt{RequestBody: body, Error: "the webhook is disabled", Done: true, SentAt: w.now()}
	} else {
		// Every attempt is signed at its own time; the id stays.
		ts := w.now()
		res := Send(ctx, w.client, Request{URL: h.URL, Secret: h.Secret, Event: d.Event, DeliveryID: d.ID, Body: []byte(body), Timestamp: ts})
		a = w.judge(&d, res)
		a.RequestBody, a.SentAt = body, ts
		a.RequestHeaders = headerText(sentHeaders(d, h.Secret != "", ts))
	}
	if err := w.db.Deliveries.RecordAttempt(context.WithoutCancel(ctx), &d, a, w.now()); err != nil {
		w.log.Error("webhooks: record attempt", "delivery", d.ID, "err", err)
	}
}

// judge decides what an answer means: 2xx is delivered; network errors,
// 5xx and 429 are retried with backoff; other answers, and targets the
// SSRF guard refuses, end the delivery.
func (w *Worker) judge(d *models.Delivery, res Response) models.Attempt {
	a := models.Attempt{StatusCode: res.Status, ResponseHeaders: headerText(res.Headers), ResponseBody: res.BodyExcerpt, Duration: res.Duration}
	retry := false
	switch {
	case res.Err != nil:
		a.Error = res.Err.Error()
		retry = !errors.Is(res.Err, ErrRefused) && !errors.Is(res.Err, signature.ErrUnsignable)
	case res.Status >= 200 && res.Status < 300:
		a.Done, a.Success = true, true
		return a
	case res.Status == http.StatusTooManyRequests || res.Status >= 500:
		a.Error = fmt.Sprintf("the receiver answered %d", res.Status)
		retry = true
	default:
		a.Error = fmt.Sprintf("the receiver answered %d; not retried", res.Status)
	}
	tried := max(d.Attempts-d.RoundStart, 0) // since it was last queued
	if !retry || tried >= len(w.opts.Backoff) {
		a.Done = true
		return a
	}
	wait := w.opts.Backoff[tried]
	jitter := time.Duration(rand.Int64N(int64(wait)/5 + 1))
	a.RetryAt = w.now().Add(wait - wait/10 + jitter)
	return a
}

// sentHeaders lists the headers an attempt sent at ts carries, for its log
// (the signatures are not logged).
func sentHeaders(d models.Delivery, signed bool, ts time.Time) http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", UserAgent)
	h.Set(HeaderEvent, d.Event)
	h.Set(HeaderDelivery, d.ID)
	unix := strconv.FormatInt(ts.Unix(), 10)
	h.Set(HeaderTimestamp, unix)
	if signed {
		h.Set(HeaderSignature, signature.HubPrefix+"…")
		h.Set(HeaderWharfSignature, "t="+unix+",v1=…")
	}
	return h
}

func headerText(h http.Header) string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		for _, v := range h[k] {
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	return b.String()
}

// payload renders the Docker Hub compatible body of a delivery.
func (w *Worker) payload(ctx context.Context, d *models.Delivery) ([]byte, error) {
	ns, name, _ := strings.Cut(d.Repository, "/")
	p := Payload{CallbackURL: w.baseURL + "/api/v1/webhooks/callback/" + d.ID + "/" + d.CallbackToken}
	p.PushData.PushedAt = d.OccurredAt.Unix()
	p.PushData.Images = []string{}
	p.PushData.Pusher = d.Actor
	p.PushData.Tag = d.Tag
	p.PushData.Digest = d.Digest
	p.Repository.RepoName = d.Repository
	p.Repository.Namespace = ns
	p.Repository.Name = name
	p.Repository.Owner = ns
	p.Repository.Status = "Active"
	p.Repository.RepoURL = w.baseURL + "/r/" + d.Repository
	p.Action = d.Action
	if r, err := w.db.Repositories.Get(ctx, d.Repository); err == nil {
		p.Repository.IsPrivate = r.Visibility == models.VisibilityPrivate
		p.Repository.Description = r.Description
		p.Repository.FullDescription = r.Readme
		p.Repository.StarCount = int(r.StarCount)
		p.Repository.DateCreated = r.CreatedAt.Unix()
		if n, err := w.db.Comments.Count(ctx, r.ID); err == nil {
			p.Repository.CommentCount = int(n)
		}
		if d.Event == "scan_completed" {
			if sc, err := w.db.Scans.Get(ctx, r.ID, d.Digest); err == nil {
				p.Scan = &ScanData{Status: sc.Status, Reason: sc.Reason, Scanner: sc.Scanner, Counts: map[string]int{
					"critical": sc.Critical, "high": sc.High, "medium": sc.Medium, "low": sc.Low, "unknown": sc.Unknown}}
			} else if !errors.Is(err, models.ErrNotFound) {
				return nil, err
			}
		}
	} else if !errors.Is(err, models.ErrNotFound) {
		return nil, err
	}
	return json.Marshal(p)
}
