package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// prng is a deterministic byte stream of a fixed size. Word k of the stream
// is splitmix64(seed, k), i.e. the content is a pure function of the offset,
// so the output is identical however the consumer chunks its reads. That is
// what lets us hash the blob in one pass and upload it in a second (or replay
// it after a 401) without ever holding it in memory. It produces several
// GB/s, far faster than any registry ingests, so it never limits the push.
type prng struct {
	seed      uint64
	off, size int64
}

func newPRNG(seed uint64, size int64) *prng { return &prng{seed: seed, size: size} }

func (r *prng) word(k uint64) uint64 {
	z := r.seed + (k+1)*0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (r *prng) Read(p []byte) (int, error) {
	if r.off >= r.size {
		return 0, io.EOF
	}
	if rem := r.size - r.off; int64(len(p)) > rem {
		p = p[:rem]
	}
	n := len(p)
	off := r.off
	i := 0
	// Unaligned head, bulk 8-byte words, unaligned tail.
	for ; i < n && off%8 != 0; i, off = i+1, off+1 {
		p[i] = byte(r.word(uint64(off/8)) >> (8 * (off % 8)))
	}
	k := uint64(off / 8)
	for ; i+8 <= n; i, k = i+8, k+1 {
		binary.LittleEndian.PutUint64(p[i:], r.word(k))
	}
	off = int64(k) * 8
	for ; i < n; i, off = i+1, off+1 {
		p[i] = byte(r.word(uint64(off/8)) >> (8 * (off % 8)))
	}
	r.off += int64(n)
	return n, nil
}

// blobDigest hashes the generated blob without keeping it (first pass).
func blobDigest(seed uint64, size int64) string {
	h := sha256.New()
	buf := make([]byte, 1<<20)
	if _, err := io.CopyBuffer(h, newPRNG(seed, size), buf); err != nil {
		panic(err) // cannot happen: prng and sha256 never fail
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// pushBlob uploads a blob with the sequence every OCI registry must support:
// POST to open an upload session, one streamed PATCH carrying the whole
// body, then PUT ?digest= to commit. body must produce exactly size bytes.
func (c *client) pushBlob(ctx context.Context, repo, digest string, size int64, body func() io.Reader) error {
	start, err := c.do(ctx, request{method: http.MethodPost, url: c.url("/v2/" + repo + "/blobs/uploads/"),
		body: func() io.Reader { return http.NoBody }})
	if err != nil {
		return fmt.Errorf("start upload: %w", err)
	}
	if err := expect(start, "start upload", http.StatusAccepted); err != nil {
		return err
	}
	drain(start)
	loc, err := location(start)
	if err != nil {
		return fmt.Errorf("start upload: %w", err)
	}

	tStart := time.Now()
	hdr := http.Header{"Content-Type": {"application/octet-stream"}}
	patch, err := c.do(ctx, request{method: http.MethodPatch, url: loc, header: hdr, body: body, length: size})
	if err != nil {
		return fmt.Errorf("upload data: %w", err)
	}
	if err := expect(patch, "upload data", http.StatusAccepted, http.StatusNoContent); err != nil {
		return err
	}
	drain(patch)
	if l, err := location(patch); err == nil {
		loc = l // registries may rotate the upload URL (state token) per chunk
	}

	tData := time.Now()
	u, err := url.Parse(loc)
	if err != nil {
		return err
	}
	q := u.Query()
	q.Set("digest", digest)
	u.RawQuery = q.Encode()
	put, err := c.do(ctx, request{method: http.MethodPut, url: u.String(),
		body: func() io.Reader { return http.NoBody }})
	if err != nil {
		return fmt.Errorf("commit upload: %w", err)
	}
	if err := expect(put, "commit upload", http.StatusCreated); err != nil {
		return err
	}
	drain(put)
	if size >= 1<<20 { // where the time went, for big blobs only
		logf("push %s: data (PATCH) %.3fs, commit (PUT) %.3fs", sizeLabel(size),
			tData.Sub(tStart).Seconds(), time.Since(tData).Seconds())
	}
	return nil
}

// location resolves the Location header against the request URL; registries
// may return it relative or absolute.
func location(resp *http.Response) (string, error) {
	l := resp.Header.Get("Location")
	if l == "" {
		return "", fmt.Errorf("%s: no Location header", resp.Request.URL)
	}
	u, err := resp.Request.URL.Parse(l)
	if err != nil {
		return "", err
	}
	return u.String(), nil
}

// pullBlob GETs a blob, hashing the body on the fly so a registry that
// returns wrong bytes cannot post a good number. Returns bytes received;
// first, if set, is called when the first byte of the body arrives.
func (c *client) pullBlob(ctx context.Context, repo, digest string, first ...func()) (int64, error) {
	resp, err := c.do(ctx, request{method: http.MethodGet, url: c.url("/v2/" + repo + "/blobs/" + digest)})
	if err != nil {
		return 0, err
	}
	if err := expect(resp, "pull blob", http.StatusOK); err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	h := sha256.New()
	buf := make([]byte, 1<<20)
	var n int64
	if len(first) > 0 {
		k, err := io.ReadAtLeast(resp.Body, buf, 1)
		if err != nil {
			return 0, fmt.Errorf("pull blob: %w", err)
		}
		first[0]()
		h.Write(buf[:k])
		n = int64(k)
	}
	m, err := io.CopyBuffer(h, resp.Body, buf)
	n += m
	if err != nil {
		return n, fmt.Errorf("pull blob: %w", err)
	}
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != digest {
		return n, fmt.Errorf("pull blob: digest mismatch: got %s want %s (%d bytes)", got, digest, n)
	}
	return n, nil
}

const (
	mtManifest = "application/vnd.oci.image.manifest.v1+json"
	mtConfig   = "application/vnd.oci.image.config.v1+json"
	mtLayer    = "application/vnd.oci.image.layer.v1.tar"
)

type descriptor struct {
	MediaType string `json:"mediaType"`
	Digest    string `json:"digest"`
	Size      int64  `json:"size"`
}

// pushImage uploads a small config blob and an OCI manifest referencing it
// and the layer, tagged tag. It returns the manifest bytes so the load tests
// can check responses byte for byte.
func (c *client) pushImage(ctx context.Context, repo, tag string, layer descriptor) ([]byte, error) {
	cfg, _ := json.Marshal(map[string]any{
		"architecture": "amd64",
		"os":           "linux",
		"created":      time.Unix(0, 0).UTC(),
		"rootfs":       map[string]any{"type": "layers", "diff_ids": []string{layer.Digest}},
	})
	sum := sha256.Sum256(cfg)
	cfgDesc := descriptor{MediaType: mtConfig, Digest: "sha256:" + hex.EncodeToString(sum[:]), Size: int64(len(cfg))}
	if err := c.pushBlob(ctx, repo, cfgDesc.Digest, cfgDesc.Size,
		func() io.Reader { return bytes.NewReader(cfg) }); err != nil {
		return nil, fmt.Errorf("config blob: %w", err)
	}
	man, _ := json.Marshal(struct {
		SchemaVersion int          `json:"schemaVersion"`
		MediaType     string       `json:"mediaType"`
		Config        descriptor   `json:"config"`
		Layers        []descriptor `json:"layers"`
	}{2, mtManifest, cfgDesc, []descriptor{layer}})
	resp, err := c.do(ctx, request{
		method: http.MethodPut,
		url:    c.url("/v2/" + repo + "/manifests/" + tag),
		header: http.Header{"Content-Type": {mtManifest}},
		body:   func() io.Reader { return bytes.NewReader(man) },
		length: int64(len(man)),
	})
	if err != nil {
		return nil, fmt.Errorf("put manifest: %w", err)
	}
	if err := expect(resp, "put manifest", http.StatusCreated); err != nil {
		return nil, err
	}
	drain(resp)
	return man, nil
}

// getManifest GETs repo:tag as docker would ask for it.
func (c *client) getManifest(ctx context.Context, repo, tag string) ([]byte, error) {
	resp, err := c.do(ctx, request{method: http.MethodGet, url: c.url("/v2/" + repo + "/manifests/" + tag),
		header: http.Header{"Accept": {manifestAccept}}})
	if err != nil {
		return nil, err
	}
	if err := expect(resp, "GET manifest", http.StatusOK); err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(io.LimitReader(resp.Body, 4<<20))
}

// blobExists reports whether HEAD on the blob succeeds.
func (c *client) blobExists(ctx context.Context, repo, digest string) (bool, error) {
	resp, err := c.do(ctx, request{method: http.MethodHead, url: c.url("/v2/" + repo + "/blobs/" + digest)})
	if err != nil {
		return false, err
	}
	drain(resp)
	return resp.StatusCode == http.StatusOK, nil
}
