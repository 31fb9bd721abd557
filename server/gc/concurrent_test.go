package gc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/wharfhub/wharf/server"
	"github.com/wharfhub/wharf/server/config"
	"github.com/wharfhub/wharf/server/gc"
	"github.com/wharfhub/wharf/server/servertest"
	"github.com/wharfhub/wharf/server/testutil"
)

const (
	user     = "alice"
	password = "alice-password"
	ociImage = "application/vnd.oci.image.manifest.v1+json"
)

// registry is a Wharf behind real HTTP, and a client that pushes like
// docker does: HEAD each blob first and upload only what is missing.
type registry struct {
	t   *testing.T
	app *server.App
	srv *httptest.Server
}

func newRegistry(t *testing.T) *registry {
	t.Helper()
	return newRegistryWith(t, func(*config.Config) {})
}

// newRegistryWith is newRegistry with its configuration changed by tune.
func newRegistryWith(t *testing.T, tune func(*config.Config)) *registry {
	t.Helper()
	dir := t.TempDir()
	cfg := &config.Config{Addr: "127.0.0.1:0", DataDir: dir, BaseURL: "http://wharf.test", LogLevel: "error",
		Database: testutil.Database(t)}
	testutil.Storage(t, cfg)
	tune(cfg)
	app, err := server.Open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.Accounts.CreateUser(context.Background(), user, user+"@example.com", password, false); err != nil {
		t.Fatal(err)
	}
	r := &registry{t: t, app: app, srv: httptest.NewServer(servertest.Handler(t, app))}
	t.Cleanup(func() { r.srv.Close(); app.Close() })
	return r
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) code() string {
	var e struct{ Errors []struct{ Code string } }
	_ = json.Unmarshal(a.body, &e)
	if len(e.Errors) == 0 {
		return ""
	}
	return e.Errors[0].Code
}

func (r *registry) do(method, path string, body []byte, header ...string) (answer, error) {
	if !strings.HasPrefix(path, "http") {
		path = r.srv.URL + path
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, path, rd)
	if err != nil {
		return answer{}, err
	}
	req.SetBasicAuth(user, password)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return answer{status: res.StatusCode, header: res.Header, body: b}, err
}

// errRetry is an answer a client retries: the blob was being collected.
var errRetry = errors.New("retry")

func unexpected(what string, a answer) error {
	if a.status == http.StatusServiceUnavailable {
		return errRetry
	}
	return fmt.Errorf("%s: %d %s", what, a.status, a.body)
}

// pushBlob makes repo hold data: nothing if HEAD finds it, else a mount
// from mountFrom (if set), a monolithic upload, or a chunked session.
func (r *registry) pushBlob(repo string, data []byte, mountFrom string, rnd *rand.Rand) error {
	d := digest.FromBytes(data)
	a, err := r.do("HEAD", "/v2/"+repo+"/blobs/"+d.String(), nil)
	if err != nil || a.status == http.StatusOK {
		return err
	}
	if a.status != http.StatusNotFound {
		return unexpected("head blob", a)
	}
	loc := ""
	switch {
	case mountFrom != "":
		a, err = r.do("POST", "/v2/"+repo+"/blobs/uploads/?mount="+d.String()+"&from="+mountFrom, nil)
		if err != nil || a.status == http.StatusCreated {
			return err
		}
		if a.status != http.StatusAccepted {
			return unexpected("mount", a)
		}
		loc = a.header.Get("Location")
	case rnd.IntN(2) == 0:
		a, err = r.do("POST", "/v2/"+repo+"/blobs/uploads/?digest="+d.String(), data, "Content-Type", "application/octet-stream")
		if err != nil || a.status == http.StatusCreated {
			return err
		}
		return unexpected("monolithic upload", a)
	default:
		a, err = r.do("POST", "/v2/"+repo+"/blobs/uploads/", nil)
		if err != nil {
			return err
		}
		if a.status != http.StatusAccepted {
			return unexpected("start upload", a)
		}
		loc = a.header.Get("Location")
	}
	half := len(data) / 2
	a, err = r.do("PATCH", loc, data[:half], "Content-Type", "application/octet-stream")
	if err != nil {
		return err
	}
	if a.status != http.StatusAccepted {
		return unexpected("patch upload", a)
	}
	loc = a.header.Get("Location")
	sep := "?"
	if strings.Contains(loc, "?") {
		sep = "&"
	}
	a, err = r.do("PUT", loc+sep+"digest="+d.String(), data[half:], "Content-Type", "application/octet-stream")
	if err != nil || a.status == http.StatusCreated {
		return err
	}
	return unexpected("finish upload", a)
}

