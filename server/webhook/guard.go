package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"path"
	"strings"
	"syscall"
	"time"
)

// ErrRefused is wrapped by every error that refuses a webhook target because
// of --webhook-allowed-hosts; test for it with errors.Is.
var ErrRefused = errors.New("webhook target refused by --webhook-allowed-hosts")

// Resolver looks up the addresses of a host name. *net.Resolver is one;
// tests replace it to simulate DNS rebinding.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Guard decides which addresses a webhook may connect to. It is built from
// the --webhook-allowed-hosts value by ParseAllowList and is safe for
// concurrent use once built.
//
// Every decision is taken on the address that is actually dialed, after DNS
// resolution: DialContext resolves the name once, refuses the whole target
// when ANY of its addresses is refused (so a name that resolves to a public
// address and to 127.0.0.1 is refused, whatever order the resolver answers
// in), and then dials the checked IP addresses, never the name, so that a
// second resolution cannot answer differently.
type Guard struct {
	// Resolver resolves host names; nil means net.DefaultResolver.
	Resolver Resolver
	// Dialer connects to the checked addresses; nil means a net.Dialer
	// with a 10 second connect timeout.
	Dialer *net.Dialer

	all     bool // "*"
	classes map[class]bool
	nets    []netip.Prefix
	globs   []string
	spec    string
}

// class is what kind of address a target is.
type class int

const (
	classExternal    class = iota // public unicast
	classPrivate                  // RFC 1918, CGNAT 100.64/10, fc00::/7, fec0::/10
	classLoopback                 // 127/8, ::1
	classLinkLocal                // 169.254/16, fe80::/10 (cloud metadata)
	classUnspecified              // 0.0.0.0/8, ::
	classMulticast                // 224/4, ff00::/8
	classBroadcast                // 255.255.255.255
	classReserved                 // documentation, benchmarking, 240/4, odd IPv6 ranges
)

// describe is the class in a sentence: "is <describe>".
func (c class) describe() string {
	switch c {
	case classExternal:
		return "a public address"
	case classPrivate:
		return "a private address"
	case classLoopback:
		return "a loopback address"
	case classLinkLocal:
		return "a link-local address"
	case classUnspecified:
		return "an unspecified address"
	case classMulticast:
		return "a multicast address"
	case classBroadcast:
		return "a broadcast address"
	default:
		return "a reserved address"
	}
}

// keywords are the classes an allow list may name. Link-local, unspecified,
// multicast, broadcast and reserved addresses have no keyword: only "*" or
// an explicit CIDR allows them.
var keywords = map[string]class{
	"external": classExternal,
	"private":  classPrivate,
	"loopback": classLoopback,
}

// DefaultAllowList is the allow list of an empty --webhook-allowed-hosts.
const DefaultAllowList = "external"

// ParseAllowList parses a --webhook-allowed-hosts value: a comma-separated
// list of "external" (public unicast addresses), "private" (10/8, 172.16/12,
// 192.168/16, CGNAT 100.64/10, fc00::/7), "loopback" (127/8, ::1), "*"
// (everything), CIDRs or IP addresses ("10.1.0.0/16"), and host globs
// ("*.example.com", "hooks.internal") matched against the URL's host name.
// An empty spec means "external".
//
// A host glob trusts the name: whatever a matching name resolves to is
// allowed (it is still dialed by its resolved address). Link-local
// addresses (169.254/16 with the cloud metadata endpoint, fe80::/10),
// 0.0.0.0/8, ::, multicast, broadcast and reserved ranges have no keyword:
// only "*", a CIDR that contains them or a host glob allows them.
// IPv4-mapped (::ffff:a.b.c.d), NAT64 (64:ff9b::/96) and 6to4 addresses
// are judged by the IPv4 address they embed.
func ParseAllowList(spec string) (*Guard, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		spec = DefaultAllowList
	}
	g := &Guard{classes: map[class]bool{}, spec: spec}
	for _, raw := range strings.Split(spec, ",") {
		entry := strings.ToLower(strings.TrimSpace(raw))
		if entry == "" {
			return nil, fmt.Errorf("--webhook-allowed-hosts %q: empty entry", spec)
		}
		if entry == "*" {
			g.all = true
			continue
		}
		if c, ok := keywords[entry]; ok {
			g.classes[c] = true
			continue
		}
		if strings.Contains(entry, "/") {
			p, err := netip.ParsePrefix(entry)
			if err != nil {
				return nil, fmt.Errorf("--webhook-allowed-hosts: %q is not a valid CIDR: %w", raw, err)
			}
			g.nets = append(g.nets, p.Masked())
			continue
		}
		if a, err := netip.ParseAddr(entry); err == nil {
			g.nets = append(g.nets, netip.PrefixFrom(a.WithZone(""), a.BitLen()))
			continue
		}
		if err := validGlob(entry); err != nil {
			return nil, fmt.Errorf("--webhook-allowed-hosts: %q: %w", raw, err)
		}
		g.globs = append(g.globs, strings.TrimSuffix(entry, "."))
	}
	return g, nil
}

