package mirrortest

import (
	"bytes"
	_ "crypto/sha256" // go-digest's sha256
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
)

// OCI media types of the images RandomImage makes.
const (
	MediaTypeManifest = "application/vnd.oci.image.manifest.v1+json"
	MediaTypeConfig   = "application/vnd.oci.image.config.v1+json"
	MediaTypeLayer    = "application/vnd.oci.image.layer.v1.tar"
)

// Image is an image manifest with its blobs.
type Image struct {
	Manifest  []byte        // the manifest, as pushed
	MediaType string        // its media type
	Digest    digest.Digest // its digest
	Config    []byte        // the config blob
	Layers    [][]byte      // the layer blobs, in manifest order
}

type descriptor struct {
	MediaType string        `json:"mediaType"`
	Digest    digest.Digest `json:"digest"`
	Size      int64         `json:"size"`
}

type ociManifest struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType"`
	Config        descriptor   `json:"config"`
	Layers        []descriptor `json:"layers"`
}

// RandomImage makes an OCI image manifest with a config and n layers of
// size random bytes each (not real tar archives: registries do not look
// inside). The same seed, n and size give the same image, and different
// seeds different ones.
func RandomImage(seed int64, n, size int) Image {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x6d6972726f727465)) // "mirrorte"
	img := Image{MediaType: MediaTypeManifest, Layers: make([][]byte, n)}
	m := ociManifest{SchemaVersion: 2, MediaType: MediaTypeManifest, Layers: make([]descriptor, n)}
	diffIDs := make([]digest.Digest, n)
	for i := range n {
		b := make([]byte, size)
		for j := 0; j < size; j += 8 {
			v := rng.Uint64()
			for k := 0; k < 8 && j+k < size; k++ {
				b[j+k] = byte(v >> (8 * k))
			}
		}
		img.Layers[i] = b
		diffIDs[i] = digest.FromBytes(b)
		m.Layers[i] = descriptor{MediaType: MediaTypeLayer, Digest: diffIDs[i], Size: int64(size)}
	}
	cfg, err := json.Marshal(map[string]any{
		"architecture": "amd64",
		"os":           "linux",
		"config":       map[string]any{"Labels": map[string]string{"org.wharfhub.mirrortest.seed": strconv.FormatInt(seed, 10)}},
		"rootfs":       map[string]any{"type": "layers", "diff_ids": diffIDs},
	})
	if err != nil {
		panic(err)
	}
	img.Config = cfg
	m.Config = descriptor{MediaType: MediaTypeConfig, Digest: digest.FromBytes(cfg), Size: int64(len(cfg))}
	img.Manifest, err = json.Marshal(m)
	if err != nil {
		panic(err)
	}
	img.Digest = digest.FromBytes(img.Manifest)
	return img
}

var pushClient = &http.Client{Timeout: 5 * time.Minute}

// Push uploads img's config and layers to base/v2/repo (each with a POST
// and a monolithic PUT to the Location it answers, relative or absolute)
// and then its manifest under tag, with Basic auth if user is not empty.
// Any answer other than 2xx fails the test, with the body in the message.
func Push(t testing.TB, base, repo, tag, user, password string, img Image) {
	t.Helper()
	for _, b := range append([][]byte{img.Config}, img.Layers...) {
		pushBlob(t, base, repo, user, password, b)
	}
	u := base + "/v2/" + repo + "/manifests/" + tag
	req, err := http.NewRequest(http.MethodPut, u, bytes.NewReader(img.Manifest))
	if err != nil {
		t.Fatalf("mirrortest.Push: %v", err)
	}
	req.Header.Set("Content-Type", img.MediaType)
	do(t, "mirrortest.Push manifest", req, user, password)
}

func pushBlob(t testing.TB, base, repo, user, password string, b []byte) {
	t.Helper()
	start, err := url.Parse(base + "/v2/" + repo + "/blobs/uploads/")
	if err != nil {
		t.Fatalf("mirrortest.Push: %v", err)
	}
	req, _ := http.NewRequest(http.MethodPost, start.String(), nil)
	resp := do(t, "mirrortest.Push blob upload start", req, user, password)
	loc := resp.Header.Get("Location")
	if loc == "" {
		t.Fatalf("mirrortest.Push: POST %s answered %s without a Location", start, resp.Status)
	}
	lu, err := start.Parse(loc)
	if err != nil {
		t.Fatalf("mirrortest.Push: POST %s: bad Location %q: %v", start, loc, err)
	}
	q := lu.Query()
	q.Set("digest", digest.FromBytes(b).String())
	lu.RawQuery = q.Encode()
	req, _ = http.NewRequest(http.MethodPut, lu.String(), bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/octet-stream")
	do(t, "mirrortest.Push blob upload", req, user, password)
}

// DeleteManifest deletes the manifest d from base/v2/repo, with Basic auth
// if user is not empty (the registry must allow deletes, as
// StartDistribution's does). Any answer other than 2xx fails the test.
func DeleteManifest(t testing.TB, base, repo string, d digest.Digest, user, password string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodDelete, base+"/v2/"+repo+"/manifests/"+d.String(), nil)
	if err != nil {
		t.Fatalf("mirrortest.DeleteManifest: %v", err)
	}
	do(t, "mirrortest.DeleteManifest", req, user, password)
}

// do sends req and fails the test unless it answers 2xx. The body of the
// response it returns has been read and closed.
func do(t testing.TB, what string, req *http.Request, user, password string) *http.Response {
	t.Helper()
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	resp, err := pushClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %s %s: %v", what, req.Method, req.URL, err)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		t.Fatalf("%s: %s %s: %s: %s", what, req.Method, req.URL, resp.Status, bytes.TrimSpace(body))
	}
	if err != nil {
		t.Fatalf("%s: %s %s: reading the body: %v", what, req.Method, req.URL, err)
	}
	return resp
}
