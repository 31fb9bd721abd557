package content

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/artifact"
	"github.com/wharfhub/wharf/server/events"
)

// Fill stores a manifest as a mirror's upstream has it: checked like a
// push (its size, shape and, when want is given, its digest), recorded with
// its references whether they are here yet or not (a mirror fetches blobs
// and child manifests as clients ask for them), with tag (if any) pointed
// at it and marked checked at checked. It is no push: no webhook fires.
func (s *Manifests) Fill(ctx context.Context, name, tag, contentType string, payload []byte, want digest.Digest, checked time.Time) (*models.Manifest, error) {
	if len(payload) > MaxManifestSize {
		return nil, detailf(ErrManifestTooLarge, nil, "manifest is %d bytes, the limit is %d", len(payload), MaxManifestSize)
	}
	alg := digest.Canonical
	if want != "" {
		alg = want.Algorithm()
	}
	dgst := alg.FromBytes(payload)
	if want != "" && dgst != want {
		return nil, detailf(ErrDigestInvalid, nil, "upstream manifest digest %s does not match %s", dgst, want)
	}
	if tag != "" && !ValidTag(tag) {
		return nil, detailf(ErrTagInvalid, nil, "invalid tag %q", tag)
	}
	doc, mediaType, err := parseManifest(contentType, payload)
	if err != nil {
		return nil, err
	}
	blobs, children, err := references(doc, mediaType)
	if err != nil {
		return nil, err
	}
	m, refs := record(doc, mediaType, payload, dgst, blobs, children)
	m.ContentSize, m.Platforms = s.describe(ctx, name, doc, mediaType)
	if err := s.db.Mirrors.Fill(ctx, name, m, refs, tag, checked, s.jobsFor(m, tag)...); err != nil {
		return nil, fmt.Errorf("store mirrored manifest %s: %w", dgst, err)
	}
	// Not a push (no webhook fires), but the repository changed: search
	// finds what a mirror has cached.
	s.opts.Events.Publish(events.Event{Kind: events.RepositoryChanged, Repository: name, Namespace: models.NamespaceOf(name)})
	return s.db.Manifests.Get(ctx, name, dgst.String())
}

// record is the row of a manifest and its references, for Put and Fill.
func record(doc *manifestDoc, mediaType string, payload []byte, dgst digest.Digest, blobs, children []string) (*models.Manifest, []models.ManifestReference) {
	m := &models.Manifest{Digest: dgst.String(), MediaType: mediaType, Size: int64(len(payload)),
		ArtifactType: doc.ArtifactType, Payload: payload}
	layerTypes := make([]string, len(doc.layers))
	for i, l := range doc.layers {
		layerTypes[i] = l.MediaType
	}
	if doc.Config != nil {
		m.ConfigDigest = doc.Config.Digest.String()
		if m.ArtifactType == "" && !artifact.IsIndexType(mediaType) {
			// The referrers API reports an image's config media type when
			// it declares no artifactType.
			m.ArtifactType = doc.Config.MediaType
		}
	}
	m.Kind = string(artifact.Classify(mediaType, m.ArtifactType, layerTypes))
	if doc.Subject != nil {
		m.SubjectDigest = doc.Subject.Digest.String()
	}
	if len(doc.Annotations) > 0 {
		a, _ := json.Marshal(doc.Annotations)
		m.Annotations = string(a)
	}
	refs := make([]models.ManifestReference, 0, len(blobs)+len(children))
	seen := map[string]bool{}
	for _, d := range blobs {
		if !seen[d] {
			seen[d] = true
			refs = append(refs, models.ManifestReference{Digest: d, Kind: models.RefBlob})
		}
	}
	for _, d := range children {
		if !seen[d] {
			seen[d] = true
			refs = append(refs, models.ManifestReference{Digest: d, Kind: models.RefManifest})
		}
	}
	return m, refs
}
