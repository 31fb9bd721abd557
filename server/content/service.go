package content

import (
	"log/slog"
	"sync"
	"time"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/events"
	"github.com/wharfhub/wharf/server/storage"
)

// Service is the content service.
type Service struct {
	db    *models.DB
	store storage.Driver
	log   *slog.Logger
	locks keyedMutex
	pulls pulls
	// UploadTTL is how long an untouched upload session lives.
	UploadTTL time.Duration
	// MaxOpenUploads is how many open upload sessions one user may hold.
	MaxOpenUploads int
	// BlobLeaseTTL bounds how long an upload's commit keeps garbage
	// collection off its blob should the process die half-way.
	BlobLeaseTTL time.Duration
	// GCWait is how long a commit waits for garbage collection to finish
	// deleting the blob it is writing before it answers ErrBusy.
	GCWait time.Duration
	// Events receives pushes and deletions.
	Events *events.Bus
}

// New makes the content service.
func New(db *models.DB, store storage.Driver, log *slog.Logger) *Service {
	return &Service{db: db, store: store, log: log, UploadTTL: 24 * time.Hour, MaxOpenUploads: 100, BlobLeaseTTL: time.Hour, GCWait: time.Minute}
}

// keyedMutex serialises work on one key (an upload id) without a global lock.
type keyedMutex struct {
	mu sync.Mutex
	m  map[string]*keyedEntry
}

type keyedEntry struct {
	sync.Mutex
	refs int
}

func (k *keyedMutex) lock(key string) func() {
	k.mu.Lock()
	if k.m == nil {
		k.m = map[string]*keyedEntry{}
	}
	e := k.m[key]
	if e == nil {
		e = &keyedEntry{}
		k.m[key] = e
	}
	e.refs++
	k.mu.Unlock()
	e.Lock()
	return func() {
		e.Unlock()
		k.mu.Lock()
		e.refs--
		if e.refs == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
}