// validGlob accepts host names in which "*" and "?" may stand for letters.
func validGlob(s string) error {
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '.', r == '_', r == '*', r == '?':
		default:
			return fmt.Errorf("not external, private, loopback, *, a CIDR or a host glob (bad character %q)", r)
		}
	}
	if strings.Trim(s, "*?.") == "" {
		return errors.New("a host glob needs at least one letter; use * to allow everything")
	}
	if _, err := path.Match(s, ""); err != nil {
		return fmt.Errorf("bad host glob: %w", err)
	}
	return nil
}

// String returns the allow list the guard was parsed from.
func (g *Guard) String() string { return g.spec }

// RefusedError says why a target was refused. It wraps ErrRefused.
type RefusedError struct {
	Host  string     // the host name of the URL, or the address itself
	Addr  netip.Addr // the resolved address that was refused
	Judge netip.Addr // the address judged: Addr, or the IPv4 it embeds
	Class string     // e.g. "a loopback address"
}

func (e *RefusedError) Error() string {
	target := e.Addr.String()
	if e.Host != "" && e.Host != target {
		target = e.Host + " (" + target + ")"
	}
	what := e.Class
	if e.Judge != e.Addr {
		what += " (embeds " + e.Judge.String() + ")"
	}
	return "webhook target " + target + " is " + what + ", refused by --webhook-allowed-hosts"
}

// Unwrap makes errors.Is(err, ErrRefused) true.
func (e *RefusedError) Unwrap() error { return ErrRefused }

// CheckAddr decides whether a webhook for host may connect to ip, the
// address host resolved to (host may be empty, or ip itself). It returns
// nil or a *RefusedError.
func (g *Guard) CheckAddr(host string, ip netip.Addr) error {
	ip = ip.WithZone("")
	judge := embeddedIPv4(ip)
	if g.all || g.matchHost(host) {
		return nil
	}
	for _, p := range g.nets {
		if p.Contains(ip) || p.Contains(judge) {
			return nil
		}
	}
	c := classify(judge)
	if g.classes[c] {
		return nil
	}
	return &RefusedError{Host: normalizeHost(host), Addr: ip, Judge: judge, Class: c.describe()}
}

// matchHost reports whether the host name matches one of the globs.
func (g *Guard) matchHost(host string) bool {
	host = normalizeHost(host)
	if host == "" {
		return false
	}
	for _, glob := range g.globs {
		if ok, _ := path.Match(glob, host); ok {
			return true
		}
	}
	return false
}

func normalizeHost(host string) string {
	return strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
}

// nat64 is the well-known NAT64 prefix (RFC 6052): its addresses reach the
// IPv4 address in their last 32 bits.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// sixToFour is 6to4 (RFC 3056): 2002:AABB:CCDD::/48 reaches AA.BB.CC.DD.
var sixToFour = netip.MustParsePrefix("2002::/16")

// embeddedIPv4 returns the IPv4 address that an IPv4-mapped, NAT64 or 6to4
// address reaches, and any other address unchanged.
func embeddedIPv4(ip netip.Addr) netip.Addr {
	switch {
	case ip.Is4In6():
		return ip.Unmap()
	case nat64.Contains(ip):
		b := ip.As16()
		return netip.AddrFrom4([4]byte(b[12:16]))
	case sixToFour.Contains(ip):
		b := ip.As16()
		return netip.AddrFrom4([4]byte(b[2:6]))
	}
	return ip
}

func prefixes(ss ...string) []netip.Prefix {
	ps := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		ps[i] = netip.MustParsePrefix(s)
	}
	return ps
}

var (
	privateNets = prefixes("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
		"100.64.0.0/10", // CGNAT (RFC 6598), treated as private
		"fc00::/7", "fec0::/10")
	reservedNets = prefixes(
		"192.0.0.0/24",    // IETF protocol assignments
		"192.0.2.0/24",    // TEST-NET-1
		"192.88.99.0/24",  // 6to4 relay anycast
		"198.18.0.0/15",   // benchmarking
		"198.51.100.0/24", // TEST-NET-2
		"203.0.113.0/24",  // TEST-NET-3
		"240.0.0.0/4",     // class E
		"::/8",            // IPv4-compatible and other odd forms
		"64:ff9b:1::/48",  // local-use NAT64 (RFC 8215)
		"100::/64",        // discard
		"2001::/23",       // IETF protocol assignments, Teredo
		"2001:db8::/32",   // documentation
		"3fff::/20",       // documentation
		"5f00::/16",       // SRv6 SIDs
	)
	// globalUnicast6 is where public IPv6 unicast addresses are allocated.
	globalUnicast6 = netip.MustParsePrefix("2000::/3")
)

