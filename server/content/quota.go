package content

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/google/uuid"
	"github.com/opencontainers/go-digest"

	"github.com/wharfhub/wharf/models"
)

// ErrQuotaExceeded refuses content that would take a namespace over its
// storage quota.
var ErrQuotaExceeded = errors.New("storage quota exceeded")

// checkQuota refuses adding size bytes of dgst (empty for a manifest) to
// repository name when its namespace has a quota it would exceed. A blob
// the namespace already holds costs nothing.
func (s *base) checkQuota(ctx context.Context, name string, dgst digest.Digest, size int64) error {
	ns := models.NamespaceOf(name)
	u, err := s.db.Namespaces.Usage(ctx, ns)
	if err != nil {
		return fmt.Errorf("check quota of %s: %w", ns, err)
	}
	if u.QuotaBytes <= 0 || u.Bytes+size <= u.QuotaBytes {
		return nil
	}
	if dgst != "" {
		if has, err := s.db.Namespaces.HasBlob(ctx, ns, dgst.String()); err != nil || has {
			return err
		}
	}
	return detailf(ErrQuotaExceeded, map[string]int64{"used": u.Bytes, "quota": u.QuotaBytes, "adding": size},
		"namespace %s would exceed its storage quota: %d of %d bytes used, adding %d", ns, u.Bytes, u.QuotaBytes, size)
}

// Bytes streaming into an upload count against the quota as they arrive
// (see models.NamespaceStore.Reserve): a request reserves room before it
// reads, a known Content-Length at once, an unknown length in growing
// steps, and releases the reservation once the bytes are recorded in the
// session or committed. A reservation lives reservationTTL past its last renewal, so a
// replica that dies mid-request blocks its namespace's room only that long.
const (
	reservationTTL   = 2 * time.Minute
	firstReservation = 256 << 10
	maxReservation   = 64 << 20
)

// meter wraps the body of c, streaming into namespace ns, so that it fails
// with ErrQuotaExceeded before it passes on a byte beyond the quota. A
// declared length that does not fit is refused before anything is read.
// release must be called once the bytes are recorded, or have failed.
//
// When the upload is to end as dgst (a monolithic blob, or a last chunk
// after offset bytes) and the namespace already holds that blob, which
// costs it nothing at commit, the bytes up to the blob's size are not
// counted: they either make the blob again or fail its digest and go.
func (s *base) meter(ctx context.Context, ns string, c Chunk, dgst digest.Digest, offset int64) (body io.Reader, release func(), err error) {
	quota, err := s.db.Namespaces.Quota(ctx, ns)
	if err != nil {
		return nil, nil, fmt.Errorf("check quota of %s: %w", ns, err)
	}
	if quota <= 0 {
		return c.Body, func() {}, nil
	}
	free, err := s.heldBytes(ctx, ns, dgst, offset)
	if err != nil {
		return nil, nil, err
	}
	m := &meteredReader{ctx: ctx, db: s.db, ns: ns, id: uuid.NewString(), body: c.Body, step: firstReservation}
	release = func() {
		if m.taken {
			_ = s.db.Namespaces.Release(context.WithoutCancel(ctx), m.id)
		}
	}
	if counted := c.Length - free; c.Length >= 0 && counted > 0 {
		if err := m.reserve(counted); err != nil {
			release()
			return nil, nil, err
		}
		if !m.unlimited && m.reserved < counted {
			release()
			return nil, nil, m.exceeded(counted)
		}
	}
	if free > 0 {
		return io.MultiReader(io.LimitReader(c.Body, free), m), release, nil
	}
	return m, release, nil
}

// heldBytes is how much of an upload that is to end as dgst, after offset
// bytes, remakes a blob namespace ns already holds.
func (s *base) heldBytes(ctx context.Context, ns string, dgst digest.Digest, offset int64) (int64, error) {
	if dgst == "" {
		return 0, nil
	}
	held, err := s.db.Namespaces.HasBlob(ctx, ns, dgst.String())
	if err != nil || !held {
		return 0, err
	}
	size, err := s.db.Blobs.Size(ctx, dgst.String())
	if errors.Is(err, models.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return max(size-offset, 0), nil
}

// meteredReader passes on at most the bytes its reservation holds, growing
// and renewing the reservation as it goes.
type meteredReader struct {
	ctx  context.Context
	db   *models.DB
	ns   string
	id   string
	body io.Reader

	taken     bool  // a reservation row may exist
	unlimited bool  // the quota went away
	reserved  int64 // bytes this request may receive
	read      int64 // bytes passed on
	step      int64 // the next growth of the reservation
	used      int64 // what the namespace held besides, at the last reservation
	quota     int64
	renewAt   time.Time
}

func (m *meteredReader) Read(p []byte) (int, error) {
	if m.unlimited {
		return m.body.Read(p)
	}
	if len(p) == 0 {
		return 0, nil
	}
	if time.Now().After(m.renewAt) && m.read < m.reserved {
		if err := m.reserve(m.reserved); err != nil {
			return 0, err
		}
	}
	if m.read < m.reserved {
		p = p[:min(int64(len(p)), m.reserved-m.read)]
		n, err := m.body.Read(p)
		m.read += int64(n)
		return n, err
	}
	// The reservation is used up. Look at one more byte before asking for
	// more room: a body that ends here needs none.
	var b [1]byte
	if n, err := io.ReadFull(m.body, b[:]); n == 0 {
		return 0, err
	}
	if err := m.reserve(m.read + m.step); err != nil {
		return 0, err
	}
	m.step = min(2*m.step, maxReservation)
	if !m.unlimited && m.reserved <= m.read {
		return 0, m.exceeded(m.read + 1)
	}
	p[0] = b[0]
	m.read++
	return 1, nil
}

// reserve asks for want bytes in all and renews the reservation.
func (m *meteredReader) reserve(want int64) error {
	now := time.Now()
	res, err := m.db.Namespaces.Reserve(m.ctx, m.id, m.ns, want, now, now.Add(reservationTTL))
	if err != nil {
		return fmt.Errorf("reserve quota of %s: %w", m.ns, err)
	}
	m.taken = true
	if res.Quota == 0 {
		m.unlimited = true
		return nil
	}
	m.reserved, m.used, m.quota = res.Bytes, res.Used, res.Quota
	m.renewAt = now.Add(reservationTTL / 2)
	return nil
}

func (m *meteredReader) exceeded(adding int64) error {
	return detailf(ErrQuotaExceeded, map[string]int64{"used": m.used, "quota": m.quota, "adding": adding},
		"namespace %s would exceed its storage quota: %d of %d bytes used, counting uploads in progress, adding %d",
		m.ns, m.used, m.quota, adding)
}
