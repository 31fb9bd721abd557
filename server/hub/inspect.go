package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/artifact"
	"github.com/wharfhub/wharf/server/auth"
	"github.com/wharfhub/wharf/server/content"
)

// BlobOpener reads a blob of a repository (content.Blobs.Open is one).
type BlobOpener func(ctx context.Context, name string, dgst digest.Digest) (io.ReadCloser, error)

// Inspect looks inside what a repository holds: a tag's or a digest's
// manifest, with its platforms, layers, history, config and referrers.
type Inspect struct {
	*base
	blobs BlobOpener
}

// Limits of what a manifest's page reads and shows.
const (
	// MaxConfigShown is the largest config (or Helm chart config) read.
	MaxConfigShown = 4 << 20
	// maxReferrers bounds the referrers tree, over all its levels.
	maxReferrers = 200
	// maxReferrerDepth is how deep referrers of referrers go (a
	// signature of an SBOM of an image is depth 2).
	maxReferrerDepth = 4
	// maxTagsShown is how many tags of one digest the page names.
	maxTagsShown = 20
)

// Manifest is a manifest as its page shows it.
type Manifest struct {
	Repository string `json:"repository"`
	// Tag is the tag the page was opened by ("" by digest); Tags are
	// the tags that point at the digest.
	Tag  string   `json:"tag,omitempty"`
	Tags []string `json:"tags"`
	// Digest, MediaType, Size and ArtifactType are the manifest's own.
	Digest       string        `json:"digest"`
	MediaType    string        `json:"media_type"`
	ArtifactType string        `json:"artifact_type,omitempty"`
	Size         int64         `json:"size"`
	Kind         artifact.Kind `json:"kind"`
	// ContentSize is what a pull downloads.
	ContentSize int64             `json:"content_size"`
	PushedAt    time.Time         `json:"pushed_at"`
	Pusher      string            `json:"pusher,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	// Subject is the digest this manifest is attached to, if any.
	Subject string `json:"subject,omitempty"`
	// Platforms are an index's entries.
	Platforms []PlatformEntry `json:"platforms,omitempty"`
	// Config is an image's config (or an artifact's config descriptor).
	Config *ocispec.Descriptor `json:"config,omitempty"`
	// Image is an image's decoded config; nil when it is not stored here
	// (a mirror fetches it on a pull), too large, or not an image's.
	Image *ocispec.Image `json:"image,omitempty"`
	// ConfigNote says why Image (or Chart) is missing, if it is.
	ConfigNote string `json:"config_note,omitempty"`
	// Layers are an image's layers, or an artifact's files.
	Layers []ocispec.Descriptor `json:"layers,omitempty"`
	// History is an image's build history, with each step's layer.
	History []HistoryStep `json:"history,omitempty"`
	// Chart is a Helm chart's metadata.
	Chart *Chart `json:"chart,omitempty"`
	// Referrers are what is attached to this manifest, as a tree.
	Referrers []Referrer `json:"referrers"`
	// Signature is what its signatures say; Scan what scanning found.
	Signature SignatureSummary `json:"signature"`
	Scan      ScanSummary      `json:"scan"`
}

// PlatformEntry is one manifest of an index.
type PlatformEntry struct {
	Platform    string        `json:"platform,omitempty"` // os/arch[/variant], or "" for an entry with none
	Digest      string        `json:"digest"`
	MediaType   string        `json:"media_type"`
	Kind        artifact.Kind `json:"kind"`
	ContentSize int64         `json:"content_size"`
	// Stored says whether this registry holds the manifest (a mirror
	// fetches an index's entries as they are pulled).
	Stored bool `json:"stored"`
	// AttestsTo is the entry a buildx attestation describes.
	AttestsTo string `json:"attests_to,omitempty"`
}

// HistoryStep is one step of an image's history.
type HistoryStep struct {
	ocispec.History
	// Layer is the layer the step made; nil for an empty layer.
	Layer *ocispec.Descriptor `json:"layer,omitempty"`
}

// Chart is what a Helm chart's config says.
type Chart struct {
	Name        string `json:"name"`
	Version     string `json:"version"`
	AppVersion  string `json:"appVersion"`
	Description string `json:"description"`
	APIVersion  string `json:"apiVersion"`
	Type        string `json:"type"`
}

// Referrer is a manifest attached to another, with what is attached to it.
type Referrer struct {
	Digest       string            `json:"digest"`
	MediaType    string            `json:"media_type"`
	ArtifactType string            `json:"artifact_type,omitempty"`
	Kind         artifact.Kind     `json:"kind"`
	Size         int64             `json:"size"` // what a pull of it downloads
	Pusher       string            `json:"pusher,omitempty"`
	PushedAt     time.Time         `json:"pushed_at"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	// Tag is the cosign tag (sha256-HEX.sig) it was attached by, if it
	// was attached that way rather than through a subject.
	Tag      string     `json:"tag,omitempty"`
	Children []Referrer `json:"children,omitempty"`
}

// ManifestRef names a manifest by its Tag or, when set, its Digest, as
// the caller wrote them.
type ManifestRef struct{ Tag, Digest string }

