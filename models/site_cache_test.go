package models_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/wharfhub/wharf/models"
)

func TestSiteCache(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	if _, err := db.Site.CacheGet(ctx, "acme/wharf.test"); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("empty cache: %v, want ErrNotFound", err)
	}
	for _, v := range [][]byte{[]byte("first\x00bytes"), []byte("replaced")} {
		if err := db.Site.CachePut(ctx, "acme/wharf.test", v); err != nil {
			t.Fatal(err)
		}
		got, err := db.Site.CacheGet(ctx, "acme/wharf.test")
		if err != nil || !bytes.Equal(got, v) {
			t.Fatalf("CacheGet = %q, %v; want %q", got, err, v)
		}
	}
	if err := db.Site.CacheDelete(ctx, "acme/wharf.test"); err != nil {
		t.Fatal(err)
	}
	if err := db.Site.CacheDelete(ctx, "acme/wharf.test"); err != nil {
		t.Fatalf("deleting what is gone: %v", err)
	}
	if _, err := db.Site.CacheGet(ctx, "acme/wharf.test"); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("after delete: %v, want ErrNotFound", err)
	}
}
