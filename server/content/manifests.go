package content

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/artifact"
	"github.com/wharfhub/wharf/server/events"
)

// MaxManifestSize caps a manifest body (4 MiB, as Distribution and the
// spec's recommendation).
const MaxManifestSize = 4 << 20

// Manifest media types Wharf stores.
const (
	MediaTypeOCIManifest    = ocispec.MediaTypeImageManifest
	MediaTypeOCIIndex       = ocispec.MediaTypeImageIndex
	MediaTypeDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	MediaTypeDockerList     = "application/vnd.docker.distribution.manifest.list.v2+json"
	mediaTypeDockerSchema1  = "application/vnd.docker.distribution.manifest.v1+json"
	mediaTypeDockerSigned   = "application/vnd.docker.distribution.manifest.v1+prettyjws"
	mediaTypeDockerForeign  = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
)

// manifestDoc is the union of the manifest shapes Wharf accepts. Raw
// fields tell whether a key was present at all.
type manifestDoc struct {
	SchemaVersion *int                 `json:"schemaVersion"`
	MediaType     string               `json:"mediaType"`
	ArtifactType  string               `json:"artifactType"`
	Config        *ocispec.Descriptor  `json:"config"`
	Layers        json.RawMessage      `json:"layers"`
	Manifests     json.RawMessage      `json:"manifests"`
	Subject       *ocispec.Descriptor  `json:"subject"`
	Annotations   map[string]string    `json:"annotations"`
	FSLayers      json.RawMessage      `json:"fsLayers"`
	layers        []ocispec.Descriptor `json:"-"`
	manifests     []ocispec.Descriptor `json:"-"`
}

// Reference is a manifest reference: a tag or a digest.
type Reference struct {
	Tag    string
	Digest digest.Digest
}

func (r Reference) String() string {
	if r.Digest != "" {
		return r.Digest.String()
	}
	return r.Tag
}

// ParseReference parses the reference part of a manifest URL.
func ParseReference(s string) (Reference, error) {
	if strings.Contains(s, ":") {
		d, err := digest.Parse(s)
		if err != nil {
			return Reference{}, detailf(ErrDigestInvalid, nil, "invalid digest %q", s)
		}
		return Reference{Digest: d}, nil
	}
	if !ValidTag(s) {
		return Reference{}, detailf(ErrTagInvalid, nil, "invalid tag %q", s)
	}
	return Reference{Tag: s}, nil
}

// PutManifestRequest is a manifest upload.
type PutManifestRequest struct {
	Name        string
	Ref         Reference
	ContentType string
	Payload     []byte
	// Tags are extra tags to point at the manifest (the ?tag= parameter).
	Tags []string
	// Pusher is the username recorded on the tags.
	Pusher string
}

// PutManifestResult says what was stored.
type PutManifestResult struct {
	Digest  digest.Digest
	Subject digest.Digest
	Tags    []string
}

// Put validates and stores a manifest.
func (s *Manifests) Put(ctx context.Context, req PutManifestRequest) (*PutManifestResult, error) {
	if len(req.Payload) > MaxManifestSize {
		return nil, detailf(ErrManifestTooLarge, nil, "manifest is %d bytes, the limit is %d", len(req.Payload), MaxManifestSize)
	}
	alg := digest.Canonical
	if req.Ref.Digest != "" {
		alg = req.Ref.Digest.Algorithm()
	}
	dgst := alg.FromBytes(req.Payload)
	noteChange(ctx, "manifest.push", req.Name, req.Ref, "digest "+dgst.String())
	if req.Ref.Digest != "" && dgst != req.Ref.Digest {
		return nil, detailf(ErrDigestInvalid, nil, "manifest digest %s does not match %s", dgst, req.Ref.Digest)
	}
	tags := req.Tags
	if req.Ref.Tag != "" {
		tags = append([]string{req.Ref.Tag}, tags...)
	}
	for _, t := range tags {
		if !ValidTag(t) {
			return nil, detailf(ErrTagInvalid, nil, "invalid tag %q", t)
		}
	}
	doc, mediaType, err := parseManifest(req.ContentType, req.Payload)
	if err != nil {
		return nil, err
	}
	blobs, children, err := references(doc, mediaType)
	if err != nil {
		return nil, err
	}
	missing, err := s.db.Manifests.MissingReferences(ctx, req.Name, blobs, children)
	if err != nil {
		return nil, err
	}
	if len(missing) > 0 {
		return nil, detailf(ErrManifestBlobUnknown, map[string]any{"digests": missing},
			"manifest references %d unknown blobs or manifests, first %s", len(missing), missing[0])
	}
	if _, err := s.db.Manifests.Get(ctx, req.Name, dgst.String()); errors.Is(err, models.ErrNotFound) {
		// Only a new manifest adds to the namespace's storage.
		if err := s.checkQuota(ctx, req.Name, "", int64(len(req.Payload))); err != nil {
			return nil, err
		}
	}
	m, refs := record(doc, mediaType, req.Payload, dgst, blobs, children)
	m.ContentSize, m.Platforms = s.describe(ctx, req.Name, doc, mediaType)
	if err := s.db.Manifests.Put(ctx, req.Name, m, refs, tags, req.Pusher, s.jobsFor(m, tags...)...); err != nil {
		var missing *models.MissingReferenceError
		if errors.As(err, &missing) {
			// Garbage collection took it after the check above.
			return nil, detailf(ErrManifestBlobUnknown, map[string]any{"digests": []string{missing.Digest}},
				"manifest references %s, which is unknown or being deleted", missing.Digest)
		}
		return nil, fmt.Errorf("put manifest %s: %w", dgst, err)
	}
	if len(tags) == 0 {
		s.opts.Events.Publish(events.Event{Kind: events.Push, Repository: req.Name, Digest: dgst.String(), MediaType: mediaType, Actor: req.Pusher})
	}
	for _, t := range tags {
		s.opts.Events.Publish(events.Event{Kind: events.Push, Repository: req.Name, Tag: t, Digest: dgst.String(), MediaType: mediaType, Actor: req.Pusher})
	}
	res := &PutManifestResult{Digest: dgst, Tags: tags}
	if doc.Subject != nil {
		res.Subject = doc.Subject.Digest
	}
	return res, nil
}

