package indexer

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wharfhub/wharf/models"
)

// LogRetention is how long the change log keeps entries; a replica away
// longer rebuilds its index.
const LogRetention = 7 * 24 * time.Hour

// gapWait is how long a hole in the log's ids is waited for: on
// PostgreSQL an id is taken before its row commits, so a lower id can
// appear after a higher one; a hole that stays is a rolled-back insert.
const gapWait = 3 * time.Second

// pageSize bounds one read of the log.
const pageSize = 1000

// CursorPath is where the index in dir keeps its place in the change log.
func CursorPath(dir string) string { return filepath.Clean(dir) + ".cursor" }

// follower reads the change log past a cursor, never skipping an entry
// that commits late.
type follower struct {
	mu      sync.Mutex
	path    string         // where the cursor is saved ("" for nowhere)
	cursor  int64          // every entry up to here has been applied
	saved   int64          // the cursor last written to path
	applied map[int64]bool // entries above the cursor already applied
	gapAt   time.Time      // when the hole after cursor was first seen
}

// load reads the saved cursor; stale is true when there is none or the
// log has been pruned past it, and the index must be rebuilt.
func (f *follower) load(ctx context.Context, path string, db *models.DB) (stale bool, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.path = path
	f.saved = -1 // nothing on disk yet: the first save writes
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	c, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || c < 0 {
		return true, nil
	}
	f.cursor, f.saved = c, c
	first, _, err := db.Changes.IDRange(ctx)
	if err != nil {
		return false, err
	}
	return first > c+1, nil
}

// skipTo moves the cursor to id, for entries a rebuild has covered.
func (f *follower) skipTo(id int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if id > f.cursor {
		f.cursor = id
		for k := range f.applied {
			if k <= id {
				delete(f.applied, k)
			}
		}
	}
}

// next returns the entries not applied yet and advances the cursor over
// every contiguous one.
func (f *follower) next(ctx context.Context, db *models.DB) ([]models.Change, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.applied == nil {
		f.applied = map[int64]bool{}
	}
	var out []models.Change
	after := f.cursor
	for {
		page, err := db.Changes.After(ctx, after, pageSize)
		if err != nil {
			return out, err
		}
		for _, c := range page {
			if !f.applied[c.ID] {
				out = append(out, c)
				f.applied[c.ID] = true
			}
			after = c.ID
		}
		if len(page) < pageSize {
			break
		}
	}
	f.advance()
	return out, nil
}

// advance moves the cursor over applied entries, and over a hole once it
// has stayed open for gapWait.
func (f *follower) advance() {
	for {
		if f.applied[f.cursor+1] {
			f.cursor++
			delete(f.applied, f.cursor)
			f.gapAt = time.Time{}
			continue
		}
		if len(f.applied) == 0 {
			f.gapAt = time.Time{}
			return
		}
		if f.gapAt.IsZero() {
			f.gapAt = time.Now()
			return
		}
		if time.Since(f.gapAt) < gapWait {
			return
		}
		// The hole is a rolled-back insert: jump to the next applied id.
		lowest := int64(-1)
		for id := range f.applied {
			if lowest < 0 || id < lowest {
				lowest = id
			}
		}
		f.cursor = lowest - 1
		f.gapAt = time.Time{}
	}
}

// save writes the cursor when it moved: write-temp, fsync, rename.
func (f *follower) save() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.path == "" || f.cursor == f.saved {
		return nil
	}
	tmp := f.path + ".tmp"
	file, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(file, "%d\n", f.cursor); err != nil {
		file.Close()
		return err
	}
	if err := file.Sync(); err != nil {
		file.Close()
		return err
	}
	if err := file.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, f.path); err != nil {
		return err
	}
	f.saved = f.cursor
	return nil
}
