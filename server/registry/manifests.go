package registry

import (
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/wharfhub/wharf/server/auth"
	"github.com/wharfhub/wharf/server/content"
	"github.com/wharfhub/wharf/server/registry/errcode"
	"github.com/wharfhub/wharf/server/trust"
)

// manifest serves GET, HEAD, PUT and DELETE /v2/<name>/manifests/<ref>.
func (h *Handler) manifest(q *request) error {
	ref, err := content.ParseReference(q.route.arg)
	if err != nil {
		if q.r.Method == http.MethodGet || q.r.Method == http.MethodHead {
			// Nothing can be stored under an invalid reference.
			return errcode.ManifestUnknown.WithMessage("%v", err)
		}
		return err
	}
	switch q.r.Method {
	case http.MethodGet, http.MethodHead:
		if err := q.authorize(h, q.route.name, auth.ActionPull); err != nil {
			return err
		}
		get := h.content.Manifests.Get
		if h.mirrored(q.route.name) {
			get = h.mirrors.Manifest
		}
		m, err := get(q.ctx(), q.route.name, ref)
		if err != nil {
			return err
		}
		if h.gate != nil {
			caller := trust.Caller{Scanner: q.claims.IsScanner()}
			if q.id != nil {
				caller.Name, caller.Admin = q.id.Username, q.id.IsAdmin
			}
			if err := h.gate.Check(q.ctx(), q.route.name, m, caller); err != nil {
				return err
			}
		}
		if !accepts(q.r, m.MediaType) {
			return errcode.ManifestUnknown.WithMessage("the manifest is %s, which the Accept header does not allow", m.MediaType)
		}
		hdr := q.w.Header()
		hdr.Set("Content-Type", m.MediaType)
		hdr.Set("Content-Length", fmt.Sprint(len(m.Payload)))
		hdr.Set("Docker-Content-Digest", m.Digest)
		hdr.Set("ETag", `"`+m.Digest+`"`)
		if match := q.r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, m.Digest) {
			q.w.WriteHeader(http.StatusNotModified)
			return nil
		}
		q.w.WriteHeader(http.StatusOK)
		if q.r.Method == http.MethodGet {
			_, _ = q.w.Write(m.Payload)
			h.content.Pulls.Record(q.route.name, m.Digest)
		}
		return nil
	case http.MethodPut:
		return h.putManifest(q, ref)
	case http.MethodDelete:
		if err := q.authorize(h, q.route.name, auth.ActionDelete); err != nil {
			return err
		}
		actor := ""
		if q.id != nil {
			actor = q.id.Username
		}
		if err := h.content.Manifests.Delete(q.ctx(), q.route.name, ref, actor); err != nil {
			return err
		}
		q.w.Header().Set("Content-Length", "0")
		q.w.WriteHeader(http.StatusAccepted)
		return nil
	}
	return methodNotAllowed(q, "GET, HEAD, PUT, DELETE")
}

func (h *Handler) putManifest(q *request, ref content.Reference) error {
	name := q.route.name
	if err := q.authorize(h, name, auth.ActionPush); err != nil {
		return err
	}
	if q.r.ContentLength > content.MaxManifestSize {
		return errcode.ManifestTooLarge.WithMessage("manifest is %d bytes, the limit is %d", q.r.ContentLength, content.MaxManifestSize)
	}
	payload, err := io.ReadAll(io.LimitReader(q.r.Body, content.MaxManifestSize+1))
	if err != nil {
		return fmt.Errorf("read manifest: %w", err)
	}
	tags := q.r.URL.Query()["tag"]
	pusher := ""
	if q.id != nil {
		pusher = q.id.Username
	}
	res, err := h.content.Manifests.Put(q.ctx(), content.PutManifestRequest{
		Name: name, Ref: ref, ContentType: q.r.Header.Get("Content-Type"), Payload: payload, Tags: tags, Pusher: pusher,
	})
	if err != nil {
		return err
	}
	hdr := q.w.Header()
	hdr.Set("Location", "/v2/"+name+"/manifests/"+res.Digest.String())
	hdr.Set("Docker-Content-Digest", res.Digest.String())
	if res.Subject != "" {
		hdr.Set("OCI-Subject", res.Subject.String())
	}
	for _, t := range tags {
		hdr.Add("OCI-Tag", t)
	}
	hdr.Set("Content-Length", "0")
	q.w.WriteHeader(http.StatusCreated)
	return nil
}

// accepts reports whether the request's Accept header allows mediaType.
// No Accept header, or a wildcard, allows anything; clients that list only
// single-image types are not handed an index they cannot read.
func accepts(r *http.Request, mediaType string) bool {
	values := r.Header.Values("Accept")
	if len(values) == 0 {
		return true
	}
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			switch mt {
			case mediaType, "*/*", "application/*", "application/json":
				return true
			}
		}
	}
	return false
}
