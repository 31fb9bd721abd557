package webhook

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func mustGuard(t *testing.T, spec string) *Guard {
	t.Helper()
	g, err := ParseAllowList(spec)
	if err != nil {
		t.Fatalf("ParseAllowList(%q): %v", spec, err)
	}
	return g
}

// loopbackOnly makes every real dial of g fail the test unless it goes to
// 127.0.0.1 or ::1, so that a bug in the guard cannot send test traffic
// anywhere else.
func loopbackOnly(t *testing.T, g *Guard) *Guard {
	t.Helper()
	g.Dialer = &net.Dialer{Timeout: 5 * time.Second, Control: func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil || !(ap.Addr().Unmap() == netip.MustParseAddr("127.0.0.1") || ap.Addr() == netip.IPv6Loopback()) {
			t.Errorf("test tried to dial %s, which is not loopback", address)
			return errors.New("test dials loopback only")
		}
		return nil
	}}
	return g
}

// fakeResolver answers each lookup of a name with the next of its answers
// (the last one repeats), to simulate DNS rebinding.
type fakeResolver struct {
	mu      sync.Mutex
	answers map[string][][]string
	calls   map[string]int
}

func newFakeResolver(answers map[string][][]string) *fakeResolver {
	return &fakeResolver{answers: answers, calls: map[string]int{}}
}

