package upstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/opencontainers/go-digest"
)

// Descriptor is one entry of a referrers index.
type Descriptor struct {
	MediaType    string        `json:"mediaType"`
	Digest       digest.Digest `json:"digest"`
	Size         int64         `json:"size"`
	ArtifactType string        `json:"artifactType,omitempty"`
}

// Referrers lists the manifests that name d as their subject: from the
// upstream's referrers API, or, when it has none (404), from the
// tag-schema fallback index (the tag sha256-<hex>), as OCI 1.1 says. An
// upstream with neither has no referrers of d (an empty list, no error).
func (c *Client) Referrers(ctx context.Context, repo string, d digest.Digest) ([]Descriptor, error) {
	if _, err := checkRef(repo, d.String()); err != nil {
		return nil, err
	}
	u := c.base + "/v2/" + repo + "/referrers/" + d.String()
	resp, err := c.send(ctx, http.MethodGet, u, repo, http.Header{"Accept": {"application/vnd.oci.image.index.v1+json"}})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body []byte
	switch err := c.check(resp); {
	case err == nil:
		if body, err = io.ReadAll(io.LimitReader(resp.Body, MaxManifestSize+1)); err != nil {
			return nil, wrap(http.MethodGet, u, fmt.Errorf("reading referrers: %w", err))
		}
	case isNotFound(err):
		// No referrers API: the fallback tag, if the upstream has it.
		m, err := c.GetManifest(ctx, repo, d.Algorithm().String()+"-"+d.Encoded())
		if isNotFound(err) {
			return []Descriptor{}, nil
		}
		if err != nil {
			return nil, err
		}
		body = m.Body
	default:
		return nil, wrap(http.MethodGet, u, err)
	}
	if len(body) > MaxManifestSize {
		return nil, wrap(http.MethodGet, u, fmt.Errorf("referrers index exceeds the %d byte limit", MaxManifestSize))
	}
	var idx struct {
		Manifests []Descriptor `json:"manifests"`
	}
	if err := json.Unmarshal(body, &idx); err != nil {
		return nil, wrap(http.MethodGet, u, fmt.Errorf("referrers index: %w", err))
	}
	out := idx.Manifests[:0]
	for _, m := range idx.Manifests {
		if m.Digest.Validate() == nil {
			out = append(out, m)
		}
	}
	return out, nil
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