// image is an image manifest and the blobs it names.
type image struct {
	manifest []byte
	blobs    [][]byte
}

func newImage(blobs ...[]byte) image {
	layers := []any{}
	for _, l := range blobs[1:] {
		layers = append(layers, map[string]any{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": digest.FromBytes(l), "size": len(l)})
	}
	m, _ := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": ociImage,
		"config": map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest.FromBytes(blobs[0]), "size": len(blobs[0])},
		"layers": layers,
	})
	return image{manifest: m, blobs: blobs}
}

// push pushes img to repo:tag as docker would, starting over when the
// registry says a blob is unknown (GC took it between the HEAD and the
// manifest) or asks to retry. It gives up after a minute.
func (r *registry) push(repo, tag string, img image, mountFrom string, rnd *rand.Rand) (digest.Digest, int, error) {
	deadline := time.Now().Add(time.Minute)
	for attempt := 1; time.Now().Before(deadline); attempt++ {
		err := func() error {
			for _, b := range img.blobs {
				from := ""
				if mountFrom != "" && rnd.IntN(2) == 0 {
					from = mountFrom
				}
				if err := r.pushBlob(repo, b, from, rnd); err != nil {
					return err
				}
			}
			a, err := r.do("PUT", "/v2/"+repo+"/manifests/"+tag, img.manifest, "Content-Type", ociImage)
			if err != nil || a.status == http.StatusCreated {
				return err
			}
			if a.status == http.StatusBadRequest && a.code() == "MANIFEST_BLOB_UNKNOWN" {
				return errRetry
			}
			return unexpected("put manifest", a)
		}()
		if errors.Is(err, errRetry) {
			time.Sleep(time.Duration(rnd.IntN(3)) * time.Millisecond)
			continue
		}
		return digest.FromBytes(img.manifest), attempt, err
	}
	return "", 0, fmt.Errorf("push %s:%s: still failing after a minute", repo, tag)
}

// pull fetches repo@ref and every blob it names, and checks each digest.
func (r *registry) pull(repo, ref string) error {
	a, err := r.do("GET", "/v2/"+repo+"/manifests/"+ref, nil, "Accept", ociImage)
	if err != nil {
		return err
	}
	if a.status != http.StatusOK {
		return fmt.Errorf("pull %s@%s: manifest: %d %s", repo, ref, a.status, a.body)
	}
	var m struct {
		Config struct{ Digest digest.Digest }
		Layers []struct{ Digest digest.Digest }
	}
	if err := json.Unmarshal(a.body, &m); err != nil {
		return err
	}
	ds := []digest.Digest{m.Config.Digest}
	for _, l := range m.Layers {
		ds = append(ds, l.Digest)
	}
	for _, d := range ds {
		b, err := r.do("GET", "/v2/"+repo+"/blobs/"+d.String(), nil)
		if err != nil {
			return err
		}
		if b.status != http.StatusOK {
			return fmt.Errorf("pull %s@%s: blob %s: %d %s", repo, ref, d, b.status, b.body)
		}
		if got := digest.FromBytes(b.body); got != d {
			return fmt.Errorf("pull %s@%s: blob %s reads back as %s", repo, ref, d, got)
		}
	}
	return nil
}

func blobOf(seed uint64, n int) []byte {
	rnd := rand.New(rand.NewPCG(seed, seed*7+1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rnd.Uint32())
	}
	return b
}

