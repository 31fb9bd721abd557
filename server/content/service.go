package content

import (
	"log/slog"
	"sync"
	"time"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/events"
	"github.com/wharfhub/wharf/server/storage"
)

// Service is the content service: blobs, manifests and tags, uploads,
// and pull counts, each a small service over one shared base.
type Service struct {
	Blobs     *Blobs
	Manifests *Manifests
	Uploads   *Uploads
	Pulls     *Pulls
}

// Blobs serves blobs: stat, read, redirect, mount and delete.
type Blobs struct{ *base }

// Manifests stores and serves manifests, tags and referrers.
type Manifests struct{ *base }

// Uploads are blob upload sessions, from start to commit.
type Uploads struct{ *base }

// Pulls counts pulls and writes the counts in batches.
type Pulls struct{ *base }

// base is what every part of the content service shares.
type base struct {
	db    *models.DB
	store storage.Driver
	log   *slog.Logger
	locks keyedMutex
	pulls pulls
	opts  Options
}

// Options tune the content service; a zero field takes its default.
type Options struct {
	// UploadTTL is how long an untouched upload session lives (24h).
	UploadTTL time.Duration
	// MaxOpenUploads is how many open upload sessions one user may hold
	// (100).
	MaxOpenUploads int
	// BlobLeaseTTL bounds how long an upload's commit keeps garbage
	// collection off its blob should the process die half-way (1h).
	BlobLeaseTTL time.Duration
	// GCWait is how long a commit waits for garbage collection to finish
	// deleting the blob it is writing before it answers ErrBusy (1m).
	GCWait time.Duration
	// Events, if set, receives pushes and deletions.
	Events *events.Bus
	// Scan queues a vulnerability scan of every image stored.
	Scan bool
}

// New makes the content service.
func New(db *models.DB, store storage.Driver, log *slog.Logger, opts Options) *Service {
	if opts.UploadTTL <= 0 {
		opts.UploadTTL = 24 * time.Hour
	}
	if opts.MaxOpenUploads <= 0 {
		opts.MaxOpenUploads = 100
	}
	if opts.BlobLeaseTTL <= 0 {
		opts.BlobLeaseTTL = time.Hour
	}
	if opts.GCWait <= 0 {
		opts.GCWait = time.Minute
	}
	b := &base{db: db, store: store, log: log, opts: opts}
	return &Service{Blobs: &Blobs{b}, Manifests: &Manifests{b}, Uploads: &Uploads{b}, Pulls: &Pulls{b}}
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