// parseManifest checks a manifest's shape and settles its media type.
func parseManifest(contentType string, payload []byte) (*manifestDoc, string, error) {
	var doc manifestDoc
	dec := json.NewDecoder(bytes.NewReader(payload))
	if err := dec.Decode(&doc); err != nil {
		return nil, "", detailf(ErrManifestInvalid, nil, "manifest is not valid JSON: %v", err)
	}
	if dec.More() {
		return nil, "", detailf(ErrManifestInvalid, nil, "trailing data after the manifest")
	}
	ct := ""
	if contentType != "" {
		if mt, _, err := mime.ParseMediaType(contentType); err == nil {
			ct = mt
		}
	}
	mediaType := doc.MediaType
	switch {
	case mediaType != "" && ct != "" && ct != mediaType && ct != "application/json" && ct != "application/octet-stream":
		return nil, "", detailf(ErrManifestInvalid, nil, "Content-Type %q does not match the manifest's mediaType %q", ct, mediaType)
	case mediaType == "" && ct != "" && ct != "application/json" && ct != "application/octet-stream":
		mediaType = ct
	case mediaType == "" && doc.Manifests != nil:
		mediaType = MediaTypeOCIIndex
	case mediaType == "" && doc.Config != nil:
		mediaType = MediaTypeOCIManifest
	}
	switch mediaType {
	case mediaTypeDockerSchema1, mediaTypeDockerSigned:
		return nil, "", detailf(ErrManifestInvalid, nil, "Docker schema 1 manifests are not supported")
	case MediaTypeOCIManifest, MediaTypeOCIIndex, MediaTypeDockerManifest, MediaTypeDockerList:
	default:
		if doc.FSLayers != nil {
			return nil, "", detailf(ErrManifestInvalid, nil, "Docker schema 1 manifests are not supported")
		}
		return nil, "", detailf(ErrManifestInvalid, nil, "unsupported manifest media type %q", mediaType)
	}
	if doc.SchemaVersion == nil || *doc.SchemaVersion != 2 {
		return nil, "", detailf(ErrManifestInvalid, nil, "schemaVersion must be 2")
	}
	if artifact.IsIndexType(mediaType) {
		if doc.Layers != nil || doc.Config != nil {
			return nil, "", detailf(ErrManifestInvalid, nil, "an index cannot carry layers or a config")
		}
		if err := decodeDescriptors(doc.Manifests, &doc.manifests, "manifests"); err != nil {
			return nil, "", err
		}
	} else {
		if doc.Manifests != nil {
			return nil, "", detailf(ErrManifestInvalid, nil, "an image manifest cannot carry manifests")
		}
		if doc.Config == nil {
			return nil, "", detailf(ErrManifestInvalid, nil, "an image manifest needs a config")
		}
		if err := decodeDescriptors(doc.Layers, &doc.layers, "layers"); err != nil {
			return nil, "", err
		}
		if err := checkDescriptor(*doc.Config, "config"); err != nil {
			return nil, "", err
		}
	}
	if doc.Subject != nil {
		if err := checkDescriptor(*doc.Subject, "subject"); err != nil {
			return nil, "", err
		}
	}
	return &doc, mediaType, nil
}

func decodeDescriptors(raw json.RawMessage, out *[]ocispec.Descriptor, field string) error {
	if raw == nil || string(raw) == "null" {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return detailf(ErrManifestInvalid, nil, "%s: %v", field, err)
	}
	for i, d := range *out {
		if err := checkDescriptor(d, fmt.Sprintf("%s[%d]", field, i)); err != nil {
			return err
		}
	}
	return nil
}

