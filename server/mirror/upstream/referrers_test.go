package upstream

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/opencontainers/go-digest"
)

func TestReferrers(t *testing.T) {
	subject := digest.FromString("the image")
	sig := digest.FromString("a signature")
	index, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
		"manifests": []any{map[string]any{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sig, "size": 10,
			"artifactType": "application/vnd.dev.cosign.artifact.sig.v1+json"}}})
	fallbackTag := "sha256-" + subject.Encoded()
	for _, c := range []struct {
		name     string
		api      bool // the referrers API answers
		fallback bool // the tag-schema index exists
		want     int
	}{
		{"referrers API", true, false, 1},
		{"tag-schema fallback", false, true, 1},
		{"neither", false, false, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/v2/library/alpine/referrers/" + subject.String():
					if c.api {
						w.Header().Set("Content-Type", "application/vnd.oci.image.index.v1+json")
						_, _ = w.Write(index)
						return
					}
				case "/v2/library/alpine/manifests/" + fallbackTag:
					if c.fallback {
						w.Header().Set("Content-Type", "application/vnd.oci.image.index.v1+json")
						_, _ = w.Write(index)
						return
					}
				}
				http.Error(w, `{"errors":[{"code":"NOT_FOUND"}]}`, http.StatusNotFound)
			}))
			defer srv.Close()
			cl := newClient(t, Options{URL: srv.URL})
			got, err := cl.Referrers(context.Background(), "library/alpine", subject)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != c.want || (c.want == 1 && got[0].Digest != sig) {
				t.Fatalf("referrers %+v, want %d naming %s", got, c.want, sig)
			}
		})
	}
}
