package content

import (
	"context"
	"crypto/sha256"
	"encoding"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"

	"github.com/google/uuid"
	"github.com/opencontainers/go-digest"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/storage"
)

// Upload is an upload session as the handlers see it.
type Upload struct {
	ID   string
	Name string
	Size int64
}

// Start opens an upload session in repository name for userID
// (nil for none). Only the same repository and user can continue it. A
// user holds at most MaxOpenUploads open sessions; finishing, cancelling
// or the purge of a stale one frees its place.
func (s *Uploads) Start(ctx context.Context, name string, userID *int64) (*Upload, error) {
	now := time.Now().UTC()
	u := &models.Upload{ID: uuid.NewString(), Repository: name, UserID: userID, StartedAt: &now, UpdatedAt: now}
	if err := s.db.Uploads.Create(ctx, u, s.opts.MaxOpenUploads); err != nil {
		if errors.Is(err, models.ErrTooManyUploads) {
			return nil, detailf(ErrTooManyUploads, map[string]int{"limit": s.opts.MaxOpenUploads},
				"you have %d open upload sessions, the most allowed; finish or cancel one first", s.opts.MaxOpenUploads)
		}
		return nil, fmt.Errorf("start upload: %w", err)
	}
	return &Upload{ID: u.ID, Name: name}, nil
}

// Get finds a session that belongs to repository name and userID.
// Another repository's or another user's session is unknown here.
func (s *Uploads) Get(ctx context.Context, name, id string, userID *int64) (*Upload, error) {
	u, err := s.getUpload(ctx, name, id, userID)
	if err != nil {
		return nil, err
	}
	return &Upload{ID: u.ID, Name: name, Size: u.Size}, nil
}

func (s *base) getUpload(ctx context.Context, name, id string, userID *int64) (*models.Upload, error) {
	if _, err := uuid.Parse(id); err != nil {
		return nil, ErrUploadUnknown
	}
	u, err := s.db.Uploads.Get(ctx, id)
	if errors.Is(err, models.ErrNotFound) {
		return nil, ErrUploadUnknown
	}
	if err != nil {
		return nil, err
	}
	if u.Repository != name || !sameUser(u.UserID, userID) {
		return nil, ErrUploadUnknown
	}
	return u, nil
}

func sameUser(a, b *int64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

// restoreHash rebuilds the running sha256 of an upload from its state.
func restoreHash(state []byte) (hash.Hash, error) {
	h := sha256.New()
	if len(state) == 0 {
		return h, nil
	}
	if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(state); err != nil {
		return nil, fmt.Errorf("restore hash state: %w", err)
	}
	return h, nil
}

// Chunk describes a PATCH or final PUT body. Start is the offset the
// client claims (-1 when it sent no Content-Range); Length is the declared
// length (-1 when unknown).
type Chunk struct {
	Start  int64
	Length int64
	Body   io.Reader
	// Verified, if set, is called by Put once the whole body is read and
	// its sha256 digest matches, before the blob is committed (fsync,
	// rename, link): whoever streams the bytes on can release them then.
	Verified func()
}

// Append streams a chunk into the session, hashing as it writes.
func (s *Uploads) Append(ctx context.Context, name, id string, userID *int64, c Chunk) (*Upload, error) {
	unlock := s.locks.lock(id)
	defer unlock()
	u, err := s.getUpload(ctx, name, id, userID)
	if err != nil {
		return nil, err
	}
	if err := s.appendLocked(ctx, u, c, ""); err != nil {
		return &Upload{ID: u.ID, Name: name, Size: u.Size}, err
	}
	return &Upload{ID: u.ID, Name: name, Size: u.Size}, nil
}

// appendLocked appends c to the session; dgst is the digest the upload is
// to have, when the chunk is the last one, else "".
func (s *base) appendLocked(ctx context.Context, u *models.Upload, c Chunk, dgst digest.Digest) error {
	if c.Start >= 0 && c.Start != u.Size {
		return detailf(ErrRangeInvalid, nil, "chunk starts at %d, upload has %d bytes", c.Start, u.Size)
	}
	h, err := restoreHash(u.HashState)
	if err != nil {
		return err
	}
	// The quota counts the chunk as it arrives; once the chunk is saved
	// in the session (or failed), its reservation goes.
	body, release, err := s.meter(ctx, models.NamespaceOf(u.Repository), c, dgst, u.Size)
	if err != nil {
		return err
	}
	defer release()
	n, err := s.store.AppendUpload(ctx, u.ID, u.Size, io.TeeReader(body, h))
	if errors.Is(err, storage.ErrOffsetMismatch) {
		// The data on disk is shorter than the session says (lost after a
		// power failure): the session cannot be trusted any more.
		_ = s.cancel(ctx, u.ID)
		return ErrUploadUnknown
	}
	if err != nil {
		return fmt.Errorf("append upload %s: %w", u.ID, err)
	}
	if c.Length >= 0 && n != c.Length {
		// The session stays as it was before this chunk: the next append
		// or the commit cuts the data back to u.Size.
		return detailf(ErrSizeInvalid, nil, "received %d bytes, expected %d", n, c.Length)
	}
	state, err := h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		return err
	}
	if err := s.db.Uploads.SaveProgress(ctx, u.ID, u.Size+n, state); err != nil {
		if errors.Is(err, models.ErrNotFound) {
			return ErrUploadUnknown
		}
		return fmt.Errorf("save upload %s: %w", u.ID, err)
	}
	u.Size += n
	u.HashState = state
	return nil
}

