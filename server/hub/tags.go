package hub

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/artifact"
	"github.com/wharfhub/wharf/server/auth"
	"github.com/wharfhub/wharf/server/content"
)

// Tag is a tag as the hub shows it.
type Tag struct {
	Name      string             `json:"name"`
	Digest    string             `json:"digest"`
	MediaType string             `json:"media_type"`
	Size      int64              `json:"size"`
	Platforms []content.Platform `json:"platforms"`
	PushedAt  time.Time          `json:"pushed_at"`
	Pusher    string             `json:"pusher"`
	// Kind is what the tag holds: image, index, helm, signature,
	// attestation, sbom, wasm or artifact.
	Kind         artifact.Kind `json:"kind"`
	ArtifactType string        `json:"artifact_type,omitempty"`
	// Signature is what the manifest's signatures say: verified,
	// unverified or unsigned.
	Signature string `json:"signature"`
	// Scan is what scanning it (or, for an index, its platforms) found.
	Scan ScanSummary `json:"scan"`
}

// Which tags a listing shows, by what they hold.
const (
	ShowAll       = ""
	ShowImages    = "images"
	ShowArtifacts = "artifacts"
)

// TagKinds are the manifest kinds that show picks (ShowAll: none, every
// tag).
func TagKinds(show string) ([]string, error) {
	switch show {
	case ShowAll:
		return nil, nil
	case ShowImages, ShowArtifacts:
	default:
		return nil, invalid("Tags can be shown as images or artifacts, not %q.", show)
	}
	var out []string
	for _, k := range artifact.Kinds {
		if k.IsImage() == (show == ShowImages) {
			out = append(out, string(k))
		}
	}
	if show == ShowArtifacts {
		out = append(out, "") // older rows whose media types did not settle it
	}
	return out, nil
}

// TagQuery picks and orders a page of tags: Filter (part of the name,
// any case), Sort ("pushed", newest first, the default; "name"; "size",
// biggest first), Limit and Offset.
type TagQuery = models.TagQuery

// Tags lists a repository's tags, newest first, a page at a time.
func (s *Repos) Tags(ctx context.Context, id *auth.Identity, name string, limit, offset int) ([]Tag, error) {
	tags, _, err := s.TagPage(ctx, id, name, TagQuery{Limit: limit, Offset: offset})
	return tags, err
}

// TagPage lists the page of a repository's tags that q picks, and how
// many tags q picks in all.
func (s *Repos) TagPage(ctx context.Context, id *auth.Identity, name string, q TagQuery) ([]Tag, int64, error) {
	if !models.ValidTagSort(q.Sort) {
		return nil, 0, invalid("tags sort by pushed, name or size, not %q", q.Sort)
	}
	if len(q.Filter) > 128 {
		return nil, 0, invalid("a tag filter is at most 128 characters")
	}
	r, err := s.authorizeRepo(ctx, id, name, auth.ActionPull)
	if err != nil {
		return nil, 0, err
	}
	total, err := s.db.Tags.Count(ctx, r.ID, q)
	if err != nil {
		return nil, 0, err
	}
	rows, err := s.db.Tags.Details(ctx, r.ID, q)
	if err != nil {
		return nil, 0, err
	}
	tags := tagsOf(rows)
	digests := make([]string, len(tags))
	for i, t := range tags {
		digests[i] = t.Digest
	}
	st, err := s.db.Signatures.Statuses(ctx, r.ID, digests)
	if err != nil {
		return nil, 0, err
	}
	children := map[string][]string{}
	for _, t := range tags {
		for _, p := range t.Platforms {
			if p.Digest != "" {
				children[t.Digest] = append(children[t.Digest], p.Digest)
			}
		}
	}
	scans, err := s.scanSummaries(ctx, r.ID, digests, children)
	if err != nil {
		return nil, 0, err
	}
	for i := range tags {
		tags[i].Signature = st[tags[i].Digest]
		tags[i].Scan = scans[tags[i].Digest]
	}
	return tags, total, nil
}

