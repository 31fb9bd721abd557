package registry

import (
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/wharfhub/wharf/server/auth"
	"github.com/wharfhub/wharf/server/content"
	"github.com/wharfhub/wharf/server/registry/errcode"
	"github.com/wharfhub/wharf/server/storage"
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
		hdr := q.w.Header()
		hdr.Set("Docker-Content-Digest", dgst.String())
		hdr.Set("ETag", `"`+dgst.String()+`"`)
		hdr.Set("Cache-Control", "max-age=31536000")
		hdr.Set("Content-Type", "application/octet-stream")
		hdr.Set("Accept-Ranges", "bytes")
		if q.r.Method == http.MethodHead {
			size, err := h.content.StatBlob(q.ctx(), q.route.name, dgst)
			if err != nil {
				return err
			}
			hdr.Set("Content-Length", fmt.Sprint(size))
			q.w.WriteHeader(http.StatusOK)
			return nil
		}
		c, err := h.content.OpenBlob(q.ctx(), q.route.name, dgst)
		if err != nil {
			return err
		}
		defer c.Close()
		// ServeContent answers Range (206), unsatisfiable ranges (416) and
		// conditional requests from the digest ETag. A plain *os.File and a
		// writer with ReadFrom let the kernel send the bytes (sendfile).
		var content io.ReadSeeker = c
		if fb, ok := c.(storage.FileBacked); ok {
			content = fb.OSFile()
		}
		http.ServeContent(readFromWriter(q.w), q.r, "", time.Time{}, content)
		return nil
	case http.MethodDelete:
		if err := q.authorize(h, q.route.name, auth.ActionDelete); err != nil {
			return err
		}
		if err := h.content.DeleteBlob(q.ctx(), q.route.name, dgst); err != nil {
			return err
		}
		q.w.Header().Set("Content-Length", "0")
		q.w.WriteHeader(http.StatusAccepted)
		return nil
	}
	return methodNotAllowed(q, "GET, HEAD, DELETE")
}

// readFromWriter restores io.ReaderFrom on a wrapped ResponseWriter (the
// router's wrapper hides it), so that copying a file uses sendfile.
func readFromWriter(w http.ResponseWriter) http.ResponseWriter {
	if _, ok := w.(io.ReaderFrom); ok {
		return w
	}
	inner := w
	for {
		u, ok := inner.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return w
		}
		inner = u.Unwrap()
		if rf, ok := inner.(io.ReaderFrom); ok {
			return &readerFromWriter{ResponseWriter: w, rf: rf}
		}
	}
}

type readerFromWriter struct {
	http.ResponseWriter
	rf io.ReaderFrom
}

// ReadFrom writes the header through the outer writer (which records the
// status) and streams the body through the inner one.
func (w *readerFromWriter) ReadFrom(r io.Reader) (int64, error) {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
	return w.rf.ReadFrom(r)
}