// Finish appends an optional last chunk, verifies dgst against the
// content and commits the blob into repository name. A wrong digest ends
// the session and leaves nothing behind.
func (s *Uploads) Finish(ctx context.Context, name, id string, userID *int64, dgst digest.Digest, c *Chunk) error {
	unlock := s.locks.lock(id)
	defer unlock()
	u, err := s.getUpload(ctx, name, id, userID)
	if err != nil {
		return err
	}
	if c != nil {
		if err := s.appendLocked(ctx, u, *c, dgst); err != nil {
			return err
		}
	}
	return s.commit(ctx, u, dgst)
}

func (s *base) commit(ctx context.Context, u *models.Upload, dgst digest.Digest) error {
	h, err := restoreHash(u.HashState)
	if err != nil {
		return err
	}
	var got digest.Digest
	if dgst.Algorithm() == digest.SHA256 {
		got = digest.NewDigest(digest.SHA256, h)
	} else {
		// Only sha256 is hashed while streaming; another algorithm costs
		// one read of the data, once, at commit.
		got, err = s.rehash(ctx, u.ID, dgst.Algorithm())
		if err != nil {
			return err
		}
	}
	if got != dgst {
		_ = s.cancel(ctx, u.ID)
		return detailf(ErrDigestInvalid, map[string]string{"expected": dgst.String(), "actual": got.String()},
			"content digest %s does not match %s", got, dgst)
	}
	if err := s.checkQuota(ctx, u.Repository, dgst, u.Size); err != nil {
		_ = s.cancel(ctx, u.ID)
		return err
	}
	// The lease keeps garbage collection off the blob from before the
	// store deduplicates against it until the link is recorded.
	lease, err := s.leaseBlob(ctx, dgst, u.Size)
	if err != nil {
		return fmt.Errorf("commit upload %s: %w", u.ID, err)
	}
	if err := s.store.CommitUpload(ctx, u.ID, u.Size, dgst); err != nil {
		_ = s.db.Blobs.ReleaseLease(context.WithoutCancel(ctx), lease)
		if errors.Is(err, storage.ErrNotFound) {
			_ = s.cancel(ctx, u.ID)
			return ErrUploadUnknown
		}
		return fmt.Errorf("commit upload %s: %w", u.ID, err)
	}
	if err := s.db.Uploads.Complete(ctx, u.ID, lease, u.Repository, dgst.String(), u.Size); err != nil {
		_ = s.db.Blobs.ReleaseLease(context.WithoutCancel(ctx), lease)
		if errors.Is(err, models.ErrBlobDeleting) {
			// Only when the lease outlived its TTL: the client retries.
			return detailf(ErrBusy, nil, "blob %s is being garbage collected; retry later", dgst)
		}
		return fmt.Errorf("commit upload %s: %w", u.ID, err)
	}
	return nil
}