// PullTag is the tag a pull command names: latest if there is one, else
// the newest image pushed, else the newest push (a chart, an artifact);
// nil for a repository with no tags. Under a policy that requires a
// signature it is the newest signed image (latest first), if any.
func (s *Repos) PullTag(ctx context.Context, id *auth.Identity, name string) (*Tag, error) {
	r, err := s.authorizeRepo(ctx, id, name, auth.ActionPull)
	if err != nil {
		return nil, err
	}
	images, _ := TagKinds(ShowImages)
	if t, err := s.signedPullTag(ctx, &r.Repository, images); t != nil || err != nil {
		return t, err
	}
	for _, q := range []TagQuery{{Name: "latest", Limit: 1}, {Kinds: images, Limit: 1}, {Limit: 1}} {
		rows, err := s.db.Tags.Details(ctx, r.ID, q)
		if err != nil {
			return nil, err
		}
		if len(rows) > 0 {
			return &tagsOf(rows)[0], nil
		}
	}
	return nil, nil
}

// signedPullTag is the pull tag under a policy that requires a
// signature: latest if it is signed, else the newest signed of the 100
// newest images; nil if there is no such policy or no such tag.
func (s *Repos) signedPullTag(ctx context.Context, r *models.Repository, images []string) (*Tag, error) {
	ns, err := s.db.Policies.Namespace(ctx, r.Namespace)
	if err != nil || !r.Policy.Join(ns).RequireSignature {
		return nil, err
	}
	rows, err := s.db.Tags.Details(ctx, r.ID, TagQuery{Kinds: images, Limit: 100})
	if err != nil {
		return nil, err
	}
	tags := tagsOf(rows)
	digests := make([]string, len(tags))
	for i, t := range tags {
		digests[i] = t.Digest
	}
	st, err := s.db.Signatures.Statuses(ctx, r.ID, digests)
	if err != nil {
		return nil, err
	}
	var pick *Tag
	for i := range tags {
		if t := &tags[i]; st[t.Digest] == models.SignatureVerified && (pick == nil || t.Name == "latest") {
			t.Signature = models.SignatureVerified
			if pick = t; t.Name == "latest" {
				break
			}
		}
	}
	return pick, nil
}

func tagsOf(rows []models.TagDetail) []Tag {
	out := make([]Tag, 0, len(rows))
	for _, row := range rows {
		t := Tag{Name: row.Name, Digest: row.Digest, MediaType: row.MediaType, Size: row.ContentSize,
			PushedAt: row.UpdatedAt, Pusher: row.Pusher, Platforms: []content.Platform{},
			Kind: kindOf(row.Kind, row.MediaType, row.ArtifactType, row.Name, nil), ArtifactType: row.ArtifactType}
		if row.Platforms != "" {
			_ = json.Unmarshal([]byte(row.Platforms), &t.Platforms)
		}
		out = append(out, t)
	}
	return out
}

// MaxTagsDeleted is how many tags one deletion may name.
const MaxTagsDeleted = 1000

// TagDeletion is what a deletion of tags takes with it: the tags, the
// manifests left with none (with what only they held), and the names
// that were no tag.
type TagDeletion = models.TagDeletion

// DeleteTags deletes the named tags of a repository with the manifests
// that are left with no tag, no index holding them and no subject; with
// dryRun it only says what would go. It needs the right to delete.
func (s *Repos) DeleteTags(ctx context.Context, id *auth.Identity, name string, tags []string, dryRun bool) (*TagDeletion, error) {
	noteRepo(ctx, "tag.delete", name, "", "tags "+listed(tags))
	switch {
	case len(tags) == 0:
		return nil, invalid("Name at least one tag to delete.")
	case len(tags) > MaxTagsDeleted:
		return nil, invalid("One deletion names at most %d tags, not %d.", MaxTagsDeleted, len(tags))
	}
	seen := make(map[string]bool, len(tags))
	names := make([]string, 0, len(tags))
	for _, t := range tags {
		if !content.ValidTag(t) {
			if sayable(t, 128) {
				return nil, invalid("%q is not a tag name.", t)
			}
			return nil, invalid("A tag to delete is not a tag name.")
		}
		if !seen[t] {
			seen[t] = true
			names = append(names, t)
		}
	}
	r, err := s.authorizeRepo(ctx, id, name, auth.ActionDelete)
	if err != nil {
		return nil, err
	}
	d, err := s.db.Tags.DeleteMany(ctx, r.ID, r.Name, names, id.Username, dryRun)
	if errors.Is(err, models.ErrTooMany) {
		return nil, invalid("That deletion would take too many manifests at once: delete fewer tags.")
	}
	return d, err
}