// The test: pushes, deletes and re-pushes run concurrently while
// GC runs again and again with a tiny grace window, and no blob that a
// manifest references is ever lost.
func TestConcurrentPushDeleteRepushWhileCollecting(t *testing.T) {
	r := newRegistry(t)
	const workers, rounds = 4, 20
	if testing.Short() {
		t.Skip("a concurrency stress test")
	}
	// A pool of layers every worker shares (deduplicated in the store),
	// so uploads and mounts race GC on the same blobs.
	shared := make([][]byte, 6)
	for i := range shared {
		shared[i] = blobOf(uint64(i+1), 2000+i*3000)
	}
	var stop atomic.Bool
	var runs, deleted, reclaimed, kept atomic.Int64
	gcDone := make(chan error, 1)
	go func() {
		rnd := rand.New(rand.NewPCG(99, 99))
		for !stop.Load() {
			// Grace 0 takes a blob between its upload and its manifest;
			// the longer ones let slow pushes through now and then.
			graces := []time.Duration{0, 0, 25 * time.Millisecond, 100 * time.Millisecond, 250 * time.Millisecond}
			if os.Getenv("WHARF_TEST_S3_ENDPOINT") != "" || raceEnabled {
				// A push to S3, or under the race detector, takes tens of
				// milliseconds: with mostly near-zero graces one would
				// rarely get through.
				graces = []time.Duration{0, 100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond, time.Second}
			}
			opts := gc.Options{Grace: graces[rnd.IntN(len(graces))], DeleteUntagged: rnd.IntN(2) == 0}
			rep, err := r.app.GC.Run(context.Background(), opts)
			if err != nil {
				gcDone <- err
				return
			}
			runs.Add(1)
			deleted.Add(int64(rep.Blobs + rep.Orphans))
			reclaimed.Add(rep.BytesReclaimed())
			kept.Add(int64(rep.Kept))
			time.Sleep(time.Millisecond)
		}
		gcDone <- nil
	}()
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds)
	var retries atomic.Int64
	for w := range workers {
		wg.Go(func() {
			rnd := rand.New(rand.NewPCG(uint64(w), 42))
			repo := fmt.Sprintf("%s/w%d", user, w)
			other := fmt.Sprintf("%s/w%d", user, (w+1)%workers)
			var previous image
			for i := range rounds {
				cfg := []byte(fmt.Sprintf(`{"os":"linux","worker":%d,"round":%d}`, w, i%4))
				img := newImage(cfg, shared[rnd.IntN(len(shared))], blobOf(uint64(1000*w+i), 1500))
				if i > 0 && rnd.IntN(3) == 0 {
					img = previous // re-push what may have been deleted
				}
				tag := fmt.Sprintf("t%d", i%3)
				m, attempts, err := r.push(repo, tag, img, other, rnd)
				retries.Add(int64(attempts - 1))
				if err != nil {
					errs <- fmt.Errorf("worker %d round %d: %w", w, i, err)
					return
				}
				// Tagged: its blobs must be there, now.
				if err := r.pull(repo, m.String()); err != nil {
					errs <- fmt.Errorf("worker %d round %d, right after the push: %w", w, i, err)
				}
				switch rnd.IntN(3) {
				case 0: // delete the image: its blobs become garbage
					a, err := r.do("DELETE", "/v2/"+repo+"/manifests/"+m.String(), nil)
					if err != nil || (a.status != http.StatusAccepted && a.status != http.StatusNotFound) {
						errs <- fmt.Errorf("worker %d round %d: delete: %v %d %s", w, i, err, a.status, a.body)
					}
				case 1: // untag it: garbage only for the untagged policy
					a, err := r.do("DELETE", "/v2/"+repo+"/manifests/"+tag, nil)
					if err != nil || (a.status != http.StatusAccepted && a.status != http.StatusNotFound) {
						errs <- fmt.Errorf("worker %d round %d: untag: %v %d %s", w, i, err, a.status, a.body)
					}
				}
				previous = img
			}
		})
	}
	wg.Wait()
	stop.Store(true)
	if err := <-gcDone; err != nil {
		t.Fatalf("gc: %v", err)
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	t.Logf("%d gc runs deleted %d blobs (%d bytes), kept %d used meanwhile; pushes retried %d times",
		runs.Load(), deleted.Load(), reclaimed.Load(), kept.Load(), retries.Load())
	if runs.Load() < 2 || deleted.Load() == 0 {
		t.Errorf("gc ran %d times and deleted %d blobs: the test raced nothing", runs.Load(), deleted.Load())
	}
	// Every manifest left must pull whole, and again after one last
	// collection that takes everything it may.
	r.checkEverythingPulls()
	if _, err := r.app.GC.Run(context.Background(), gc.Options{DeleteUntagged: true}); err != nil {
		t.Fatal(err)
	}
	r.checkEverythingPulls()
}

