package auth

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// ErrThrottled is returned while too many logins failed for the name from
// this address, or from this address altogether.
type ErrThrottled struct{ RetryAfter time.Duration }

func (e *ErrThrottled) Error() string {
	return fmt.Sprintf("Too many failed sign-ins. Try again in %d seconds.", int(e.RetryAfter.Seconds()+0.5))
}

// Throttle counts failed logins in a sliding window and refuses attempts
// past a limit. The buckets:
//
//   - a password login counts against the name as typed, from the address
//     ("n:ADDR NAME", Limit failures). A user behind the same NAT as an
//     attacker is not refused for the attacker's failures on other names,
//     and an account attacked from one address still logs in from others.
//   - every password failure from an address also counts against the
//     address ("a:ADDR", AddressLimit failures, 10x Limit by default): the
//     ceiling that stops one address from spraying passwords over many
//     names. An office behind one NAT shares it, so it is generous.
//   - personal access token failures, which carry no name, count against
//     the address ("t:ADDR", AddressLimit failures). Tokens are 256 random
//     bits; this only stops a flood of database lookups, and a CI runner's
//     revoked token retrying does not hold up password logins.
//
// The bucket comes from the request alone, never from the database: a
// name that has no account is counted exactly like one that has, so 429s
// tell nothing about which accounts exist (and the caller hashes a dummy
// password for unknown names, so neither does timing). Names are
// lower-cased and cut at 64 bytes, the longest valid name, so spelling
// variants of one account share its bucket. IPv6 addresses count by /64,
// the block one host or one LAN gets, so that walking a /64 buys an
// attacker nothing.
//
// What this does not stop: an attacker with many addresses gets Limit
// guesses per account from each. That is the price of not letting anyone
// lock any account out everywhere; bcrypt's cost bounds the total rate.
type Throttle struct {
	Limit int
	// AddressLimit bounds the failures from one address over all names,
	// and of personal access tokens.
	AddressLimit int
	Window       time.Duration
	// shared, when set, keeps the counts in the database, so that replicas
	// behind one balancer enforce one limit instead of one each.
	shared FailureStore
	now    func() time.Time

	mu sync.Mutex
	// capacity bounds the buckets kept in memory; see evict.
	capacity int
	buckets  map[string]*bucket
	// Two lists, each oldest last failure first: open buckets (below their
	// limit) and full ones (that reached it).
	open, full list
}

// bucket is one key's recent failures: at most its limit of them, oldest
// first, in Unix nanoseconds.
type bucket struct {
	key        string
	times      []int64
	full       bool
	prev, next *bucket
}

// FailureStore keeps failed logins where every replica sees them;
// models.SessionStore is one.
type FailureStore interface {
	LoginFailures(ctx context.Context, key string, since time.Time) (int64, time.Time, error)
	RecordLoginFailure(ctx context.Context, keys []string, at time.Time, keep time.Duration) error
}

// sharedTimeout bounds a throttle query: a slow database must not hold
// logins up for long.
const sharedTimeout = 2 * time.Second

// defaultCapacity is how many buckets the in-memory throttle keeps: a few
// tens of megabytes at worst.
const defaultCapacity = 100_000

// NewThrottle allows limit failures per name and address within window,
// and 10 times as many per address. shared, if not nil, keeps the counts
// where every replica sees them (PostgreSQL); nil keeps them in memory.
func NewThrottle(limit int, window time.Duration, shared FailureStore) *Throttle {
	return &Throttle{Limit: limit, AddressLimit: 10 * limit, Window: window, shared: shared, now: time.Now,
		capacity: defaultCapacity, buckets: map[string]*bucket{}}
}

// rule is one bucket a login counts against.
type rule struct {
	key   string
	limit int
}

// maxNameKey is the longest valid account name; longer names cannot
// exist, and sharing one bucket costs them nothing.
const maxNameKey = 64

// addrKey is the address as the throttle counts it: IPv4 as is, IPv6 by
// its /64.
func addrKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		if len(ip) > 64 {
			ip = ip[:64]
		}
		return ip
	}
	a = a.Unmap().WithZone("")
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

func (t *Throttle) passwordRules(ip, name string) []rule {
	a := addrKey(ip)
	name = strings.ToLower(name)
	if len(name) > maxNameKey {
		name = name[:maxNameKey]
	}
	if !utf8.ValidString(name) || strings.ContainsRune(name, 0) {
		// No account has such a name, but its failures count all the
		// same: quoted, so that PostgreSQL takes it as text.
		name = strconv.Quote(name)
	}
	return []rule{{"n:" + a + " " + name, t.Limit}, {"a:" + a, t.AddressLimit}}
}

func (t *Throttle) tokenRules(ip string) []rule {
	return []rule{{"t:" + addrKey(ip), t.AddressLimit}}
}

// Check fails with *ErrThrottled while a password login for name from ip
// would be over a limit.
func (t *Throttle) Check(ip, name string) error {
	if t == nil {
		return nil
	}
	return t.check(t.passwordRules(ip, name))
}

// Fail records a failed password login for name from ip.
func (t *Throttle) Fail(ip, name string) {
	if t == nil {
		return
	}
	t.fail(t.passwordRules(ip, name))
}

// CheckToken fails with *ErrThrottled while ip has failed with too many
// personal access tokens.
func (t *Throttle) CheckToken(ip string) error {
	if t == nil {
		return nil
	}
	return t.check(t.tokenRules(ip))
}

