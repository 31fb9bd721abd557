package auth

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// rig runs a throttle scenario on a fake clock, in memory or on the
// database shared by two replicas; calls alternate between the replicas,
// so a shared throttle must count them together.
type rig struct {
	t        *testing.T
	now      time.Time
	replicas []*Throttle
	turn     int
}

func newRig(t *testing.T, shared bool) *rig {
	r := &rig{t: t, now: time.Unix(1_000_000, 0)}
	if !shared {
		th := NewThrottle(10, 15*time.Minute, nil)
		th.now = func() time.Time { return r.now }
		r.replicas = []*Throttle{th}
		return r
	}
	db := testDB(t)
	for range 2 {
		th := NewThrottle(10, 15*time.Minute, db.Sessions)
		th.now = func() time.Time { return r.now }
		r.replicas = append(r.replicas, th)
	}
	return r
}

func (r *rig) th() *Throttle {
	r.turn++
	return r.replicas[r.turn%len(r.replicas)]
}

// fail records n failed password logins for name from ip, each checked
// first as Accounts does.
func (r *rig) fail(ip, name string, n int) {
	r.t.Helper()
	for i := range n {
		if err := r.th().Check(ip, name); err != nil {
			r.t.Fatalf("failure %d of %s from %s refused: %v", i+1, name, ip, err)
		}
		r.th().Fail(ip, name)
	}
}

func (r *rig) failToken(ip string, n int) {
	r.t.Helper()
	for i := range n {
		if err := r.th().CheckToken(ip); err != nil {
			r.t.Fatalf("token failure %d from %s refused: %v", i+1, ip, err)
		}
		r.th().FailToken(ip)
	}
}

func (r *rig) allowed(ip, name string) {
	r.t.Helper()
	for _, th := range r.replicas {
		if err := th.Check(ip, name); err != nil {
			r.t.Fatalf("%s from %s refused: %v", name, ip, err)
		}
	}
}

func (r *rig) refused(ip, name string) {
	r.t.Helper()
	for _, th := range r.replicas {
		var e *ErrThrottled
		if err := th.Check(ip, name); !errors.As(err, &e) || e.RetryAfter <= 0 || e.RetryAfter > 15*time.Minute {
			r.t.Fatalf("%s from %s not throttled: %v", name, ip, err)
		}
	}
}

func TestThrottle(t *testing.T) {
	for _, c := range []struct {
		name string
		run  func(r *rig)
	}{
		{"the name is throttled from the address after 10 failures", func(r *rig) {
			r.fail("203.0.113.1", "alice", 10)
			r.refused("203.0.113.1", "alice")
		}},
		{"another user behind the same NAT is not blocked", func(r *rig) {
			r.fail("203.0.113.1", "bob", 10)
			for range 5 {
				r.th().Fail("203.0.113.1", "bob") // clients that ignore 429
			}
			r.refused("203.0.113.1", "bob")
			r.allowed("203.0.113.1", "alice")
		}},
		{"an attacked account still logs in from another address", func(r *rig) {
			r.fail("203.0.113.1", "alice", 10)
			r.allowed("198.51.100.2", "alice")
		}},
		{"a name that has no account counts the same as one that has", func(r *rig) {
			// The throttle never asks the database: "nobody" and "alice"
			// are both just names, so a 429 tells nothing.
			r.fail("203.0.113.1", "nobody", 10)
			r.refused("203.0.113.1", "nobody")
			r.allowed("203.0.113.1", "alice")
		}},
		{"spelling variants share the account's bucket", func(r *rig) {
			r.fail("203.0.113.1", "alice", 5)
			r.fail("203.0.113.1", "ALICE", 5)
			r.refused("203.0.113.1", "Alice")
			long := strings.Repeat("x", maxNameKey)
			r.fail("203.0.113.1", long+"1", 5)
			r.fail("203.0.113.1", long+"2", 5)
			r.refused("203.0.113.1", long)
		}},
		{"one address spraying many names meets the address ceiling", func(r *rig) {
			for i := range 10 {
				r.fail("203.0.113.1", fmt.Sprintf("user%d", i), 10)
			}
			r.refused("203.0.113.1", "alice")
			r.allowed("203.0.113.2", "alice")
		}},
		{"IPv6 counts by /64", func(r *rig) {
			r.fail("2001:db8:0:1::1", "alice", 5)
			r.fail("2001:db8:0:1::ffff", "alice", 5)
			r.refused("2001:db8:0:1:abcd::9", "alice")
			r.allowed("2001:db8:0:2::1", "alice")
			r.fail("::ffff:203.0.113.9", "alice", 10)
			r.refused("203.0.113.9", "alice")
		}},
		{"token failures count per address and leave password logins alone", func(r *rig) {
			r.failToken("203.0.113.1", 100)
			for _, th := range r.replicas {
				if err := th.CheckToken("203.0.113.1"); err == nil {
					r.t.Fatal("token failures not throttled")
				}
				if err := th.CheckToken("203.0.113.2"); err != nil {
					r.t.Fatalf("another address's tokens throttled: %v", err)
				}
			}
			r.allowed("203.0.113.1", "alice")
		}},
		{"failures leave the window", func(r *rig) {
			r.fail("203.0.113.1", "alice", 9)
			r.now = r.now.Add(10 * time.Minute)
			r.fail("203.0.113.1", "alice", 1)
			r.refused("203.0.113.1", "alice")
			r.now = r.now.Add(5*time.Minute + time.Second) // the first 9 are gone
			r.allowed("203.0.113.1", "alice")
			r.fail("203.0.113.1", "alice", 9)
			r.refused("203.0.113.1", "alice")
		}},
	} {
		for _, mode := range []string{"in memory", "shared by two replicas"} {
			t.Run(c.name+"/"+mode, func(t *testing.T) {
				c.run(newRig(t, mode != "in memory"))
			})
		}
	}
}

