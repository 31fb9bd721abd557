package registry

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/wharfhub/wharf/server/auth"
	"github.com/wharfhub/wharf/server/content"
	"github.com/wharfhub/wharf/server/registry/errcode"
)

// startUpload serves POST /v2/<name>/blobs/uploads/: a mount, a whole blob
// in one request (?digest=), or a new upload session.
func (h *Handler) startUpload(q *request) error {
	if q.r.Method != http.MethodPost {
		return methodNotAllowed(q, "POST")
	}
	name := q.route.name
	query := q.r.URL.Query()
	scope := scopeFor(name, auth.ActionPush)
	if from := query.Get("from"); query.Get("mount") != "" && from != "" && content.ValidName(from) {
		scope += " repository:" + from + ":pull"
	}
	if err := q.authorizeScope(h, name, auth.ActionPush, scope); err != nil {
		return err
	}
	if m := query.Get("mount"); m != "" {
		dgst, err := content.ParseDigest(m)
		if err != nil {
			return errcode.DigestInvalid.WithMessage("invalid mount digest %q", truncate(m, 200))
		}
		mounted, err := h.mount(q, name, query.Get("from"), dgst)
		if err != nil {
			return err
		}
		if mounted {
			return blobCreated(q, name, dgst)
		}
		// Not mountable: fall back to a plain upload session, as the spec says.
	} else if d := query.Get("digest"); d != "" {
		dgst, err := content.ParseDigest(d)
		if err != nil {
			return errcode.DigestInvalid.WithMessage("invalid digest %q", truncate(d, 200))
		}
		if err := h.content.Uploads.Put(q.ctx(), name, dgst, content.Chunk{Start: 0, Length: q.r.ContentLength, Body: q.r.Body}); err != nil {
			return err
		}
		return blobCreated(q, name, dgst)
	}
	up, err := h.content.Uploads.Start(q.ctx(), name, q.userID())
	if err != nil {
		return err
	}
	uploadStatus(q, up, http.StatusAccepted)
	return nil
}

// mount links dgst into name from another repository the caller may read,
// or, with from empty, from wherever the store holds it.
func (h *Handler) mount(q *request, name, from string, dgst digest.Digest) (bool, error) {
	if from != "" {
		if !content.ValidName(from) {
			return false, nil
		}
		// Without read access to from, the mount silently becomes a plain
		// upload: nothing about from's content may leak.
		if err := q.authorizeScope(h, from, auth.ActionPull, "repository:"+from+":pull"); err != nil {
			var ch *challengeError
			if errors.As(err, &ch) && q.claims != nil {
				// Ask for a token that covers both repositories.
				ch.scope = scopeFor(name, auth.ActionPush) + " repository:" + from + ":pull"
				return false, ch
			}
			return false, nil
		}
	} else {
		// An anonymous mount takes the blob from anywhere in the store: only
		// allow it if the caller can read some repository that has it.
		ok, err := h.canReadBlobSomewhere(q, dgst)
		if err != nil || !ok {
			return false, err
		}
	}
	return h.content.Blobs.Mount(q.ctx(), name, from, dgst)
}

// canReadBlobSomewhere reports whether the caller may pull some
// repository that links dgst.
func (h *Handler) canReadBlobSomewhere(q *request, dgst digest.Digest) (bool, error) {
	repos, err := h.content.Blobs.Repositories(q.ctx(), dgst, 50)
	if err != nil {
		return false, err
	}
	for _, r := range repos {
		if h.policy.Authorize(q.ctx(), q.id, r, auth.ActionPull) == nil {
			return true, nil
		}
	}
	return false, nil
}

func blobCreated(q *request, name string, dgst digest.Digest) error {
	hdr := q.w.Header()
	hdr.Set("Location", "/v2/"+name+"/blobs/"+dgst.String())
	hdr.Set("Docker-Content-Digest", dgst.String())
	hdr.Set("Content-Length", "0")
	q.w.WriteHeader(http.StatusCreated)
	return nil
}