func (r *fakeResolver) LookupNetIP(_ context.Context, network, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	seq, ok := r.answers[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	n := r.calls[host]
	r.calls[host]++
	answer := seq[min(n, len(seq)-1)]
	var ips []netip.Addr
	for _, s := range answer {
		ip := netip.MustParseAddr(s)
		if (network == "ip4" && !ip.Is4()) || (network == "ip6" && !ip.Is6()) {
			continue
		}
		ips = append(ips, ip)
	}
	return ips, nil
}

func (r *fakeResolver) count(host string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[host]
}

func TestParseAllowList(t *testing.T) {
	tests := []struct {
		name, spec string
		wantErr    string
	}{
		{"empty means external", "", ""},
		{"blank means external", "   ", ""},
		{"keywords", "external,private,loopback", ""},
		{"spaces and case are ignored", " External , PRIVATE ", ""},
		{"star", "*", ""},
		{"cidrs", "10.1.0.0/16,fd00::/8", ""},
		{"cidr with host bits", "10.1.2.3/16", ""},
		{"bare addresses", "10.1.2.3,::1", ""},
		{"host globs", "*.example.com,hooks.internal,build-?.ci.test", ""},
		{"empty entry", "external,,private", "empty entry"},
		{"trailing comma", "external,", "empty entry"},
		{"bad cidr", "10.0.0.0/33", "not a valid CIDR"},
		{"bad cidr address", "10.0.0/8", "not a valid CIDR"},
		{"unknown keyword with bad characters", "public!", "bad character"},
		{"url instead of host", "http://example.com", "not a valid CIDR"},
		{"port in host", "example.com:80", "bad character"},
		{"glob of nothing", "*.*", "at least one letter"},
		{"bad glob", "[a.example.com", "bad character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := ParseAllowList(tt.spec)
			if tt.wantErr == "" {
				if err != nil || g == nil {
					t.Fatalf("ParseAllowList(%q) = %v, %v; want a guard", tt.spec, g, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("ParseAllowList(%q) error = %v; want one containing %q", tt.spec, err, tt.wantErr)
			}
		})
	}
}

// allowColumns are the allow lists of TestCheckAddr, with the host name the
// URL names ("" means the URL names the address itself).
var allowColumns = []struct{ spec, host string }{
	{"", ""},
	{"private", ""},
	{"loopback", ""},
	{"*", ""},
	{"10.0.0.0/8", ""},
	{"*.example.com", "hooks.example.com"}, // a matching name allows whatever it resolves to
	{"*.example.com", "evil.test"},         // another name gets nothing
}

func TestCheckAddr(t *testing.T) {
	// want has one letter per column of allowColumns: Y allowed, . refused.
	tests := []struct {
		name, addr, want, class string
	}{
		{"loopback", "127.0.0.1", "..YY.Y.", "loopback"},
		{"loopback anywhere in 127/8", "127.1.2.3", "..YY.Y.", "loopback"},
		{"ipv6 loopback", "::1", "..YY.Y.", "loopback"},
		{"cloud metadata is link-local, even for private", "169.254.169.254", "...Y.Y.", "link-local"},
		{"ipv6 link-local", "fe80::1", "...Y.Y.", "link-local"},
		{"ipv6 link-local with zone", "fe80::1%eth0", "...Y.Y.", "link-local"},
		{"ipv4-mapped loopback is judged as ipv4", "::ffff:127.0.0.1", "..YY.Y.", "loopback"},
		{"ipv4-mapped metadata", "::ffff:169.254.169.254", "...Y.Y.", "link-local"},
		{"ipv4-mapped private within cidr", "::ffff:10.0.0.1", ".Y.YYY.", "private"},
		{"nat64 of loopback", "64:ff9b::7f00:1", "..YY.Y.", "loopback"},
		{"nat64 of metadata", "64:ff9b::a9fe:a9fe", "...Y.Y.", "link-local"},
		{"nat64 of public", "64:ff9b::808:808", "Y..Y.Y.", ""},
		{"local-use nat64", "64:ff9b:1::7f00:1", "...Y.Y.", "reserved"},
		{"6to4 of loopback", "2002:7f00:1::1", "..YY.Y.", "loopback"},
		{"ipv4-compatible loopback", "::127.0.0.1", "...Y.Y.", "reserved"},
		{"cgnat is private", "100.64.0.1", ".Y.Y.Y.", "private"},
		{"cgnat upper end", "100.127.255.254", ".Y.Y.Y.", "private"},
		{"just above cgnat is public", "100.128.0.1", "Y..Y.Y.", ""},
		{"rfc1918 10/8", "10.0.0.1", ".Y.YYY.", "private"},
		{"rfc1918 172.16/12", "172.16.5.4", ".Y.Y.Y.", "private"},
		{"just above 172.16/12 is public", "172.32.0.1", "Y..Y.Y.", ""},
		{"rfc1918 192.168/16", "192.168.1.1", ".Y.Y.Y.", "private"},
		{"unique local", "fc00::1", ".Y.Y.Y.", "private"},
		{"unique local fd", "fd12:3456::1", ".Y.Y.Y.", "private"},
		{"unspecified", "0.0.0.0", "...Y.Y.", "unspecified"},
		{"this network", "0.1.2.3", "...Y.Y.", "unspecified"},
		{"ipv6 unspecified", "::", "...Y.Y.", "unspecified"},
		{"multicast", "224.0.0.1", "...Y.Y.", "multicast"},
		{"ipv6 multicast", "ff02::1", "...Y.Y.", "multicast"},
		{"broadcast", "255.255.255.255", "...Y.Y.", "broadcast"},
		{"class e", "240.0.0.1", "...Y.Y.", "reserved"},
		{"documentation", "192.0.2.10", "...Y.Y.", "reserved"},
		{"ipv6 documentation", "2001:db8::1", "...Y.Y.", "reserved"},
		{"teredo", "2001:0:4136:e378::1", "...Y.Y.", "reserved"},
		{"public ipv4", "8.8.8.8", "Y..Y.Y.", ""},
		{"public ipv6", "2001:4860:4860::8888", "Y..Y.Y.", ""},
	}
	guards := make([]*Guard, len(allowColumns))
	for i, col := range allowColumns {
		guards[i] = mustGuard(t, col.spec)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if len(tt.want) != len(allowColumns) {
				t.Fatalf("want %q has %d columns, not %d", tt.want, len(tt.want), len(allowColumns))
			}
			ip := netip.MustParseAddr(tt.addr)
			for i, col := range allowColumns {
				host := col.host
				if host == "" {
					host = tt.addr
				}
				err := guards[i].CheckAddr(host, ip)
				if allowed := err == nil; allowed != (tt.want[i] == 'Y') {
					t.Errorf("allow list %q, host %q, address %s: err = %v; want allowed = %v", col.spec, host, tt.addr, err, !allowed)
					continue
				}
				if err == nil {
					continue
				}
				if !errors.Is(err, ErrRefused) {
					t.Errorf("error %v does not wrap ErrRefused", err)
				}
				var re *RefusedError
				if !errors.As(err, &re) || !strings.Contains(re.Class, tt.class) {
					t.Errorf("error %v: want class %q", err, tt.class)
				}
			}
		})
	}
}

