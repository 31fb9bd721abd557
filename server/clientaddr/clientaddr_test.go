package clientaddr

import (
	"go/parser"
	"go/token"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestIP(t *testing.T) {
	for _, c := range []struct {
		name    string
		trusted string
		remote  string
		xff     []string
		want    string
	}{
		{name: "no trusted proxies: X-Forwarded-For is ignored", remote: "198.51.100.7:5555", xff: []string{"203.0.113.1"}, want: "198.51.100.7"},
		{name: "no trusted proxies: loopback peer is no exception", remote: "127.0.0.1:5555", xff: []string{"203.0.113.1"}, want: "127.0.0.1"},
		{name: "untrusted peer: its X-Forwarded-For is ignored", trusted: "10.0.0.0/8", remote: "198.51.100.7:5555", xff: []string{"10.0.0.2, 203.0.113.1"}, want: "198.51.100.7"},
		{name: "trusted peer: the address it appended", trusted: "10.0.0.0/8", remote: "10.0.0.1:5555", xff: []string{"203.0.113.1"}, want: "203.0.113.1"},
		{name: "trusted peer without the header: the peer", trusted: "10.0.0.0/8", remote: "10.0.0.1:5555", want: "10.0.0.1"},
		{name: "spoofed entries left of the client are not read", trusted: "10.0.0.0/8", remote: "10.0.0.1:5555", xff: []string{"1.1.1.1, 10.9.9.9, 203.0.113.1"}, want: "203.0.113.1"},
		{name: "trusted hops are skipped", trusted: "10.0.0.0/8, 192.0.2.10", remote: "10.0.0.1:5555", xff: []string{"203.0.113.1, 192.0.2.10 , 10.0.0.3"}, want: "203.0.113.1"},
		{name: "several header lines read as one list", trusted: "10.0.0.0/8", remote: "10.0.0.1:5555", xff: []string{"1.1.1.1, 203.0.113.1", "10.0.0.3"}, want: "203.0.113.1"},
		{name: "every hop trusted: the leftmost", trusted: "10.0.0.0/8", remote: "10.0.0.1:5555", xff: []string{"10.0.0.4, 10.0.0.3"}, want: "10.0.0.4"},
		{name: "bare trusted address", trusted: "192.0.2.10", remote: "192.0.2.10:1", xff: []string{"203.0.113.1"}, want: "203.0.113.1"},
		{name: "bare address trusts only itself", trusted: "192.0.2.10", remote: "192.0.2.11:1", xff: []string{"203.0.113.1"}, want: "192.0.2.11"},
		{name: "IPv6 peer and client", trusted: "fd00::/8", remote: "[fd00::1]:443", xff: []string{"2001:db8::7"}, want: "2001:db8::7"},
		{name: "IPv6 untrusted peer", trusted: "fd00::/8", remote: "[2001:db8::1]:443", xff: []string{"2001:db8::7"}, want: "2001:db8::1"},
		{name: "IPv6 zone is dropped", remote: "[fe80::1%eth0]:443", want: "fe80::1"},
		{name: "IPv4-mapped peer matches an IPv4 range", trusted: "10.0.0.0/8", remote: "[::ffff:10.0.0.1]:443", xff: []string{"203.0.113.1"}, want: "203.0.113.1"},
		{name: "IPv4-mapped client is written as IPv4", trusted: "10.0.0.0/8", remote: "10.0.0.1:1", xff: []string{"::ffff:203.0.113.1"}, want: "203.0.113.1"},
		{name: "mapped CIDR matches IPv4", trusted: "::ffff:10.0.0.0/104", remote: "10.0.0.1:1", xff: []string{"203.0.113.1"}, want: "203.0.113.1"},
		{name: "entries with ports and brackets", trusted: "10.0.0.0/8", remote: "10.0.0.1:1", xff: []string{"[2001:db8::9]:41000, 10.0.0.2:80"}, want: "2001:db8::9"},
		{name: "bracketed IPv6 entry", trusted: "10.0.0.0/8", remote: "10.0.0.1:1", xff: []string{"[2001:db8::9]"}, want: "2001:db8::9"},
		{name: "malformed entry stops at the hop that wrote it", trusted: "10.0.0.0/8", remote: "10.0.0.1:1", xff: []string{"203.0.113.1, unknown"}, want: "10.0.0.1"},
		{name: "malformed after a trusted hop stops there", trusted: "10.0.0.0/8", remote: "10.0.0.1:1", xff: []string{"203.0.113.1, not-an-ip, 10.0.0.2"}, want: "10.0.0.2"},
		{name: "malformed entry left of the client is never read", trusted: "10.0.0.0/8", remote: "10.0.0.1:1", xff: []string{"<script>, 203.0.113.1"}, want: "203.0.113.1"},
		{name: "empty list elements are skipped", trusted: "10.0.0.0/8", remote: "10.0.0.1:1", xff: []string{"203.0.113.1,, ,", ""}, want: "203.0.113.1"},
		{name: "a zone in an entry is dropped", trusted: "10.0.0.0/8", remote: "10.0.0.1:1", xff: []string{"fe80::2%25eth0, fe80::3%eth0"}, want: "fe80::3"},
		{name: "RemoteAddr that is no address is kept and not trusted", trusted: "0.0.0.0/0", remote: "pipe", xff: []string{"203.0.113.1"}, want: "pipe"},
		{name: "RemoteAddr without a port", trusted: "10.0.0.0/8", remote: "10.0.0.1", xff: []string{"203.0.113.1"}, want: "203.0.113.1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := Parse(c.trusted)
			if err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest("GET", "/", nil)
			req.RemoteAddr = c.remote
			for _, v := range c.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
			req.Header.Set("X-Real-IP", "192.0.2.99") // never read
			if got := r.IP(req); got != c.want {
				t.Fatalf("IP = %q, want %q", got, c.want)
			}
		})
	}
}

