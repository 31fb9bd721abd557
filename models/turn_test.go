package models_test

import (
	"testing"
	"time"
)

func TestTakeTurn(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	steps := []struct {
		holder string
		at     time.Duration
		want   bool
	}{
		{"a", 0, true},                 // first claim
		{"b", time.Minute, false},      // a's turn runs until 10m
		{"a", 2 * time.Minute, true},   // a may renew its own
		{"b", 11 * time.Minute, false}, // renewed until 12m
		{"b", 12 * time.Minute, true},  // expired: b takes it
		{"a", 13 * time.Minute, false},
	}
	for _, s := range steps {
		at := now.Add(s.at)
		got, err := db.Site.TakeTurn(ctx, "gc", s.holder, at, at.Add(10*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if got != s.want {
			t.Errorf("%s asking at +%v: got the turn %v, want %v", s.holder, s.at, got, s.want)
		}
	}
}
