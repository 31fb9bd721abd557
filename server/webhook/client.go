package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/wharfhub/wharf/server/webhook/signature"
)

// Limits of a delivery.
const (
	MaxRedirects    = 3
	MaxResponseRead = 64 << 10 // bytes of the answer read at most
	MaxExcerpt      = 4 << 10  // bytes of the answer kept in Response.BodyExcerpt
)

// Headers of a delivery.
const (
	HeaderEvent     = "X-Wharf-Event"
	HeaderDelivery  = "X-Wharf-Delivery"
	HeaderTimestamp = "X-Wharf-Timestamp"
	// HeaderSignature signs the body alone, for receivers written for
	// GitHub or Docker Hub style hooks.
	HeaderSignature = signature.HubHeader
	// HeaderWharfSignature signs the timestamp, the delivery id, the event
	// and the body, so that receivers can refuse replays (see package
	// signature).
	HeaderWharfSignature = signature.Header
	UserAgent            = "Wharf-Webhook/1"
)

// NewClient returns the HTTP client that delivers webhooks. Every
// connection, including each redirect's, goes through g.DialContext; no
// proxy from the environment is used (it would dial on our behalf), and
// connections are not kept alive between deliveries. timeout bounds a whole
// delivery, redirects and reading the answer included.
func NewClient(g *Guard, timeout time.Duration) *http.Client {
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	tlsTimeout := min(timeout, 10*time.Second)
	t := &http.Transport{
		Proxy:                  nil,
		DialContext:            g.DialContext,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    tlsTimeout,
		ResponseHeaderTimeout:  timeout,
		ExpectContinueTimeout:  time.Second,
		DisableKeepAlives:      true,
		MaxResponseHeaderBytes: 64 << 10,
	}
	return &http.Client{
		Transport:     t,
		Timeout:       timeout,
		CheckRedirect: checkRedirect,
	}
}

// checkRedirect follows at most MaxRedirects redirects, and only to http or
// https; the dialer checks each redirect's address like the first.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > MaxRedirects {
		return fmt.Errorf("webhook: stopped after %d redirects", MaxRedirects)
	}
	if s := req.URL.Scheme; s != "http" && s != "https" {
		return fmt.Errorf("webhook: refused redirect to %s: only http and https are allowed: %w", req.URL.Redacted(), ErrRefused)
	}
	return nil
}

// Request is one delivery.
type Request struct {
	URL        string
	Event      string // X-Wharf-Event, e.g. "push"
	DeliveryID string // X-Wharf-Delivery; a redelivery keeps its id
	Secret     string // signs the delivery when not empty
	Body       []byte // the JSON payload, sent and signed as is
	// Timestamp is sent as X-Wharf-Timestamp (unix seconds) and signed in
	// X-Wharf-Signature; zero means now. Each attempt is signed afresh.
	Timestamp time.Time
}

// Response is what became of a delivery. Err is set when no HTTP answer
// arrived (refused target or redirect, timeout, connection error, ...) or
// its body could not be read; a non-2xx answer is an answer and leaves Err
// nil. Duration is set in every case.
type Response struct {
	Status      int
	Headers     http.Header
	BodyExcerpt string // the first MaxExcerpt bytes of the answer
	Duration    time.Duration
	Err         error
}

// OK reports whether the receiver answered with a 2xx status.
func (r Response) OK() bool {
	return r.Err == nil && r.Status >= 200 && r.Status < 300
}

// Send POSTs req.Body to req.URL with c (from NewClient) and the Wharf
// headers, and reports the answer. It reads at most MaxResponseRead bytes of
// the answer and never panics.
func Send(ctx context.Context, c *http.Client, req Request) (resp Response) {
	start := time.Now()
	defer func() { resp.Duration = time.Since(start) }()
	if c == nil {
		resp.Err = errors.New("webhook: no HTTP client")
		return resp
	}
	if ctx == nil {
		ctx = context.Background()
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, req.URL, bytes.NewReader(req.Body))
	if err != nil {
		resp.Err = fmt.Errorf("webhook request %s: %w", req.URL, err)
		return resp
	}
	ts := req.Timestamp
	if ts.IsZero() {
		ts = time.Now()
	}
	var wharfSig string
	if req.Secret != "" {
		if wharfSig, err = signature.Sign(req.Secret, ts, req.DeliveryID, req.Event, req.Body); err != nil {
			resp.Err = fmt.Errorf("webhook sign delivery %q: %w", req.DeliveryID, err)
			return resp
		}
	}
	h := hreq.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", UserAgent)
	h.Set(HeaderEvent, req.Event)
	h.Set(HeaderDelivery, req.DeliveryID)
	h.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	if req.Secret != "" {
		h.Set(HeaderSignature, signature.SignHub(req.Secret, req.Body))
		h.Set(HeaderWharfSignature, wharfSig)
	}
	hresp, err := c.Do(hreq)
	if err != nil {
		resp.Err = err
		return resp
	}
	defer hresp.Body.Close()
	resp.Status = hresp.StatusCode
	resp.Headers = hresp.Header.Clone()
	body, err := io.ReadAll(io.LimitReader(hresp.Body, MaxResponseRead))
	if len(body) > MaxExcerpt {
		body = body[:MaxExcerpt]
	}
	resp.BodyExcerpt = strings.ToValidUTF8(string(body), "\uFFFD")
	if err != nil {
		resp.Err = fmt.Errorf("webhook read answer of %s: %w", req.URL, err)
	}
	return resp
}
