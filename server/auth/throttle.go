package auth

import (
	"fmt"
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
	now    func() time.Time

	mu    sync.Mutex
	fails map[string][]time.Time
}

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
