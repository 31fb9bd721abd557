package deployhook

import (
	"container/heap"
	"errors"
	"sync"
	"time"
)

// maxRemembered bounds the delivery ids remembered at once. A deploy hook
// sees a few deliveries an hour; this is about a hundred a second for the
// ten minutes an id may be kept.
const maxRemembered = 1 << 16

var (
	errReplay = errors.New("delivery already received")
	errFull   = errors.New("too many deliveries received within the signature tolerance; try again later")
)

// remembered holds the ids of the deliveries accepted recently, so that a
// repeat is refused. An id is kept for the tolerance after it was accepted
// and at least until its signed time falls out of the tolerance (plus the
// second that Verify's whole-second check may add): after that, a replay of
// the same signed request is refused as stale instead. It never holds more
// than max ids; when full it refuses new ones rather than forget one early.
type remembered struct {
	mu    sync.Mutex
	max   int
	keep  time.Duration
	until map[string]time.Time
	order expiries // min-heap by expiry; may hold stale entries of forgotten ids
}

func newRemembered(tolerance time.Duration, max int) *remembered {
	return &remembered{max: max, keep: tolerance + time.Second, until: map[string]time.Time{}}
}

// add remembers id, accepted at now and signed at signedAt. It fails with
// errReplay if id is remembered already, errFull if there is no room.
func (m *remembered) add(id string, signedAt, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.evict(now)
	if _, ok := m.until[id]; ok {
		return errReplay
	}
	if len(m.order) >= m.max {
		return errFull
	}
	exp := now
	if signedAt.After(now) {
		exp = signedAt
	}
	exp = exp.Add(m.keep)
	m.until[id] = exp
	heap.Push(&m.order, expiry{id: id, at: exp})
	return nil
}

// forget drops id, for a delivery accepted but then not taken (a full
// queue, a shutdown): the sender's retry must not be refused as a replay.
// Its heap entry goes when it expires.
func (m *remembered) forget(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.until, id)
}

// evict drops the ids kept long enough by now.
func (m *remembered) evict(now time.Time) {
	for len(m.order) > 0 && m.order[0].at.Before(now) {
		e := heap.Pop(&m.order).(expiry)
		if at, ok := m.until[e.id]; ok && at.Equal(e.at) {
			delete(m.until, e.id)
		}
	}
}

// size is how many entries are held (for tests).
func (m *remembered) size() (ids, entries int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.until), len(m.order)
}

type expiry struct {
	id string
	at time.Time
}

type expiries []expiry

func (e expiries) Len() int           { return len(e) }
func (e expiries) Less(i, j int) bool { return e[i].at.Before(e[j].at) }
func (e expiries) Swap(i, j int)      { e[i], e[j] = e[j], e[i] }
func (e *expiries) Push(x any)        { *e = append(*e, x.(expiry)) }
func (e *expiries) Pop() any {
	old := *e
	x := old[len(old)-1]
	*e = old[:len(old)-1]
	return x
}