func TestRefusedErrorMessage(t *testing.T) {
	g := mustGuard(t, "")
	tests := []struct{ host, addr, want string }{
		{"127.0.0.1", "127.0.0.1", "webhook target 127.0.0.1 is a loopback address, refused by --webhook-allowed-hosts"},
		{"evil.test", "169.254.169.254", "webhook target evil.test (169.254.169.254) is a link-local address, refused by --webhook-allowed-hosts"},
		{"::ffff:127.0.0.1", "::ffff:127.0.0.1", "webhook target ::ffff:127.0.0.1 is a loopback address (embeds 127.0.0.1), refused by --webhook-allowed-hosts"},
	}
	for _, tt := range tests {
		err := g.CheckAddr(tt.host, netip.MustParseAddr(tt.addr))
		if err == nil || err.Error() != tt.want {
			t.Errorf("CheckAddr(%q, %s) = %v; want %q", tt.host, tt.addr, err, tt.want)
		}
	}
}

func TestExplicitCIDRAllowsLinkLocal(t *testing.T) {
	g := mustGuard(t, "private,169.254.169.254/32")
	if err := g.CheckAddr("", netip.MustParseAddr("169.254.169.254")); err != nil {
		t.Errorf("explicit CIDR: %v", err)
	}
	if err := g.CheckAddr("", netip.MustParseAddr("169.254.169.253")); err == nil {
		t.Error("169.254.169.253 is outside the CIDR but was allowed")
	}
}

func TestCheck(t *testing.T) {
	res := newFakeResolver(map[string][][]string{
		"public.test":         {{"8.8.8.8", "2001:4860:4860::8888"}},
		"local.test":          {{"127.0.0.1"}},
		"mixed.test":          {{"8.8.8.8", "127.0.0.1"}},
		"mixed-first.test":    {{"127.0.0.1", "8.8.8.8"}},
		"metadata.test":       {{"169.254.169.254"}},
		"hooks.example.com":   {{"10.0.0.5"}},
		"metadata.example.co": {{"169.254.169.254"}},
	})
	tests := []struct {
		name, spec, host string
		wantErr          string // "" allowed; "refused" wraps ErrRefused
	}{
		{"public name", "", "public.test", ""},
		{"public name with port", "", "public.test:8443", ""},
		{"public literal", "", "8.8.8.8", ""},
		{"bracketed ipv6 literal with port", "", "[2001:4860:4860::8888]:443", ""},
		{"loopback name", "", "local.test", "refused"},
		{"loopback literal", "", "127.0.0.1", "refused"},
		{"loopback ipv6 literal", "", "[::1]", "refused"},
		{"one bad address refuses the name", "", "mixed.test", "refused"},
		{"bad address first", "", "mixed-first.test", "refused"},
		{"metadata name", "private", "metadata.test", "refused"},
		{"glob allows the name", "*.example.com", "hooks.example.com", ""},
		{"glob needs a dot before example.com", "*.example.com", "metadata.example.co", "refused"},
		{"unknown name", "", "nowhere.test", "no such host"},
		{"no host", "", "", "no host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := mustGuard(t, tt.spec)
			g.Resolver = res
			err := g.Check(tt.host)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Check(%q) = %v; want allowed", tt.host, err)
			case tt.wantErr == "refused" && !errors.Is(err, ErrRefused):
				t.Fatalf("Check(%q) = %v; want refused", tt.host, err)
			case tt.wantErr != "" && tt.wantErr != "refused" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Check(%q) = %v; want an error containing %q", tt.host, err, tt.wantErr)
			}
		})
	}
}

func TestCheckURL(t *testing.T) {
	g := mustGuard(t, "")
	g.Resolver = newFakeResolver(map[string][][]string{"public.test": {{"8.8.8.8"}}})
	tests := []struct {
		url     string
		allowed bool
	}{
		{"https://public.test/hook", true},
		{"http://8.8.8.8:8080/hook", true},
		{"http://127.0.0.1:5000/hook", false},
		{"http://[::ffff:127.0.0.1]/hook", false},
		{"http://169.254.169.254/latest/meta-data/", false},
		{"file:///etc/passwd", false},
		{"gopher://public.test/", false},
	}
	for _, tt := range tests {
		if err := g.CheckURL(context.Background(), tt.url); (err == nil) != tt.allowed {
			t.Errorf("CheckURL(%q) = %v; want allowed = %v", tt.url, err, tt.allowed)
		}
	}
}

