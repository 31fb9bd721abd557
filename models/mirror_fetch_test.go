package models_test

import (
	"testing"
	"time"
)

// One holder at a time claims a fetch; it may extend its claim, and
// another takes it once the claim is released or has run out.
func TestMirrorFetchClaims(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	now := time.Now()
	key := "hub/library/alpine@sha256:abc"
	steps := []struct {
		holder string
		at     time.Duration // after now
		want   bool
	}{
		{"a", 0, true},
		{"b", time.Second, false},      // a holds it until now+30s
		{"a", 10 * time.Second, true},  // a extends it to now+40s
		{"b", 35 * time.Second, false}, // still a's
		{"b", 41 * time.Second, true},  // a's claim ran out
		{"a", 42 * time.Second, false}, // now b's
	}
	for i, s := range steps {
		at := now.Add(s.at)
		got, err := db.Mirrors.TakeFetch(ctx, key, s.holder, at, at.Add(30*time.Second))
		if err != nil || got != s.want {
			t.Fatalf("step %d: %s at +%v: %v, %v; want %v", i, s.holder, s.at, got, err, s.want)
		}
	}
	if err := db.Mirrors.ReleaseFetch(ctx, key, "a"); err != nil { // not a's: nothing happens
		t.Fatal(err)
	}
	if ok, _ := db.Mirrors.TakeFetch(ctx, key, "a", now.Add(43*time.Second), now.Add(73*time.Second)); ok {
		t.Error("a released b's claim")
	}
	if err := db.Mirrors.ReleaseFetch(ctx, key, "b"); err != nil {
		t.Fatal(err)
	}
	if ok, err := db.Mirrors.TakeFetch(ctx, key, "a", now.Add(44*time.Second), now.Add(74*time.Second)); !ok || err != nil {
		t.Errorf("after b released it: %v, %v", ok, err)
	}
	if ok, _ := db.Mirrors.TakeFetch(ctx, "other", "b", now, now.Add(time.Second)); !ok {
		t.Error("another key is not free")
	}
}
