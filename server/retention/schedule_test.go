package retention_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/retention"
)

// The schedule runs the policies when it is this replica's turn, as the
// system (its audit entry says so), and returns once ctx ends.
func TestScheduleRunsOnItsTurn(t *testing.T) {
	f := newFixture(t)
	old := f.image(repo, "old", "old", "")
	f.age(repo, old, "old", 30)
	f.image(repo, "new", "new", "")
	f.policy(repo, retention.Policy{Rules: []retention.Rule{{Keep: retention.KeepPushedWithin, Days: 7}}})

	ctx, cancel := context.WithCancel(context.Background())
	var turns atomic.Int32
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.runner.RunEvery(ctx, 20*time.Millisecond, func(context.Context, time.Duration) (bool, error) {
			// Another replica has the first turn.
			return turns.Add(1) > 1, nil
		})
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, ok := f.state(repo).tags["old"]; !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the schedule did not remove old")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the schedule did not stop")
	}
	if turns.Load() < 2 {
		t.Errorf("ran on the first turn, which was another replica's")
	}
	es, err := f.db.Audit.List(context.Background(), models.AuditFilter{Action: "retention.run"}, 10)
	if err != nil || len(es) != 1 || es[0].Actor != "wharf retention" || es[0].ActorKind != models.ActorSystem {
		t.Fatalf("audit = %+v, %v", es, err)
	}
	runs, _ := f.db.Retention.Runs(context.Background(), models.RunFilter{RepositoryID: f.repoID(repo)}, 10)
	if len(runs) != 1 || runs[0].Cause != "schedule" || runs[0].TagCount != 1 {
		t.Errorf("runs = %+v (a scheduled run that removes nothing records nothing)", runs)
	}
}
