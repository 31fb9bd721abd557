package models_test

import (
	"testing"
	"time"

	"github.com/wharfhub/wharf/models"
)

func TestJobQueue(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	r := &models.Repository{Name: "alice/app", Namespace: "alice", Visibility: models.VisibilityPublic}
	if err := db.Repositories.Create(ctx, r); err != nil {
		t.Fatal(err)
	}
	kinds := []string{models.JobVerify}
	const lease = time.Minute
	claim := func(at time.Time, want int) []models.Job {
		t.Helper()
		js, err := db.Jobs.ClaimDue(ctx, kinds, at, lease, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(js) != want {
			t.Fatalf("claimed %d jobs at %s, want %d: %+v", len(js), at, want, js)
		}
		return js
	}
	enqueue := func() {
		t.Helper()
		if err := db.Jobs.Enqueue(ctx, r.ID, models.JobRequest{Kind: models.JobVerify, Digest: "sha256:aa"}); err != nil {
			t.Fatal(err)
		}
	}
	finish := func(j models.Job, errText string, retry time.Time) {
		t.Helper()
		if err := db.Jobs.Finish(ctx, &j, errText, retry); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().UTC().Add(time.Second)

	// One row per target: queued twice, claimed once; a claimed job is
	// held for its lease.
	enqueue()
	enqueue()
	j := claim(now, 1)[0]
	if j.Repository != "alice/app" || j.Attempts != 1 || j.State != models.JobRunning {
		t.Fatalf("claimed: %+v", j)
	}
	claim(now, 0)

	// Work queued while it runs is not lost when the run finishes.
	enqueue()
	finish(j, "", time.Time{})
	j = claim(now.Add(time.Second), 1)[0]
	finish(j, "", time.Time{})
	claim(now.Add(2*time.Second), 0)

	// A runner that died: its job is taken again once the lease ends, and
	// done once.
	enqueue()
	claim(now.Add(3*time.Second), 1)
	j = claim(now.Add(3*time.Second+lease+time.Second), 1)[0]
	if j.Attempts != 2 {
		t.Errorf("attempts after a crash: %d", j.Attempts)
	}
	finish(j, "", time.Time{})
	claim(now.Add(10*lease), 0)

	// A failed run is retried at its time, and a last failure stays failed.
	enqueue()
	j = claim(now.Add(11*lease), 1)[0]
	finish(j, "boom", now.Add(12*lease))
	claim(now.Add(11*lease+time.Second), 0)
	j = claim(now.Add(12*lease), 1)[0]
	finish(j, "boom again", time.Time{})
	claim(now.Add(100*lease), 0)

	// One job of a repository at a time: a second waits for the first.
	if err := db.Jobs.Enqueue(ctx, r.ID, models.JobRequest{Kind: models.JobVerify, Digest: "sha256:aa"},
		models.JobRequest{Kind: models.JobVerify, Digest: "sha256:bb"}); err != nil {
		t.Fatal(err)
	}
	at := now.Add(200 * lease)
	j = claim(at, 1)[0]
	claim(at, 0)
	finish(j, "", time.Time{})
	finish(claim(at, 1)[0], "", time.Time{})
	claim(at, 0)
}

// A run that renews its lease keeps its job: no other run takes it while
// the renewed lease lasts, and one does once it runs out.
func TestJobLeaseRenewal(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	r := &models.Repository{Name: "alice/app", Namespace: "alice", Visibility: models.VisibilityPublic}
	if err := db.Repositories.Create(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := db.Jobs.Enqueue(ctx, r.ID, models.JobRequest{Kind: models.JobScan, Digest: "sha256:aa"}); err != nil {
		t.Fatal(err)
	}
	kinds := []string{models.JobScan}
	const lease = time.Minute
	t0 := time.Now().UTC().Add(time.Second)
	js, err := db.Jobs.ClaimDue(ctx, kinds, t0, lease, 10)
	if err != nil || len(js) != 1 {
		t.Fatalf("claim: %v %v", js, err)
	}
	if err := db.Jobs.Renew(ctx, &js[0], t0.Add(3*lease)); err != nil {
		t.Fatal(err)
	}
	if again, err := db.Jobs.ClaimDue(ctx, kinds, t0.Add(2*lease), lease, 10); err != nil || len(again) != 0 {
		t.Fatalf("claimed within the renewed lease: %v %v", again, err)
	}
	taken, err := db.Jobs.ClaimDue(ctx, kinds, t0.Add(3*lease+time.Second), lease, 10)
	if err != nil || len(taken) != 1 || taken[0].Attempts != 2 {
		t.Fatalf("after the renewed lease: %v %v", taken, err)
	}
	// A late renewal by the first run, once the job is done, changes
	// nothing: only a running job is renewed.
	if err := db.Jobs.Finish(ctx, &taken[0], "", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := db.Jobs.Renew(ctx, &js[0], t0.Add(10*lease)); err != nil {
		t.Fatal(err)
	}
	if due, err := db.Jobs.ClaimDue(ctx, kinds, t0.Add(11*lease), lease, 10); err != nil || len(due) != 0 {
		t.Fatalf("a finished job came back: %v %v", due, err)
	}
}