// listen starts a loopback listener that counts the connections it accepts.
func listen(t *testing.T) (port string, accepted *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	accepted = new(atomic.Int32)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	_, port, _ = net.SplitHostPort(ln.Addr().String())
	return port, accepted
}

func TestDialContext(t *testing.T) {
	port, accepted := listen(t)
	tests := []struct {
		name, spec string
		answers    [][]string // what hook.test resolves to, lookup after lookup
		wantDial   bool
	}{
		{"loopback allowed by keyword", "loopback", [][]string{{"127.0.0.1"}}, true},
		{"loopback allowed by cidr", "127.0.0.0/8", [][]string{{"127.0.0.1"}}, true},
		{"loopback allowed by host glob", "*.test", [][]string{{"127.0.0.1"}}, true},
		{"loopback refused by default", "", [][]string{{"127.0.0.1"}}, false},
		{"loopback refused with private", "private", [][]string{{"127.0.0.1"}}, false},
		{"rebinding to loopback is refused at dial time", "", [][]string{{"8.8.8.8"}, {"127.0.0.1"}}, false},
		{"public and loopback together are refused", "", [][]string{{"8.8.8.8", "127.0.0.1"}}, false},
		{"loopback and public together are refused", "", [][]string{{"127.0.0.1", "8.8.8.8"}}, false},
		{"mapped loopback is refused", "", [][]string{{"::ffff:127.0.0.1"}}, false},
		{"nat64 loopback is refused", "", [][]string{{"64:ff9b::7f00:1"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := newFakeResolver(map[string][][]string{"hook.test": tt.answers})
			g := loopbackOnly(t, mustGuard(t, tt.spec))
			g.Resolver = res
			if len(tt.answers) > 1 {
				// The first lookup, when the webhook is saved, sees a
				// public address.
				if err := g.Check("hook.test"); err != nil {
					t.Fatalf("Check before rebinding: %v", err)
				}
			}
			before := accepted.Load()
			calls := res.count("hook.test")
			conn, err := g.DialContext(context.Background(), "tcp", net.JoinHostPort("hook.test", port))
			if got := res.count("hook.test") - calls; got != 1 {
				t.Errorf("DialContext resolved the name %d times; want once", got)
			}
			if !tt.wantDial {
				if err == nil {
					conn.Close()
					t.Fatal("DialContext connected; want refused")
				}
				if !errors.Is(err, ErrRefused) {
					t.Fatalf("DialContext error = %v; want ErrRefused", err)
				}
				time.Sleep(20 * time.Millisecond)
				if n := accepted.Load() - before; n != 0 {
					t.Fatalf("refused target still got %d connections", n)
				}
				return
			}
			if err != nil {
				t.Fatalf("DialContext: %v", err)
			}
			defer conn.Close()
			if got := conn.RemoteAddr().String(); got != net.JoinHostPort("127.0.0.1", port) {
				t.Errorf("connected to %s", got)
			}
			// Wait for the listener to count this connection, so that it is
			// not counted against the next case.
			for deadline := time.Now().Add(time.Second); accepted.Load() == before && time.Now().Before(deadline); {
				time.Sleep(time.Millisecond)
			}
		})
	}
}

func TestDialContextIPLiteral(t *testing.T) {
	port, _ := listen(t)
	g := loopbackOnly(t, mustGuard(t, ""))
	g.Resolver = newFakeResolver(nil) // an IP literal is never looked up
	_, err := g.DialContext(context.Background(), "tcp", net.JoinHostPort("127.0.0.1", port))
	if !errors.Is(err, ErrRefused) {
		t.Fatalf("dial 127.0.0.1 with the default list: %v; want refused", err)
	}
	g = loopbackOnly(t, mustGuard(t, "loopback"))
	conn, err := g.DialContext(context.Background(), "tcp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		t.Fatalf("dial 127.0.0.1 with loopback allowed: %v", err)
	}
	conn.Close()
}