// FailToken records a failed personal access token from ip.
func (t *Throttle) FailToken(ip string) {
	if t == nil {
		return
	}
	t.fail(t.tokenRules(ip))
}

func (t *Throttle) check(rules []rule) error {
	if t.shared != nil {
		return t.checkShared(rules)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	var worst *ErrThrottled
	for _, r := range rules {
		b := t.recent(r.key, now)
		if b == nil || len(b.times) < r.limit {
			continue
		}
		// The limit-th most recent failure leaves the window first.
		oldest := time.Unix(0, b.times[len(b.times)-r.limit])
		if wait := oldest.Add(t.Window).Sub(now); worst == nil || wait > worst.RetryAfter {
			worst = &ErrThrottled{RetryAfter: wait}
		}
	}
	if worst != nil {
		return worst
	}
	return nil
}

func (t *Throttle) fail(rules []rule) {
	if t.shared != nil {
		ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
		defer cancel()
		keys := make([]string, len(rules))
		for i, r := range rules {
			keys[i] = r.key
		}
		if err := t.shared.RecordLoginFailure(ctx, keys, t.now(), t.Window); err != nil {
			slog.Error("login throttle: record failure", "err", err)
		}
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	// The buckets of this failure are off the lists while it is counted,
	// so that making room for one cannot evict another.
	if t.buckets == nil {
		t.buckets = map[string]*bucket{}
	}
	capacity := t.capacity
	if capacity <= 0 {
		capacity = defaultCapacity
	}
	touched := make([]*bucket, 0, len(rules))
	for _, r := range rules {
		r.limit = max(r.limit, 1)
		b := t.recent(r.key, now)
		if b == nil {
			for len(t.buckets) >= capacity && t.evict(now) {
			}
			b = &bucket{key: r.key}
			t.buckets[r.key] = b
		} else {
			t.list(b).remove(b)
		}
		if len(b.times) >= r.limit {
			// Only the newest limit failures matter.
			n := copy(b.times, b.times[len(b.times)-r.limit+1:])
			b.times = b.times[:n]
		}
		b.times = append(b.times, now.UnixNano())
		b.full = b.full || len(b.times) >= r.limit
		touched = append(touched, b)
	}
	for _, b := range touched {
		t.list(b).pushBack(b)
	}
}

// evict drops one bucket to make room; the caller holds mu. An expired
// bucket goes first: it holds nothing. Otherwise the open bucket whose
// last failure is oldest goes, and a full one only when no open bucket is
// left.
//
// The table is never cleared, and a flood of new keys cannot cheaply free
// the bucket of someone being throttled. Each new key costs the flooder a
// failed login (a bcrypt on our side, and at most AddressLimit of them per
// address and window). Pushing out an open bucket takes capacity of them
// and returns fewer than Limit guesses, which the same failures spent
// from fresh addresses would have bought outright. Pushing out a full
// bucket takes capacity full buckets, capacity*Limit failures within one
// window. In exchange, a bucket below its limit can be lost under such a
// flood: the flood's bcrypts cost far more than the guesses it wins.
//
// It reports false when there was nothing to evict.
func (t *Throttle) evict(now time.Time) bool {
	cut := now.Add(-t.Window).UnixNano()
	for _, l := range []*list{&t.full, &t.open} {
		if b := l.head; b != nil && b.times[len(b.times)-1] < cut {
			t.drop(b)
			return true
		}
	}
	for _, l := range []*list{&t.open, &t.full} {
		if l.head != nil {
			t.drop(l.head)
			return true
		}
	}
	return false
}

func (t *Throttle) drop(b *bucket) {
	t.list(b).remove(b)
	delete(t.buckets, b.key)
}

func (t *Throttle) list(b *bucket) *list {
	if b.full {
		return &t.full
	}
	return &t.open
}

// recent drops failures older than the window from key's bucket, and the
// bucket if none is left; the caller holds mu.
func (t *Throttle) recent(key string, now time.Time) *bucket {
	b := t.buckets[key]
	if b == nil {
		return nil
	}
	cut := now.Add(-t.Window).UnixNano()
	i := 0
	for i < len(b.times) && b.times[i] < cut {
		i++
	}
	if i == len(b.times) {
		t.drop(b)
		return nil
	}
	b.times = b.times[i:]
	return b
}

// list is an intrusive doubly linked list of buckets.
type list struct{ head, tail *bucket }

func (l *list) pushBack(b *bucket) {
	b.prev, b.next = l.tail, nil
	if l.tail != nil {
		l.tail.next = b
	} else {
		l.head = b
	}
	l.tail = b
}

func (l *list) remove(b *bucket) {
	if b.prev != nil {
		b.prev.next = b.next
	} else {
		l.head = b.next
	}
	if b.next != nil {
		b.next.prev = b.prev
	} else {
		l.tail = b.prev
	}
	b.prev, b.next = nil, nil
}

// checkShared is check on the shared counts. When the database cannot
// answer, the login goes ahead: the password check still guards it, and
// refusing everyone would turn a database hiccup into an outage.
func (t *Throttle) checkShared(rules []rule) error {
	ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
	defer cancel()
	now := t.now()
	for _, r := range rules {
		n, oldest, err := t.shared.LoginFailures(ctx, r.key, now.Add(-t.Window))
		if err != nil {
			slog.Error("login throttle: count failures", "err", err)
			return nil
		}
		if n >= int64(r.limit) {
			return &ErrThrottled{RetryAfter: oldest.Add(t.Window).Sub(now)}
		}
	}
	return nil
}
