package registry

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/wharfhub/wharf/server/auth"
	"github.com/wharfhub/wharf/server/content"
	"github.com/wharfhub/wharf/server/registry/errcode"
	"github.com/wharfhub/wharf/server/reqlog"
)

// blob serves GET, HEAD and DELETE /v2/<name>/blobs/<digest>.
func (h *Handler) blob(q *request) error {
	dgst, err := content.ParseDigest(q.route.arg)
	if err != nil {
		return errcode.DigestInvalid.WithMessage("invalid digest %q", truncate(q.route.arg, 200))
	}
	switch q.r.Method {
	case http.MethodGet, http.MethodHead:
		if err := q.authorize(h, q.route.name, auth.ActionPull); err != nil {
			return err
		}
		size := int64(-1) // not known yet
		if h.mirrored(q.route.name) {
			cw := &countingWriter{ResponseWriter: q.w}
			defer func() { h.mirrors.Stats().BytesServed.Add(cw.n) }()
			q.w = cw
			done, stored, err := h.fetchMirrored(q, dgst)
			if done || err != nil {
				return err
			}
			size = stored
		}
		hdr := q.w.Header()
		hdr.Set("Docker-Content-Digest", dgst.String())
		hdr.Set("ETag", `"`+dgst.String()+`"`)
		hdr.Set("Cache-Control", "max-age=31536000")
		hdr.Set("Content-Type", "application/octet-stream")
		hdr.Set("Accept-Ranges", "bytes")
		if q.r.Method == http.MethodHead {
			if size < 0 {
				if size, err = h.content.Blobs.Stat(q.ctx(), q.route.name, dgst); err != nil {
					return err
				}
			}
			hdr.Set("Content-Length", fmt.Sprint(size))
			q.w.WriteHeader(http.StatusOK)
			return nil
		}
		// A store that offers presigned URLs serves the bytes itself.
		if u, ok, err := h.content.Blobs.Redirect(q.ctx(), q.route.name, dgst); err != nil {
			return err
		} else if ok {
			hdr.Del("Content-Type")
			hdr.Del("Accept-Ranges")
			http.Redirect(q.w, q.r, u, http.StatusTemporaryRedirect)
			return nil
		}
		c, err := h.content.Blobs.Open(q.ctx(), q.route.name, dgst)
		if err != nil {
			return err
		}
		defer c.Close()
		// ServeContent answers Range (206), unsatisfiable ranges (416) and
		// conditional requests from the digest ETag. (sendfile measured
		// slower than this buffered copy on loopback, so it is not used.)
		http.ServeContent(q.w, q.r, "", time.Time{}, c)
		return nil
	case http.MethodDelete:
		if err := q.authorize(h, q.route.name, auth.ActionDelete); err != nil {
			return err
		}
		if err := h.content.Blobs.Delete(q.ctx(), q.route.name, dgst); err != nil {
			return err
		}
		q.w.Header().Set("Content-Length", "0")
		q.w.WriteHeader(http.StatusAccepted)
		return nil
	}
	return methodNotAllowed(q, "GET, HEAD, DELETE")
}

// fetchMirrored fetches a blob a mirror has not cached yet. The first
// caller gets the bytes as they arrive (done); the others find the blob
// stored once it is. HEAD asks the upstream, and fetches nothing. A blob whose bytes turn out wrong (a corrupt
// or broken upstream) ends its answer short, so the client sees it fail.
// A blob cached already comes back with its size; else size is -1.
func (h *Handler) fetchMirrored(q *request, dgst digest.Digest) (done bool, size int64, err error) {
	if size, err := h.content.Blobs.Stat(q.ctx(), q.route.name, dgst); err == nil {
		return false, size, nil
	} else if !errors.Is(err, content.ErrBlobUnknown) {
		return false, -1, err
	}
	if q.r.Method == http.MethodHead {
		size, err := h.mirrors.StatBlob(q.ctx(), q.route.name, dgst)
		return false, size, err
	}
	// The first caller gets the bytes as they arrive, under the
	// upstream's Content-Length; without one the blob is stored first
	// (a short answer must be able to show that it is short).
	var w io.Writer
	started := false
	start := func(size int64) {
		if size < 0 || q.r.Method != http.MethodGet {
			return
		}
		started, w = true, q.w
		hdr := q.w.Header()
		hdr.Set("Docker-Content-Digest", dgst.String())
		hdr.Set("Content-Type", "application/octet-stream")
		hdr.Set("Content-Length", fmt.Sprint(size))
		q.w.WriteHeader(http.StatusOK)
	}
	served, err := h.mirrors.FetchBlob(q.ctx(), q.route.name, dgst, writerFunc(func(p []byte) (int, error) {
		if w == nil {
			return len(p), nil
		}
		return w.Write(p)
	}), start)
	switch {
	case err != nil && started:
		// The bytes sent are not the blob: end the answer short of its
		// Content-Length, which the client sees as a failed download.
		reqlog.From(q.ctx(), h.log).Warn("mirror: cut a blob download short", "repository", q.route.name, "digest", dgst, "err", err)
		return true, -1, nil
	case err != nil:
		return false, -1, err
	case served && started:
		h.content.Pulls.Record(q.route.name, "")
		return true, -1, nil
	}
	return false, -1, nil
}

// countingWriter counts the body bytes written through it.
type countingWriter struct {
	http.ResponseWriter
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.ResponseWriter.Write(p)
	c.n += int64(n)
	return n, err
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
