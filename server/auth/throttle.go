package auth

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// ErrThrottled is returned while too many failed logins came from one
// address or for one account.
type ErrThrottled struct{ RetryAfter time.Duration }

func (e *ErrThrottled) Error() string {
	return fmt.Sprintf("too many failed logins; try again in %d seconds", int(e.RetryAfter.Seconds()+0.5))
}

// Throttle counts failed logins per address and per account in a sliding
// window, and refuses further attempts past a limit.
type Throttle struct {
	Limit  int
	Window time.Duration
	// Shared, when set, keeps the counts in the database, so that replicas
	// behind one balancer enforce one limit instead of one each.
	Shared FailureStore
	now    func() time.Time

	mu    sync.Mutex
	fails map[string][]time.Time
}

// FailureStore keeps failed logins where every replica sees them;
// models.DB is one.
type FailureStore interface {
	LoginFailures(ctx context.Context, key string, since time.Time) (int64, time.Time, error)
	RecordLoginFailure(ctx context.Context, keys []string, at time.Time, keep time.Duration) error
}

// sharedTimeout bounds a throttle query: a slow database must not hold
// logins up for long.
const sharedTimeout = 2 * time.Second

// NewThrottle allows limit failures per key within window.
func NewThrottle(limit int, window time.Duration) *Throttle {
	return &Throttle{Limit: limit, Window: window, now: time.Now, fails: map[string][]time.Time{}}
}

func keys(ip, user string) []string {
	k := []string{"ip:" + ip}
	if user != "" {
		k = append(k, "user:"+user)
	}
	return k
}

// Check fails with *ErrThrottled if ip or user is over the limit.
func (t *Throttle) Check(ip, user string) error {
	if t == nil {
		return nil
	}
	if t.Shared != nil {
		return t.checkShared(ip, user)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	for _, k := range keys(ip, user) {
		fs := t.recent(k, now)
		if len(fs) >= t.Limit {
			return &ErrThrottled{RetryAfter: fs[0].Add(t.Window).Sub(now)}
		}
	}
	return nil
}

// Fail records a failed login.
func (t *Throttle) Fail(ip, user string) {
	if t == nil {
		return
	}
	if t.Shared != nil {
		ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
		defer cancel()
		if err := t.Shared.RecordLoginFailure(ctx, keys(ip, user), t.now(), t.Window); err != nil {
			slog.Error("login throttle: record failure", "err", err)
		}
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if len(t.fails) > 100000 {
		t.fails = map[string][]time.Time{} // bound memory under a flood
	}
	for _, k := range keys(ip, user) {
		t.fails[k] = append(t.recent(k, now), now)
	}
}

// recent drops failures older than the window; the caller holds mu.
func (t *Throttle) recent(k string, now time.Time) []time.Time {
	fs := t.fails[k]
	i := 0
	for i < len(fs) && now.Sub(fs[i]) > t.Window {
		i++
	}
	fs = fs[i:]
	if len(fs) == 0 {
		delete(t.fails, k)
		return nil
	}
	t.fails[k] = fs
	return fs
}

// checkShared is Check on the shared counts. When the database cannot
// answer, the login goes ahead: the password check still guards it, and
// refusing everyone would turn a database hiccup into an outage.
func (t *Throttle) checkShared(ip, user string) error {
	ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
	defer cancel()
	now := t.now()
	for _, k := range keys(ip, user) {
		n, oldest, err := t.Shared.LoginFailures(ctx, k, now.Add(-t.Window))
		if err != nil {
			slog.Error("login throttle: count failures", "err", err)
			return nil
		}
		if n >= int64(t.Limit) {
			return &ErrThrottled{RetryAfter: oldest.Add(t.Window).Sub(now)}
		}
	}
	return nil
}