// leaseBlob takes the lease an upload holds while it commits dgst. When
// garbage collection is deleting the blob it waits, up to GCWait, for the
// deletion to finish, then writes the blob afresh.
func (s *base) leaseBlob(ctx context.Context, dgst digest.Digest, size int64) (string, error) {
	deadline := time.Now().Add(s.opts.GCWait)
	pause := 10 * time.Millisecond
	for {
		lease, err := s.db.Blobs.Lease(ctx, dgst.String(), size, s.opts.BlobLeaseTTL)
		if !errors.Is(err, models.ErrBlobDeleting) {
			return lease, err
		}
		for {
			if time.Now().After(deadline) {
				return "", detailf(ErrBusy, nil, "blob %s is being garbage collected; retry later", dgst)
			}
			select {
			case <-ctx.Done():
				return "", ctx.Err()
			case <-time.After(pause):
			}
			pause = min(2*pause, 250*time.Millisecond)
			deleting, err := s.db.Blobs.Deleting(ctx, dgst.String())
			if err != nil {
				return "", err
			}
			if !deleting {
				break
			}
		}
	}
}

func (s *base) rehash(ctx context.Context, id string, alg digest.Algorithm) (digest.Digest, error) {
	if !alg.Available() {
		return "", detailf(ErrDigestInvalid, nil, "unsupported digest algorithm %s", alg)
	}
	r, err := s.store.ReadUpload(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return alg.FromBytes(nil), nil // an empty upload never wrote a file
	}
	if err != nil {
		return "", err
	}
	defer r.Close()
	return alg.FromReader(r)
}

// Put stores a whole blob in one request (POST ?digest=, or a mount's
// fallback): stream, verify, commit.
func (s *Uploads) Put(ctx context.Context, name string, dgst digest.Digest, c Chunk) error {
	now := time.Now().UTC()
	u := &models.Upload{ID: uuid.NewString(), Repository: name, StartedAt: &now, UpdatedAt: now}
	// No session row holds these bytes: the reservation counts them until
	// the commit has linked the blob.
	body, release, err := s.meter(ctx, models.NamespaceOf(name), c, dgst, 0)
	if err != nil {
		return err
	}
	defer release()
	h := sha256.New()
	n, err := s.store.AppendUpload(ctx, u.ID, 0, io.TeeReader(body, h))
	if err != nil {
		_ = s.store.DeleteUpload(ctx, u.ID)
		return fmt.Errorf("put blob: %w", err)
	}
	if c.Length >= 0 && n != c.Length {
		_ = s.store.DeleteUpload(ctx, u.ID)
		return detailf(ErrSizeInvalid, nil, "received %d bytes, expected %d", n, c.Length)
	}
	u.Size = n
	u.HashState, _ = h.(encoding.BinaryMarshaler).MarshalBinary()
	if c.Verified != nil && dgst.Algorithm() == digest.SHA256 && digest.NewDigest(digest.SHA256, h) == dgst {
		c.Verified()
	}
	return s.commit(ctx, u, dgst)
}

// Cancel ends a session and discards its data.
func (s *Uploads) Cancel(ctx context.Context, name, id string, userID *int64) error {
	unlock := s.locks.lock(id)
	defer unlock()
	if _, err := s.getUpload(ctx, name, id, userID); err != nil {
		return err
	}
	return s.cancel(ctx, id)
}

func (s *base) cancel(ctx context.Context, id string) error {
	if err := s.db.Uploads.Delete(ctx, id); err != nil {
		return err
	}
	return s.store.DeleteUpload(ctx, id)
}

// PurgeStale removes sessions untouched for UploadTTL, and upload
// data that no session owns, and reports how many it removed.
func (s *Uploads) PurgeStale(ctx context.Context, now time.Time) (int, error) {
	before := now.Add(-s.opts.UploadTTL)
	removed := 0
	for {
		ups, err := s.db.Uploads.Stale(ctx, before, 100)
		if err != nil {
			return removed, err
		}
		for _, u := range ups {
			unlock := s.locks.lock(u.ID)
			err := s.cancel(ctx, u.ID)
			unlock()
			if err != nil {
				return removed, err
			}
			removed++
		}
		if len(ups) < 100 {
			break
		}
	}
	infos, err := s.store.ListUploads(ctx)
	if err != nil {
		return removed, err
	}
	for _, info := range infos {
		if info.ModTime.After(before) {
			continue
		}
		ok, err := s.db.Uploads.Exists(ctx, info.ID)
		if err != nil {
			return removed, err
		}
		if !ok && s.store.DeleteUpload(ctx, info.ID) == nil {
			removed++
		}
	}
	return removed, nil
}