// checkEverythingPulls pulls every manifest the database holds, and
// checks that every blob a repository links is in the store.
func (r *registry) checkEverythingPulls() {
	r.t.Helper()
	db := r.app.DB.Writer()
	var ms []struct{ Name, Digest string }
	if err := db.Raw(`SELECT r.name, m.digest FROM manifests m JOIN repositories r ON r.id = m.repository_id`).Scan(&ms).Error; err != nil {
		r.t.Fatal(err)
	}
	for _, m := range ms {
		if err := r.pull(m.Name, m.Digest); err != nil {
			r.t.Errorf("after the run: %v", err)
		}
	}
	var links []string
	if err := db.Raw(`SELECT DISTINCT digest FROM repository_blobs`).Scan(&links).Error; err != nil {
		r.t.Fatal(err)
	}
	for _, d := range links {
		if _, err := r.app.Store.Stat(context.Background(), digest.Digest(d)); err != nil {
			r.t.Errorf("linked blob %s: %v", d, err)
		}
	}
	r.t.Logf("%d manifests and %d linked blobs checked", len(ms), len(links))
}

// Distribution #4569: delete an image, collect, push it again with the
// client's cache warm (it HEADs first and skips what exists) and pull.
func TestDeleteCollectRepushPull(t *testing.T) {
	r := newRegistry(t)
	rnd := rand.New(rand.NewPCG(1, 2))
	img := newImage([]byte(`{"os":"linux"}`), blobOf(7, 3000), blobOf(8, 5000))
	// Another repository mounts a layer and keeps it referenced.
	keep := newImage([]byte(`{"os":"linux","keep":true}`), blobOf(7, 3000))
	m, _, err := r.push("alice/app", "v1", img, "", rnd)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.push("alice/other", "v1", keep, "alice/app", rnd); err != nil {
		t.Fatal(err)
	}
	if err := r.pull("alice/app", "v1"); err != nil {
		t.Fatal(err)
	}
	a, err := r.do("DELETE", "/v2/alice/app/manifests/"+m.String(), nil)
	if err != nil || a.status != http.StatusAccepted {
		t.Fatalf("delete: %v %d %s", err, a.status, a.body)
	}
	rep, err := r.app.GC.Run(context.Background(), gc.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Blobs != 2 || rep.BlobBytes != int64(len(img.blobs[0])+len(img.blobs[2])) {
		t.Fatalf("gc report %s; want the config and the unshared layer", rep)
	}
	// The cache the client would trust answers truthfully.
	for i, b := range img.blobs {
		a, err := r.do("HEAD", "/v2/alice/app/blobs/"+digest.FromBytes(b).String(), nil)
		if err != nil {
			t.Fatal(err)
		}
		want := http.StatusNotFound // collected, its link with it
		if i == 1 {
			want = http.StatusOK // still referenced from alice/other
		}
		if a.status != want {
			t.Errorf("HEAD blob %d after gc: %d, want %d", i, a.status, want)
		}
	}
	if _, _, err := r.push("alice/app", "v1", img, "", rnd); err != nil {
		t.Fatalf("push again: %v", err)
	}
	if err := r.pull("alice/app", "v1"); err != nil {
		t.Fatalf("pull after delete, gc and push again: %v", err)
	}
	if err := r.pull("alice/other", "v1"); err != nil {
		t.Fatalf("the other repository's image: %v", err)
	}
	r.checkEverythingPulls()
}

// The online schedule collects on its own and shows in /metrics.
func TestOnlineScheduleCollectsAndCounts(t *testing.T) {
	r := newRegistryWith(t, func(cfg *config.Config) { cfg.GCInterval, cfg.GCGrace = 20*time.Millisecond, 0 })
	rnd := rand.New(rand.NewPCG(3, 4))
	img := newImage([]byte(`{"os":"linux"}`), blobOf(9, 4000))
	m, _, err := r.push("alice/app", "v1", img, "", rnd)
	if err != nil {
		t.Fatal(err)
	}
	if a, err := r.do("DELETE", "/v2/alice/app/manifests/"+m.String(), nil); err != nil || a.status != http.StatusAccepted {
		t.Fatalf("delete: %v %d", err, a.status)
	}
	ctx := t.Context()
	servertest.Run(t, r.app)
	layer := digest.FromBytes(img.blobs[1])
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := r.app.Store.Stat(ctx, layer); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the schedule never collected the deleted image's layer")
		}
	}
	// The run that deleted the layer is counted as it ends, a moment later.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		a, err := r.do("GET", "/metrics", nil)
		if err != nil {
			t.Fatal(err)
		}
		var missing []string
		for _, want := range []string{`wharf_gc_runs_total{result="success"}`, "wharf_gc_bytes_reclaimed_total", "wharf_gc_duration_seconds"} {
			if !strings.Contains(string(a.body), want) {
				missing = append(missing, want)
			}
		}
		if len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics lacks %v", missing)
		}
	}
}