func checkDescriptor(d ocispec.Descriptor, where string) error {
	if err := d.Digest.Validate(); err != nil {
		return detailf(ErrManifestInvalid, nil, "%s: invalid digest %q", where, d.Digest)
	}
	if d.Size < 0 {
		return detailf(ErrManifestInvalid, nil, "%s: negative size", where)
	}
	if d.MediaType == "" {
		return detailf(ErrManifestInvalid, nil, "%s: missing mediaType", where)
	}
	if d.Data != nil {
		if int64(len(d.Data)) != d.Size || d.Digest.Algorithm().FromBytes(d.Data) != d.Digest {
			return detailf(ErrManifestInvalid, nil, "%s: embedded data does not match its digest or size", where)
		}
	}
	return nil
}

// references lists the blobs and child manifests a manifest needs present.
// Non-distributable layers and the subject are exempt, as the spec says.
func references(doc *manifestDoc, mediaType string) (blobs, children []string, err error) {
	if artifact.IsIndexType(mediaType) {
		for _, d := range doc.manifests {
			children = append(children, d.Digest.String())
		}
		return nil, children, nil
	}
	blobs = append(blobs, doc.Config.Digest.String())
	for _, l := range doc.layers {
		if nonDistributable(l.MediaType) {
			continue
		}
		blobs = append(blobs, l.Digest.String())
	}
	return blobs, nil, nil
}

func nonDistributable(mt string) bool {
	return strings.Contains(mt, ".nondistributable.") || mt == mediaTypeDockerForeign
}

// Get finds a manifest of repository name by tag or digest.
func (s *Manifests) Get(ctx context.Context, name string, ref Reference) (*models.Manifest, error) {
	var m *models.Manifest
	var err error
	if ref.Digest != "" {
		m, err = s.db.Manifests.Get(ctx, name, ref.Digest.String())
	} else {
		m, err = s.db.Manifests.GetTagged(ctx, name, ref.Tag)
	}
	if errors.Is(err, models.ErrNotFound) {
		return nil, ErrManifestUnknown
	}
	return m, err
}

// Delete deletes a manifest (by digest) with its tags, or only a
// tag (by tag). actor is recorded on the event.
func (s *Manifests) Delete(ctx context.Context, name string, ref Reference, actor string) error {
	action := "manifest.delete"
	if ref.Digest == "" {
		action = "tag.delete"
	}
	noteChange(ctx, action, name, ref, "")
	var ok bool
	var err error
	if ref.Digest != "" {
		ok, err = s.db.Manifests.Delete(ctx, name, ref.Digest.String(), actor)
	} else {
		ok, err = s.db.Tags.Delete(ctx, name, ref.Tag, actor)
	}
	if err != nil {
		return fmt.Errorf("delete %s: %w", ref, err)
	}
	if !ok {
		return ErrManifestUnknown
	}
	if ref.Digest != "" {
		s.opts.Events.Publish(events.Event{Kind: events.ManifestDeleted, Repository: name, Digest: ref.Digest.String(), Actor: actor})
	} else {
		s.opts.Events.Publish(events.Event{Kind: events.TagDeleted, Repository: name, Tag: ref.Tag, Actor: actor})
	}
	return nil
}

// Referrer is one entry of the referrers API.
type Referrer = ocispec.Descriptor

// Referrers lists the manifests in repository name whose subject is dgst.
func (s *Manifests) Referrers(ctx context.Context, name string, dgst digest.Digest, artifactType string) ([]Referrer, error) {
	ms, err := s.db.Manifests.Referrers(ctx, name, dgst.String(), artifactType)
	if err != nil {
		return nil, err
	}
	out := make([]Referrer, 0, len(ms))
	for _, m := range ms {
		d := Referrer{MediaType: m.MediaType, Digest: digest.Digest(m.Digest), Size: m.Size, ArtifactType: m.ArtifactType}
		if m.Annotations != "" {
			_ = json.Unmarshal([]byte(m.Annotations), &d.Annotations)
		}
		out = append(out, d)
	}
	return out, nil
}

// Tags lists a repository's tags after last, at most n.
func (s *Manifests) Tags(ctx context.Context, name, last string, n int) ([]string, error) {
	if _, err := s.db.Repositories.Get(ctx, name); err != nil {
		if errors.Is(err, models.ErrNotFound) {
			return nil, ErrNameUnknown
		}
		return nil, err
	}
	return s.db.Tags.List(ctx, name, last, n)
}

// noteChange says which change of repository name's content this request
// makes, for the audit log (models.Note): the entry is written with it.
func noteChange(ctx context.Context, action, name string, ref Reference, detail string) {
	target := name + ":" + ref.Tag
	if ref.Digest != "" {
		target = name + "@" + ref.Digest.String()
	}
	models.Note(ctx, models.AuditNote{Action: action, Target: target, Namespace: models.NamespaceOf(name),
		Repository: name, Detail: detail})
}