// uploadStatus writes the headers that tell a client where its upload
// stands: Location to continue it and Range with what the server holds.
func uploadStatus(q *request, up *content.Upload, status int) {
	hdr := q.w.Header()
	hdr.Set("Location", "/v2/"+up.Name+"/blobs/uploads/"+up.ID)
	hdr.Set("Docker-Upload-UUID", up.ID)
	end := up.Size - 1
	if end < 0 {
		end = 0 // Distribution's convention for an empty upload
	}
	hdr.Set("Range", fmt.Sprintf("0-%d", end))
	hdr.Set("Content-Length", "0")
	q.w.WriteHeader(status)
}

// upload serves GET, PATCH, PUT and DELETE /v2/<name>/blobs/uploads/<id>.
func (h *Handler) upload(q *request) error {
	name, id := q.route.name, q.route.arg
	if err := q.authorize(h, name, auth.ActionPush); err != nil {
		return err
	}
	switch q.r.Method {
	case http.MethodGet:
		up, err := h.content.Uploads.Get(q.ctx(), name, id, q.userID())
		if err != nil {
			return err
		}
		uploadStatus(q, up, http.StatusNoContent)
		return nil
	case http.MethodPatch:
		chunk, err := parseChunk(q.r)
		if err != nil {
			return err
		}
		up, err := h.content.Uploads.Append(q.ctx(), name, id, q.userID(), chunk)
		if err != nil {
			if up != nil && errorIsRange(err) {
				// Tell the client where the upload really stands.
				q.w.Header().Set("Location", "/v2/"+name+"/blobs/uploads/"+id)
				q.w.Header().Set("Range", fmt.Sprintf("0-%d", max(up.Size-1, 0)))
			}
			return err
		}
		uploadStatus(q, up, http.StatusAccepted)
		return nil
	case http.MethodPut:
		d := q.r.URL.Query().Get("digest")
		if d == "" {
			return errcode.DigestInvalid.WithMessage("the digest parameter is required to finish an upload")
		}
		dgst, err := content.ParseDigest(d)
		if err != nil {
			return errcode.DigestInvalid.WithMessage("invalid digest %q", truncate(d, 200))
		}
		var last *content.Chunk
		if q.r.ContentLength != 0 {
			c, err := parseChunk(q.r)
			if err != nil {
				return err
			}
			last = &c
		}
		if err := h.content.Uploads.Finish(q.ctx(), name, id, q.userID(), dgst, last); err != nil {
			return err
		}
		return blobCreated(q, name, dgst)
	case http.MethodDelete:
		if err := h.content.Uploads.Cancel(q.ctx(), name, id, q.userID()); err != nil {
			return err
		}
		q.w.Header().Set("Content-Length", "0")
		q.w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return methodNotAllowed(q, "GET, PATCH, PUT, DELETE")
}

func errorIsRange(err error) bool {
	return toOCI(err).Code == errcode.RangeInvalid
}

// parseChunk reads Content-Range ("start-end", or "bytes start-end/total"
// as some clients send) and Content-Length of a chunk.
func parseChunk(r *http.Request) (content.Chunk, error) {
	c := content.Chunk{Start: -1, Length: r.ContentLength, Body: r.Body}
	cr := r.Header.Get("Content-Range")
	if cr == "" {
		return c, nil
	}
	start, end, ok := ParseContentRange(cr)
	if !ok {
		return c, errcode.RangeInvalid.WithMessage("invalid Content-Range %q", truncate(cr, 100))
	}
	if c.Length >= 0 && end-start+1 != c.Length {
		return c, errcode.RangeInvalid.WithMessage("Content-Range %q does not match Content-Length %d", cr, c.Length)
	}
	c.Start = start
	c.Length = end - start + 1
	return c, nil
}

// ParseContentRange parses an upload chunk's Content-Range.
func ParseContentRange(s string) (start, end int64, ok bool) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "bytes")
	s = strings.TrimLeft(s, " =")
	if i := strings.IndexByte(s, '/'); i >= 0 {
		s = s[:i]
	}
	a, b, found := strings.Cut(s, "-")
	if !found || !digits(a) || !digits(b) {
		return 0, 0, false
	}
	start, err1 := strconv.ParseInt(a, 10, 64)
	end, err2 := strconv.ParseInt(b, 10, 64)
	// end < MaxInt64 keeps end-start+1 from overflowing.
	if err1 != nil || err2 != nil || end < start || end == math.MaxInt64 {
		return 0, 0, false
	}
	return start, end, true
}

// digits reports whether s is a non-empty run of ASCII digits: no signs.
func digits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