// manifestByRef loads the manifest ref names in a repository the caller
// may do action on. A tag that cannot be one is not found; a digest that
// is not one is refused.
func (s *base) manifestByRef(ctx context.Context, id *auth.Identity, name string, ref ManifestRef, action auth.Action) (*Repository, *models.Manifest, error) {
	if ref.Digest != "" {
		if _, err := digest.Parse(ref.Digest); err != nil {
			return nil, nil, invalid("That is not a digest: a digest reads like sha256:0123….")
		}
	} else if !content.ValidTag(ref.Tag) {
		return nil, nil, ErrNotFound
	}
	r, err := s.authorizeRepo(ctx, id, name, action)
	if err != nil {
		return nil, nil, err
	}
	var row *models.Manifest
	if ref.Digest != "" {
		row, err = s.db.Manifests.Get(ctx, r.Name, ref.Digest)
	} else {
		row, err = s.db.Manifests.GetTagged(ctx, r.Name, ref.Tag)
	}
	if errors.Is(err, models.ErrNotFound) {
		return nil, nil, ErrNotFound
	}
	if err != nil {
		return nil, nil, err
	}
	return r, row, nil
}

// Describe opens a repository's manifest by tag or by digest for the
// caller. A tag that cannot be is not found; a digest that is not one is
// refused.
func (s *Inspect) Describe(ctx context.Context, id *auth.Identity, name string, ref ManifestRef) (*Manifest, error) {
	if ref.Digest != "" {
		ref.Tag = ""
	}
	r, row, err := s.manifestByRef(ctx, id, name, ref, auth.ActionPull)
	if err != nil {
		return nil, err
	}
	m := &Manifest{Repository: r.Name, Tag: ref.Tag, Digest: row.Digest, MediaType: row.MediaType, Size: row.Size,
		ArtifactType: row.ArtifactType, ContentSize: row.ContentSize, PushedAt: row.CreatedAt, Pusher: row.Pusher,
		Subject: row.SubjectDigest}
	if m.Tags, err = s.db.Tags.OfManifest(ctx, row.ID, maxTagsShown); err != nil {
		return nil, err
	}
	if m.Signature, err = s.signatures(ctx, r.ID, row.Digest); err != nil {
		return nil, err
	}
	var doc struct {
		ArtifactType string               `json:"artifactType"`
		Config       *ocispec.Descriptor  `json:"config"`
		Layers       []ocispec.Descriptor `json:"layers"`
		Manifests    []ocispec.Descriptor `json:"manifests"`
		Annotations  map[string]string    `json:"annotations"`
	}
	if err := json.Unmarshal(row.Payload, &doc); err != nil {
		return nil, fmt.Errorf("manifest %s of %s: %w", row.Digest, r.Name, err)
	}
	m.Annotations, m.Config, m.Layers = doc.Annotations, doc.Config, doc.Layers
	m.Kind = kindOf(row.Kind, row.MediaType, row.ArtifactType, ref.Tag, doc.Layers)
	children := map[string][]string{}
	if artifact.IsIndexType(row.MediaType) {
		if m.Platforms, err = s.entries(ctx, r.Name, doc.Manifests); err != nil {
			return nil, err
		}
		for _, c := range doc.Manifests {
			children[row.Digest] = append(children[row.Digest], c.Digest.String())
		}
	} else if doc.Config != nil {
		s.readConfig(ctx, r.Name, m)
	}
	scans, err := s.scanSummaries(ctx, r.ID, []string{row.Digest}, children)
	if err != nil {
		return nil, err
	}
	m.Scan = scans[row.Digest]
	if m.Subject == "" {
		if subject, _, ok := artifact.CosignSubject(ref.Tag); ok {
			m.Subject = subject
		}
	}
	budget := maxReferrers
	if m.Referrers, err = s.referrers(ctx, r.Name, row.Digest, 1, &budget); err != nil {
		return nil, err
	}
	return m, nil
}

// kindOf is a manifest's kind: the recorded one, else what its media
// types, its layers and a cosign tag name say.
func kindOf(recorded, mediaType, artifactType, tag string, layers []ocispec.Descriptor) artifact.Kind {
	k := artifact.Kind(recorded)
	if k == "" || k == artifact.Image {
		types := make([]string, len(layers))
		for i, l := range layers {
			types[i] = l.MediaType
		}
		k = artifact.Classify(mediaType, artifactType, types)
	}
	if _, tk, ok := artifact.CosignSubject(tag); ok && k == artifact.Image {
		k = tk
	}
	return k
}

