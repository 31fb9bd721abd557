package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/opencontainers/go-digest"

	"github.com/wharfhub/wharf/server/storage/filesystem"
)

func TestGC(t *testing.T) {
	dir := t.TempDir()
	env := func(string) string { return "" }
	gc := func(args ...string) (int, string, string) {
		t.Helper()
		var out, errb bytes.Buffer
		code := run(context.Background(), append([]string{"gc"}, args...), env, nil, &out, &errb)
		return code, out.String(), errb.String()
	}
	if code, out, errs := gc("--data-dir", dir); code != 0 || !strings.Contains(out, "deleted 0 blobs") {
		t.Fatalf("gc of a new data dir: code %d, out %q, err %q", code, out, errs)
	}
	// A blob the database never heard of, as a crash leaves it.
	store, err := filesystem.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("left by a crash")
	id := uuid.NewString()
	if _, err := store.AppendUpload(context.Background(), id, 0, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	d := digest.FromBytes(data)
	if err := store.CommitUpload(context.Background(), id, int64(len(data)), d); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		code    int
		out     string
		err     string
		present bool
	}{
		{"keeps young files by default", []string{"--data-dir", dir}, 0, "deleted 0 blobs", "", true},
		{"a dry run reports and deletes nothing", []string{"--dry-run", "--grace", "0s", "--data-dir", dir}, 0,
			"would delete 0 blobs (0 bytes), 1 unrecorded store files (15 bytes)", "", true},
		{"refuses a bad grace", []string{"--grace", "soon", "--data-dir", dir}, 1, "", "--grace", true},
		{"refuses arguments", []string{"--data-dir", dir, "now"}, 1, "", "unexpected arguments", true},
		{"deletes what it reported", []string{"--grace", "0s", "--delete-untagged", "--data-dir", dir}, 0,
			"deleted 0 blobs (0 bytes), 1 unrecorded store files (15 bytes)", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := gc(tc.args...)
			if code != tc.code || !strings.Contains(out, tc.out) || !strings.Contains(errs, tc.err) {
				t.Fatalf("code %d, out %q, err %q; want %d, %q, %q", code, out, errs, tc.code, tc.out, tc.err)
			}
			if _, err := store.Stat(context.Background(), d); (err == nil) != tc.present {
				t.Fatalf("blob present: %v, want %v", err == nil, tc.present)
			}
		})
	}
}

func TestGCHelpListsItsFlags(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"gc", "--help"}, func(string) string { return "" }, nil, &out, &errb); code != 0 {
		t.Fatalf("code %d", code)
	}
	for _, want := range []string{"--dry-run", "--grace", "--delete-untagged", "--data-dir", "--database"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("help lacks %s", want)
		}
	}
	if strings.Contains(errb.String(), "--addr") {
		t.Error("gc help lists serve's --addr")
	}
}
