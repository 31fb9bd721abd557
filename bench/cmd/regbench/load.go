package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// loadResult summarises one fixed-concurrency load test.
type loadResult struct {
	ok, errors int64
	elapsed    time.Duration
	lat        []time.Duration // successful requests only, sorted
	firstErr   error
}

func (r loadResult) rps() float64 { return float64(r.ok) / r.elapsed.Seconds() }

// percentile uses the nearest-rank method on the sorted latencies.
func (r loadResult) percentile(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	i := int(p/100*float64(len(r.lat))+0.5) - 1
	return r.lat[max(0, min(i, len(r.lat)-1))]
}

// runLoad runs conc workers issuing requests back to back (closed loop) until
// dur has elapsed or, if total > 0, total requests have been started. Each
// worker gets its own op from newOp so it can keep scratch buffers without
// locking. The loop is bounded either way: by the deadline or the counter,
// and ctx (which carries a hard deadline) aborts stuck requests.
func runLoad(ctx context.Context, conc int, dur time.Duration, total int64, newOp func() func(context.Context) error) loadResult {
	var (
		started  atomic.Int64
		mu       sync.Mutex
		res      loadResult
		wg       sync.WaitGroup
		begin    = time.Now()
		deadline = begin.Add(dur)
	)
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			op := newOp()
			lat := make([]time.Duration, 0, 4096)
			var errs int64
			var firstErr error
			for ctx.Err() == nil {
				if total > 0 {
					if started.Add(1) > total {
						break
					}
				} else if !time.Now().Before(deadline) {
					break
				}
				t0 := time.Now()
				if err := op(ctx); err != nil {
					errs++
					if firstErr == nil {
						firstErr = err
					}
					continue
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			res.lat = append(res.lat, lat...)
			res.errors += errs
			if res.firstErr == nil {
				res.firstErr = firstErr
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(begin)
	res.ok = int64(len(res.lat))
	slices.Sort(res.lat)
	return res
}

// manifestAccept is what docker sends; registries use it for content
// negotiation, so leaving it out could take a different code path.
const manifestAccept = mtManifest + ", application/vnd.oci.image.index.v1+json, " +
	"application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json"

// manifestGetOp fetches the manifest by tag and checks it byte for byte.
func (c *client) manifestGetOp(repo, tag string, want []byte) func() func(context.Context) error {
	u := c.url("/v2/" + repo + "/manifests/" + tag)
	return func() func(context.Context) error {
		var buf bytes.Buffer
		hdr := http.Header{"Accept": {manifestAccept}}
		return func(ctx context.Context) error {
			resp, err := c.do(ctx, request{method: http.MethodGet, url: u, header: hdr})
			if err != nil {
				return err
			}
			if err := expect(resp, "GET manifest", http.StatusOK); err != nil {
				return err
			}
			buf.Reset()
			_, err = io.Copy(&buf, io.LimitReader(resp.Body, 4<<20))
			resp.Body.Close()
			if err != nil {
				return err
			}
			if !bytes.Equal(buf.Bytes(), want) {
				return fmt.Errorf("GET manifest: body differs from what was pushed (%d bytes)", buf.Len())
			}
			return nil
		}
	}
}

// headOp issues HEAD requests and checks status and, when the registry sends
// one, the Content-Length.
func (c *client) headOp(what, path string, accept string, wantLen int64) func() func(context.Context) error {
	u := c.url(path)
	hdr := http.Header{}
	if accept != "" {
		hdr.Set("Accept", accept)
	}
	return func() func(context.Context) error {
		return func(ctx context.Context) error {
			resp, err := c.do(ctx, request{method: http.MethodHead, url: u, header: hdr})
			if err != nil {
				return err
			}
			if err := expect(resp, what, http.StatusOK); err != nil {
				return err
			}
			drain(resp)
			if resp.ContentLength >= 0 && resp.ContentLength != wantLen {
				return fmt.Errorf("%s: Content-Length %d, want %d", what, resp.ContentLength, wantLen)
			}
			return nil
		}
	}
}
