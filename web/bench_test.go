package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/wharfhub/wharf/server"
	"github.com/wharfhub/wharf/server/config"
	"github.com/wharfhub/wharf/server/servertest"
)

// seedLarge fills a database with repositories and tags quickly, straight
// through SQL: every repository gets tagsPer tags on one manifest.
func seedLarge(b *testing.B, app *server.App, repos, tagsPer int) {
	b.Helper()
	db := app.DB.Writer()
	now := time.Now().UTC()
	err := db.Exec("INSERT INTO namespaces (name, kind, created_at) VALUES ('big', 'user', ?)", now).Error
	if err != nil {
		b.Fatal(err)
	}
	tx := db.Begin()
	for i := range repos {
		vis := "public"
		if i%10 == 0 {
			vis = "private"
		}
		res := tx.Exec(`INSERT INTO repositories (name, namespace, visibility, description, readme, star_count, pull_count, created_at, updated_at)
			VALUES (?, 'big', ?, ?, ?, ?, ?, ?, ?)`, fmt.Sprintf("big/repo-%05d", i), vis,
			fmt.Sprintf("Repository number %d for the page benchmark", i), "# Readme\n\nSome **markdown** text.\n",
			(i*7919)%1000, (i*104729)%100000, now, now.Add(time.Duration(i)*time.Second))
		if res.Error != nil {
			b.Fatal(res.Error)
		}
	}
	if err := tx.Exec(`INSERT INTO manifests (repository_id, digest, media_type, size, payload, content_size, platforms, created_at)
		SELECT id, 'sha256:' || printf('%064d', id), 'application/vnd.oci.image.manifest.v1+json', 500, X'7B7D', 123456789,
		'[{"os":"linux","architecture":"amd64"},{"os":"linux","architecture":"arm64","variant":"v8"}]', ? FROM repositories`, now).Error; err != nil {
		b.Fatal(err)
	}
	for t := range tagsPer {
		if err := tx.Exec(`INSERT INTO tags (repository_id, name, manifest_id, pusher, created_at, updated_at)
			SELECT r.id, ?, m.id, 'big', ?, ? FROM repositories r JOIN manifests m ON m.repository_id = r.id`,
			fmt.Sprintf("v1.%d", t), now, now.Add(time.Duration(t)*time.Minute)).Error; err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit().Error; err != nil {
		b.Fatal(err)
	}
}

// BenchmarkPages renders the explore, repository and tags pages with
// 10,000 repositories and 110,000 tags in the database (10,000 of them in
// one repository), and the page of a 50-layer image, and reports the
// median latency of each (target: under 50 ms). make bench runs it.
func BenchmarkPages(b *testing.B) {
	cfg := &config.Config{Addr: "127.0.0.1:0", DataDir: b.TempDir(), BaseURL: "http://wharf.test", LogLevel: "error", DefaultVisibility: "public"}
	app, err := server.Open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), server.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer app.Close()
	start := time.Now()
	seedLarge(b, app, 10000, 10)
	b.Logf("seeded 10,000 repositories and 100,000 tags in %v", time.Since(start).Round(time.Millisecond))
	// One repository with 10,000 tags.
	if err := app.DB.Writer().Exec(`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 9999)
		INSERT INTO tags (repository_id, name, manifest_id, pusher, created_at, updated_at)
		SELECT r.id, 'build-' || printf('%05d', n.i), m.id, 'big', ?, ? FROM n, repositories r JOIN manifests m ON m.repository_id = r.id
		WHERE r.name = 'big/repo-00007'`, time.Now().UTC(), time.Now().UTC()).Error; err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(servertest.Handler(b, app))
	defer srv.Close()
	// An image of 50 layers, with its config and history, pushed for real.
	if _, err := app.Accounts.CreateUser(context.Background(), "bench", "bench@example.com", "correct-horse-battery", false); err != nil {
		b.Fatal(err)
	}
	pushLayered(b, srv.URL, "bench", "correct-horse-battery", "bench/layers", "v1", 50)
	pages := []struct{ name, path string }{
		{"explore", "/explore"},
		{"explore-updated-page-200", "/explore?sort=updated&page=200"},
		{"home", "/"},
		{"repository", "/r/big/repo-04321"},
		{"tags", "/r/big/repo-04321/tags"},
		{"tags-10k", "/r/big/repo-00007/tags"},
		{"tags-10k-by-name-page-100", "/r/big/repo-00007/tags?sort=name&page=100"},
		{"tags-10k-filtered", "/r/big/repo-00007/tags?q=build-09"},
		{"tag-page-50-layers", "/r/bench/layers/tags/v1"},
	}
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			var lat []time.Duration
			for b.Loop() {
				t0 := time.Now()
				res, err := http.Get(srv.URL + p.path)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != 200 {
					b.Fatalf("%s: %d", p.path, res.StatusCode)
				}
				lat = append(lat, time.Since(t0))
			}
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			median := lat[len(lat)/2]
			b.ReportMetric(float64(median.Microseconds())/1000, "median-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			if median > 50*time.Millisecond {
				b.Errorf("%s median %v is over the 50 ms target", p.name, median)
			}
		})
	}
}

// pushLayered pushes an image of n small layers, with a history step for
// each and an empty one between, to repo:tag.
func pushLayered(b *testing.B, base, user, password, repo, tag string, n int) {
	b.Helper()
	send := func(method, path, ct string, body []byte) {
		req, _ := http.NewRequest(method, base+path, bytes.NewReader(body))
		req.SetBasicAuth(user, password)
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusCreated {
			b.Fatalf("%s %s: %s", method, path, res.Status)
		}
	}
	blob := func(body []byte, mediaType string) map[string]any {
		d := digest.FromBytes(body)
		send("POST", "/v2/"+repo+"/blobs/uploads/?digest="+d.String(), "", body)
		return map[string]any{"mediaType": mediaType, "digest": d.String(), "size": len(body)}
	}
	var layers []any
	var history []map[string]any
	for i := range n {
		layers = append(layers, blob([]byte(fmt.Sprintf("layer %d of the bench image", i)), "application/vnd.oci.image.layer.v1.tar+gzip"))
		history = append(history, map[string]any{"created_by": fmt.Sprintf("RUN step %d && make install", i)},
			map[string]any{"created_by": fmt.Sprintf("ENV STEP=%d", i), "empty_layer": true})
	}
	cfg, _ := json.Marshal(map[string]any{"architecture": "amd64", "os": "linux", "created": "2026-12-01T00:00:00Z",
		"config": map[string]any{"Env": []string{"PATH=/usr/bin"}, "Cmd": []string{"serve"}, "Labels": map[string]string{"org.opencontainers.image.source": "https://example.com/src"}},
		"rootfs": map[string]any{"type": "layers"}, "history": history})
	m, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"config": blob(cfg, "application/vnd.oci.image.config.v1+json"), "layers": layers})
	send("PUT", "/v2/"+repo+"/manifests/"+tag, "application/vnd.oci.image.manifest.v1+json", m)
}
