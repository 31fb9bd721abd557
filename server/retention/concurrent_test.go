package retention_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/content"
	"github.com/wharfhub/wharf/server/gc"
	"github.com/wharfhub/wharf/server/retention"
)

// Retention runs while pushes of multi-arch images with referrers go on
// and garbage collection runs: a push that relied on what a run removed
// fails cleanly (the client pushes again), and whatever is left is whole.
// Then, with the pushes done, a dry run says exactly what the run
// removes. On PostgreSQL with WHARF_TEST_DATABASE (make test-postgres).
func TestRetentionWithPushesAndGC(t *testing.T) {
	f := newFixture(t)
	shared := f.image(repo, "base", "base", "")
	// The runner's clock is a month ahead: everything untagged is old, so
	// a run races every push of an index for its children.
	f.runner = retention.New(f.db, slogDiscard(), func() time.Time { return time.Now().Add(30 * 24 * time.Hour) })
	f.policy(repo, retention.Policy{Rules: []retention.Rule{
		{Keep: retention.KeepNewest, Count: 3, Pattern: "t-*"},
		{Keep: retention.KeepAlways, Pattern: "base"},
	}, UntaggedDays: 1})
	governed := models.GovernedRepository{ID: f.repoID(repo), Name: repo}

	const pushes = 24
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var pushed, refused int
	var runs, removed int
	failures := make(chan error, 3*pushes)
	wg.Add(2)
	go func() { // garbage collection, over and over
		defer wg.Done()
		for ctx.Err() == nil {
			if _, err := f.gc.Run(ctx, gc.Options{Grace: 50 * time.Millisecond}); err != nil && ctx.Err() == nil {
				failures <- fmt.Errorf("gc: %w", err)
				return
			}
		}
	}()
	go func() { // retention, over and over
		defer wg.Done()
		for ctx.Err() == nil {
			o, err := f.runner.Run(ctx, governed, retention.CauseSchedule, "")
			if err != nil && ctx.Err() == nil {
				failures <- fmt.Errorf("retention: %w", err)
				return
			}
			if err == nil {
				mu.Lock()
				runs++
				removed += len(o.Removed.Manifests)
				mu.Unlock()
			}
		}
	}()
	for i := range pushes {
		// A platform of its own and base as the second; then the index;
		// then a referrer of the index.
		err := func() error {
			m, err := f.imageManifest(repo, fmt.Sprintf("p-%d", i), "")
			if err != nil {
				return err
			}
			child, err := f.tryPut(repo, "", m)
			if err != nil {
				return err
			}
			idx, err := f.tryPut(repo, fmt.Sprintf("t-%d", i), indexJSON(child, shared))
			if err != nil {
				return err
			}
			r, err := f.imageManifest(repo, fmt.Sprintf("sbom-%d", i), idx)
			if err != nil {
				return err
			}
			_, err = f.tryPut(repo, "", r)
			return err
		}()
		switch {
		case err == nil:
			pushed++
		case errors.Is(err, content.ErrManifestBlobUnknown) || errors.Is(err, content.ErrBlobUnknown):
			refused++ // what it relied on went first: the push fails cleanly
		default:
			t.Fatalf("push %d: %v", i, err)
		}
	}
	cancel()
	wg.Wait()
	close(failures)
	for err := range failures {
		t.Error(err)
	}
	t.Logf("%d pushes whole, %d refused cleanly; %d retention runs removed %d manifests", pushed, refused, runs, removed)
	if runs == 0 || pushed == 0 {
		t.Fatalf("the race did not happen: %d runs, %d pushes", runs, pushed)
	}

	// What is left is whole: every tag's image, every index's children
	// and blobs.
	before := f.state(repo)
	f.intact(repo, before)

	// Quiet now: the preview says exactly what the run removes, and what
	// is left is the newest three t-* and base, whole, referrers and all.
	if _, err := f.runner.Run(context.Background(), governed, retention.CauseSchedule, ""); err != nil {
		t.Fatal(err)
	}
	f.image(repo, "t-late-1", "late-1", "")
	f.image(repo, "t-late-2", "late-2", "")
	f.image(repo, "t-late-3", "late-3", "")
	before = f.state(repo)
	preview, err := f.runner.Preview(context.Background(), governed)
	if err != nil {
		t.Fatal(err)
	}
	run, err := f.runner.Run(context.Background(), governed, retention.CauseManual, "")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(preview.Removed.Tags, run.Removed.Tags) || !slices.Equal(preview.Removed.Manifests, run.Removed.Manifests) {
		t.Fatalf("preview said %q / %q, the run removed %q / %q", preview.Removed.Tags, preview.Removed.Manifests,
			run.Removed.Tags, run.Removed.Manifests)
	}
	if _, err := f.gc.Run(context.Background(), gc.Options{}); err != nil {
		t.Fatal(err)
	}
	after := f.state(repo)
	var tags []string
	for n := range after.tags {
		tags = append(tags, n)
	}
	slices.Sort(tags)
	if want := []string{"base", "t-late-1", "t-late-2", "t-late-3"}; !slices.Equal(tags, want) {
		t.Errorf("tags left %q, want %q", tags, want)
	}
	f.intact(repo, before)
}

func indexJSON(children ...digest.Digest) map[string]any {
	ms := []any{}
	for i, c := range children {
		ms = append(ms, map[string]any{"mediaType": content.MediaTypeOCIManifest, "digest": c, "size": 1,
			"platform": map[string]string{"os": "linux", "architecture": []string{"amd64", "arm64"}[i%2]}})
	}
	return map[string]any{"schemaVersion": 2, "mediaType": content.MediaTypeOCIIndex, "manifests": ms}
}
