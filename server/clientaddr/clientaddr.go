package clientaddr

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Resolver finds a request's client address. With no trusted proxies it is
// the TCP peer and every header is ignored. When the peer is a trusted
// proxy, X-Forwarded-For is read from the right (the entry the nearest
// proxy appended) leftwards, past every trusted hop, and the first
// untrusted address is the client: entries further left were written by
// the client itself, or by proxies nobody vouches for, and are never read.
//
// X-Real-IP and Forwarded are ignored: one header, one rule.
//
// The zero value and a nil *Resolver trust no proxy.
type Resolver struct {
	trusted []netip.Prefix
}

// Parse makes a Resolver trusting the proxies in list: a comma list of
// CIDRs (10.0.0.0/8, fd00::/8) or bare addresses. An empty list trusts none.
func Parse(list string) (*Resolver, error) {
	r := &Resolver{}
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		var p netip.Prefix
		if strings.Contains(f, "/") {
			var err error
			if p, err = netip.ParsePrefix(f); err != nil {
				return nil, fmt.Errorf("trusted proxy %q is not a CIDR or an IP address", f)
			}
		} else {
			a, err := netip.ParseAddr(f)
			if err != nil || a.Zone() != "" {
				return nil, fmt.Errorf("trusted proxy %q is not a CIDR or an IP address", f)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		r.trusted = append(r.trusted, unmapPrefix(p).Masked())
	}
	return r, nil
}

// unmapPrefix writes ::ffff:10.0.0.0/104 as 10.0.0.0/8, since addresses
// are unmapped before they are matched.
func unmapPrefix(p netip.Prefix) netip.Prefix {
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p
}

// Trusted reports whether a is a configured proxy.
func (r *Resolver) Trusted(a netip.Addr) bool {
	if r == nil || !a.IsValid() {
		return false
	}
	a = a.Unmap().WithZone("")
	for _, p := range r.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// IP is the client address of req, as text (IPv4 dotted, IPv6 without a
// zone). A RemoteAddr that is no IP address (a test recorder, a Unix
// socket) is returned as it is, and never trusted.
func (r *Resolver) IP(req *http.Request) string {
	peer, ok := parsePeer(req.RemoteAddr)
	if !ok {
		if host, _, err := net.SplitHostPort(req.RemoteAddr); err == nil {
			return host
		}
		return req.RemoteAddr
	}
	return r.resolve(peer, req.Header.Values("X-Forwarded-For")).String()
}

// resolve walks the X-Forwarded-For values (in header order) back from
// peer. It stops at the first untrusted address; at a malformed entry it
// stops at the trusted hop that wrote it, since nothing to its left can be
// believed; if every hop is trusted, the leftmost is the client.
func (r *Resolver) resolve(peer netip.Addr, xff []string) netip.Addr {
	cur := clean(peer)
	if len(r.trustedList()) == 0 {
		return cur
	}
	for i := len(xff) - 1; i >= 0; i-- {
		v := xff[i]
		for {
			if !r.Trusted(cur) {
				return cur
			}
			entry := v
			j := strings.LastIndexByte(v, ',')
			if j >= 0 {
				entry, v = v[j+1:], v[:j]
			}
			entry = strings.Trim(entry, " \t")
			if entry != "" { // empty list elements are allowed and mean nothing
				a, ok := parseEntry(entry)
				if !ok {
					return cur
				}
				cur = a
			}
			if j < 0 {
				break
			}
		}
	}
	return cur
}

func (r *Resolver) trustedList() []netip.Prefix {
	if r == nil {
		return nil
	}
	return r.trusted
}

func clean(a netip.Addr) netip.Addr { return a.Unmap().WithZone("") }

// parsePeer reads RemoteAddr, "ip:port" as net/http sets it.
func parsePeer(s string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return clean(ap.Addr()), true
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return clean(a), true
	}
	return netip.Addr{}, false
}

// parseEntry reads one X-Forwarded-For element: an address, optionally
// with a port ("1.2.3.4:5", "[::1]:5") or brackets ("[::1]"), as some
// proxies write them. Anything else ("unknown", obfuscated names) is
// malformed.
func parseEntry(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return clean(a), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return clean(ap.Addr()), true
	}
	if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil && a.Is6() {
			return clean(a), true
		}
	}
	return netip.Addr{}, false
}