// classify says what kind of address ip is; ip has been unmapped already.
func classify(ip netip.Addr) class {
	switch {
	case !ip.IsValid():
		return classReserved
	case ip.IsLoopback():
		return classLoopback
	case ip.Is4() && ip.As4()[0] == 0, ip.IsUnspecified():
		return classUnspecified
	case ip.IsLinkLocalUnicast():
		return classLinkLocal
	case ip.IsMulticast():
		return classMulticast
	case ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return classBroadcast
	}
	for _, p := range privateNets {
		if p.Contains(ip) {
			return classPrivate
		}
	}
	for _, p := range reservedNets {
		if p.Contains(ip) {
			return classReserved
		}
	}
	if ip.Is6() && !globalUnicast6.Contains(ip) {
		return classReserved
	}
	return classExternal
}

// resolve returns the addresses of host, an IP literal or a name.
func (g *Guard) resolve(ctx context.Context, network, host string) ([]netip.Addr, error) {
	if ip, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return []netip.Addr{ip}, nil
	}
	r := g.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	family := "ip"
	switch network {
	case "tcp4", "udp4":
		family = "ip4"
	case "tcp6", "udp6":
		family = "ip6"
	}
	ips, err := r.LookupNetIP(ctx, family, host)
	if err != nil {
		return nil, fmt.Errorf("webhook target %s: %w", host, err)
	}
	if len(ips) == 0 {
		return nil, fmt.Errorf("webhook target %s: no addresses", host)
	}
	return ips, nil
}

// checkAll refuses the target if any of its addresses is refused.
func (g *Guard) checkAll(host string, ips []netip.Addr) error {
	for _, ip := range ips {
		if err := g.CheckAddr(host, ip); err != nil {
			return err
		}
	}
	return nil
}

// Check resolves host (a name or an IP address, with or without a port)
// and reports whether a webhook may be delivered to it, by the same rules
// as DialContext. It is meant for when a webhook is saved; deliveries are
// checked again when they connect.
func (g *Guard) Check(host string) error {
	return g.CheckContext(context.Background(), host)
}

// CheckContext is Check with a context for the DNS lookup.
func (g *Guard) CheckContext(ctx context.Context, host string) error {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if host == "" {
		return errors.New("webhook target has no host")
	}
	ips, err := g.resolve(ctx, "tcp", host)
	if err != nil {
		return err
	}
	return g.checkAll(host, ips)
}

// CheckURL checks a webhook URL when it is saved: it must be http or https
// and its host must pass Check.
func (g *Guard) CheckURL(ctx context.Context, rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("webhook URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("webhook URL %q: the scheme must be http or https", rawURL)
	}
	return g.CheckContext(ctx, u.Hostname())
}

// DialContext is the dialer of the webhook client (an http.Transport's
// DialContext). It resolves addr's host once, refuses the target when any
// resolved address is refused, and then dials the checked IP addresses in
// turn. The socket is checked once more just before it connects.
func (g *Guard) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("webhook dial %s: %w", addr, err)
	}
	ips, err := g.resolve(ctx, network, host)
	if err != nil {
		return nil, err
	}
	if err := g.checkAll(host, ips); err != nil {
		return nil, err
	}
	d := net.Dialer{Timeout: 10 * time.Second}
	if g.Dialer != nil {
		d = *g.Dialer
	}
	// Belt and braces: check the address the socket really connects to,
	// before any Control the caller's Dialer has.
	check := func(address string) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("webhook dial %s: %w", address, err)
		}
		return g.CheckAddr(host, ap.Addr())
	}
	if next := d.ControlContext; next != nil {
		d.ControlContext = func(ctx context.Context, network, address string, c syscall.RawConn) error {
			if err := check(address); err != nil {
				return err
			}
			return next(ctx, network, address, c)
		}
	} else {
		next := d.Control
		d.Control = func(network, address string, c syscall.RawConn) error {
			if err := check(address); err != nil {
				return err
			}
			if next != nil {
				return next(network, address, c)
			}
			return nil
		}
	}
	var errs []error
	for _, ip := range ips {
		conn, err := d.DialContext(ctx, network, net.JoinHostPort(ip.String(), port))
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}