// entries describes an index's manifests.
func (s *Inspect) entries(ctx context.Context, name string, ds []ocispec.Descriptor) ([]PlatformEntry, error) {
	digests := make([]string, len(ds))
	for i, d := range ds {
		digests[i] = d.Digest.String()
	}
	rows, err := s.db.Manifests.Summaries(ctx, name, digests)
	if err != nil {
		return nil, err
	}
	by := make(map[string]models.Manifest, len(rows))
	for _, row := range rows {
		by[row.Digest] = row
	}
	out := make([]PlatformEntry, 0, len(ds))
	for _, d := range ds {
		e := PlatformEntry{Digest: d.Digest.String(), MediaType: d.MediaType}
		if p := d.Platform; p != nil && p.OS != "" && p.OS != "unknown" {
			e.Platform = p.OS + "/" + p.Architecture
			if p.Variant != "" {
				e.Platform += "/" + p.Variant
			}
		}
		e.AttestsTo = d.Annotations["vnd.docker.reference.digest"]
		if row, ok := by[e.Digest]; ok {
			e.Stored, e.ContentSize = true, row.ContentSize
			e.Kind = kindOf(row.Kind, row.MediaType, row.ArtifactType, "", nil)
		} else {
			e.Kind = artifact.Classify(d.MediaType, d.ArtifactType, nil)
		}
		if d.Annotations["vnd.docker.reference.type"] == "attestation-manifest" {
			e.Kind = artifact.Attestation
		}
		out = append(out, e)
	}
	return out, nil
}

// readConfig reads an image's config, or a Helm chart's, into m.
func (s *Inspect) readConfig(ctx context.Context, name string, m *Manifest) {
	image := artifact.IsImageConfig(m.Config.MediaType)
	if !image && m.Kind != artifact.Helm {
		return
	}
	if m.Config.Size > MaxConfigShown {
		m.ConfigNote = fmt.Sprintf("The config is %d bytes, too large to show here.", m.Config.Size)
		return
	}
	b, err := s.readBlob(ctx, name, *m.Config)
	if err != nil {
		m.ConfigNote = "The config is not stored in this registry."
		if !errors.Is(err, errBlobAbsent) {
			m.ConfigNote = "The config cannot be read: " + err.Error()
		}
		return
	}
	if !image {
		var c Chart
		if json.Unmarshal(b, &c) == nil {
			m.Chart = &c
		}
		return
	}
	var img ocispec.Image
	if err := json.Unmarshal(b, &img); err != nil {
		m.ConfigNote = "The config is not valid JSON."
		return
	}
	m.Image = &img
	layer := 0
	for _, h := range img.History {
		step := HistoryStep{History: h}
		if !h.EmptyLayer && layer < len(m.Layers) {
			step.Layer = &m.Layers[layer]
			layer++
		}
		m.History = append(m.History, step)
	}
}

var errBlobAbsent = errors.New("blob not stored")

// readBlob reads a small blob whole, checking it against its descriptor.
func (s *Inspect) readBlob(ctx context.Context, name string, d ocispec.Descriptor) ([]byte, error) {
	if s.blobs == nil {
		return nil, errBlobAbsent
	}
	if err := d.Digest.Validate(); err != nil {
		return nil, err
	}
	rc, err := s.blobs(ctx, name, d.Digest)
	if err != nil {
		return nil, errBlobAbsent
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, d.Size+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) != d.Size || d.Digest.Algorithm().FromBytes(b) != d.Digest {
		return nil, errors.New("its content does not match its digest")
	}
	return b, nil
}

// referrers is the tree of what is attached to dgst: through the
// referrers API's subject, and through cosign's tags (sha256-HEX.sig,
// .att, .sbom) for clients that attach that way.
func (s *Inspect) referrers(ctx context.Context, name, dgst string, depth int, budget *int) ([]Referrer, error) {
	if depth > maxReferrerDepth || *budget <= 0 {
		return nil, nil
	}
	rows, err := s.db.Manifests.Referrers(ctx, name, dgst, "")
	if err != nil {
		return nil, err
	}
	out := make([]Referrer, 0, len(rows))
	seen := map[string]bool{}
	for _, row := range rows {
		if *budget <= 0 {
			break
		}
		*budget--
		seen[row.Digest] = true
		out = append(out, referrerOf(row, ""))
	}
	if d, err := digest.Parse(dgst); err == nil && d.Algorithm() == digest.SHA256 {
		for _, suffix := range []string{"sig", "att", "sbom"} {
			tag := "sha256-" + d.Encoded() + "." + suffix
			row, err := s.db.Manifests.GetTagged(ctx, name, tag)
			if errors.Is(err, models.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			if seen[row.Digest] || *budget <= 0 {
				continue
			}
			*budget--
			out = append(out, referrerOf(*row, tag))
		}
	}
	for i := range out {
		if out[i].Children, err = s.referrers(ctx, name, out[i].Digest, depth+1, budget); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func referrerOf(row models.Manifest, tag string) Referrer {
	r := Referrer{Digest: row.Digest, MediaType: row.MediaType, ArtifactType: row.ArtifactType, Size: row.ContentSize,
		Pusher: row.Pusher, PushedAt: row.CreatedAt, Tag: tag}
	if r.Size == 0 {
		r.Size = row.Size
	}
	r.Kind = kindOf(row.Kind, row.MediaType, row.ArtifactType, tag, nil)
	if artifact.IsImageConfig(r.ArtifactType) {
		r.ArtifactType = "" // an image's config type says nothing of what is attached
	}
	if row.Annotations != "" {
		_ = json.Unmarshal([]byte(row.Annotations), &r.Annotations)
	}
	return r
}
