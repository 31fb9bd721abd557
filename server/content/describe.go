package content

import (
	"context"
	"encoding/json"
	"io"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wharfhub/wharf/server/artifact"
)

// Platform is one os/architecture a manifest runs on; in an index, with
// the digest and the compressed size of that platform's image.
type Platform struct {
	OS           string `json:"os"`
	Architecture string `json:"architecture"`
	Variant      string `json:"variant,omitempty"`
	Digest       string `json:"digest,omitempty"`
	Size         int64  `json:"size,omitempty"`
}

// maxConfigRead bounds how much of an image config is read to learn its
// platform.
const maxConfigRead = 1 << 20

var imageConfigTypes = map[string]bool{
	ocispec.MediaTypeImageConfig:                     true,
	"application/vnd.docker.container.image.v1+json": true,
}

// describe works out what the hub shows for a manifest: the compressed
// size a pull downloads (for an index, its biggest platform's: a pull
// fetches one) and the platforms it serves. Failures only leave the
// description empty; they never fail a push.
func (s *base) describe(ctx context.Context, name string, doc *manifestDoc, mediaType string) (int64, string) {
	var size int64
	var platforms []Platform
	if artifact.IsIndexType(mediaType) {
		var digests []string
		for _, d := range doc.manifests {
			digests = append(digests, d.Digest.String())
		}
		sizes, _ := s.db.Manifests.ContentSizes(ctx, name, digests)
		for _, d := range doc.manifests {
			if p := d.Platform; p != nil && p.OS != "unknown" && p.OS != "" {
				n := sizes[d.Digest.String()]
				size = max(size, n)
				platforms = append(platforms, Platform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant, Digest: d.Digest.String(), Size: n})
			}
		}
		if len(platforms) == 0 {
			// An index of artifacts (or attestations): what it holds in all.
			for _, d := range doc.manifests {
				size += sizes[d.Digest.String()]
			}
		}
	} else {
		size = doc.Config.Size
		for _, l := range doc.layers {
			size += l.Size
		}
		if p := s.configPlatform(ctx, doc.Config); p != nil {
			platforms = append(platforms, *p)
		}
	}
	if len(platforms) == 0 {
		return size, ""
	}
	b, _ := json.Marshal(platforms)
	return size, string(b)
}

func (s *base) configPlatform(ctx context.Context, d *ocispec.Descriptor) *Platform {
	if !imageConfigTypes[d.MediaType] || d.Size > maxConfigRead {
		return nil
	}
	c, err := s.store.Open(ctx, d.Digest)
	if err != nil {
		return nil
	}
	defer c.Close()
	var p Platform
	if err := json.NewDecoder(io.LimitReader(c, maxConfigRead)).Decode(&p); err != nil || p.OS == "" || p.OS == "unknown" {
		return nil
	}
	return &p
}