func TestThrottleRetryAfter(t *testing.T) {
	r := newRig(t, false)
	r.fail("203.0.113.1", "alice", 10)
	r.now = r.now.Add(time.Minute)
	var e *ErrThrottled
	if err := r.th().Check("203.0.113.1", "alice"); !errors.As(err, &e) || e.RetryAfter != 14*time.Minute {
		t.Fatalf("Check = %v, want a retry in 14m", err)
	}
}

// A flood of a million new keys neither clears the table nor frees the
// bucket of someone being throttled, and memory stays bounded. (At a
// tenth of the real capacity, to keep the test quick under -race: the
// guarantee does not depend on the size.)
func TestThrottleBoundedUnderFlood(t *testing.T) {
	r := newRig(t, false)
	th := r.replicas[0]
	th.capacity = defaultCapacity / 10
	r.fail("203.0.113.1", "alice", 10)
	r.fail("203.0.113.1", "bob", 3)
	for i := range 500_000 { // two new keys each: name and address
		if i%1000 == 0 {
			r.now = r.now.Add(time.Millisecond)
		}
		th.Fail(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}).String(), "x")
		if len(th.buckets) > th.capacity {
			t.Fatalf("%d buckets kept, more than %d", len(th.buckets), th.capacity)
		}
	}
	r.refused("203.0.113.1", "alice")
	// What a flood may cost: a bucket below its limit whose last failure
	// is older than capacity others. The address bucket reached no limit
	// either (13 < 100), so it went too.
	if _, ok := th.buckets["n:203.0.113.1 bob"]; ok {
		t.Fatal("an open bucket outlived a flood of a million newer ones")
	}
}

// The eviction order, exactly: expired buckets first, then open buckets
// by their last failure, then full ones.
func TestThrottleEviction(t *testing.T) {
	r := newRig(t, false)
	th := r.replicas[0]
	th.capacity = 6
	th.Limit, th.AddressLimit = 2, 100
	has := func(key string) bool { _, ok := th.buckets[key]; return ok }
	r.fail("192.0.2.1", "old", 2) // a full bucket and an open one, both to expire
	r.now = r.now.Add(16 * time.Minute)
	r.fail("192.0.2.2", "full", 2)
	r.fail("192.0.2.3", "open", 1)
	if len(th.buckets) != 6 {
		t.Fatalf("buckets: %d", len(th.buckets))
	}
	r.th().Fail("192.0.2.4", "new")
	if has("n:192.0.2.1 old") || has("a:192.0.2.1") || !has("a:192.0.2.2") {
		t.Fatal("expired buckets were not evicted first")
	}
	r.th().Fail("192.0.2.5", "new")
	if has("a:192.0.2.2") || has("n:192.0.2.3 open") || !has("a:192.0.2.3") || !has("n:192.0.2.2 full") {
		t.Fatal("not the oldest open buckets evicted")
	}
	for i := range 6 {
		r.th().Fail("192.0.2.7", fmt.Sprint("n", i))
	}
	if !has("n:192.0.2.2 full") {
		t.Fatal("a full bucket evicted while open ones were left")
	}
	for i := range 6 {
		r.fail("192.0.2.8", fmt.Sprint("f", i), 2)
	}
	if has("n:192.0.2.2 full") || len(th.buckets) != 6 {
		t.Fatalf("full buckets do not make room for each other: %d", len(th.buckets))
	}
}