func TestNilResolverTrustsNobody(t *testing.T) {
	var r *Resolver
	req, _ := http.NewRequest("GET", "/", nil)
	req.RemoteAddr = "10.0.0.1:1"
	req.Header.Set("X-Forwarded-For", "203.0.113.1")
	if got := r.IP(req); got != "10.0.0.1" {
		t.Fatalf("IP = %q", got)
	}
}

func TestParse(t *testing.T) {
	for _, bad := range []string{"10.0.0.0/33", "example.com", "10.0.0.1/x", "fe80::1%eth0", "1.2.3"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
	r, err := Parse(" 10.1.2.3/8 ,, 2001:db8::1 ")
	if err != nil {
		t.Fatal(err)
	}
	for a, want := range map[string]bool{"10.200.0.1": true, "11.0.0.1": false, "2001:db8::1": true, "2001:db8::2": false, "::ffff:10.0.0.1": true} {
		if got := r.Trusted(netip.MustParseAddr(a)); got != want {
			t.Errorf("Trusted(%s) = %v, want %v", a, got, want)
		}
	}
}

// FuzzResolve checks the header walk against the obvious version (split
// the list, walk it from the right) for any X-Forwarded-For, and that an
// untrusted peer's header is never read.
func FuzzResolve(f *testing.F) {
	for _, s := range []string{"203.0.113.1", "1.1.1.1, 10.0.0.2", ",,,", "[::1]:80, unknown", "fe80::1%eth0", "10.0.0.2,\t203.0.113.1 ", "::ffff:10.0.0.9", "fd00::1, 10.0.0.3"} {
		f.Add(s, "10.0.0.7", true)
	}
	r, _ := Parse("10.0.0.0/8, fd00::/8")
	f.Fuzz(func(t *testing.T, xff, second string, trustedPeer bool) {
		peer := netip.MustParseAddr("198.51.100.7")
		if trustedPeer {
			peer = netip.MustParseAddr("10.0.0.1")
		}
		got := r.resolve(peer, []string{xff, second})
		if !got.IsValid() || got.Zone() != "" || got.Is4In6() {
			t.Fatalf("resolve(%q, %q) = %v", xff, second, got)
		}
		if !trustedPeer && got != peer {
			t.Fatalf("untrusted peer's header was read: %v", got)
		}
		if want := reference(r, peer, xff+","+second); got != want {
			t.Fatalf("resolve(%q, %q) = %v, want %v", xff, second, got, want)
		}
	})
}

func reference(r *Resolver, peer netip.Addr, xff string) netip.Addr {
	parts := strings.Split(xff, ",")
	cur := peer
	for i := len(parts) - 1; i >= 0 && r.Trusted(cur); i-- {
		e := strings.Trim(parts[i], " \t")
		if e == "" {
			continue
		}
		a, ok := parseEntry(e)
		if !ok {
			break
		}
		cur = a
	}
	return cur
}

// TestStdlibOnly keeps this package a leaf: everything may import it, so it
// imports nothing but the standard library.
func TestStdlibOnly(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if first, _, _ := strings.Cut(p, "/"); strings.Contains(first, ".") {
				t.Errorf("%s imports %s; clientaddr uses the standard library only", name, p)
			}
		}
	}
}
