package webhook

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// pipeResolver is a real *net.Resolver (the Go resolver) whose DNS server
// lives in memory: answer says what each A or AAAA question gets.
func pipeResolver(answer func(q dnsmessage.Question) []netip.Addr) *net.Resolver {
	return &net.Resolver{
		PreferGo: true,
		Dial: func(context.Context, string, string) (net.Conn, error) {
			client, server := net.Pipe()
			go serveDNS(server, answer)
			return client, nil
		},
	}
}

// serveDNS answers DNS over a stream (two length bytes, then the message).
func serveDNS(c net.Conn, answer func(q dnsmessage.Question) []netip.Addr) {
	defer c.Close()
	for {
		var size [2]byte
		if _, err := io.ReadFull(c, size[:]); err != nil {
			return
		}
		buf := make([]byte, binary.BigEndian.Uint16(size[:]))
		if _, err := io.ReadFull(c, buf); err != nil {
			return
		}
		var p dnsmessage.Parser
		h, err := p.Start(buf)
		if err != nil {
			return
		}
		q, err := p.Question()
		if err != nil {
			return
		}
		b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true})
		_ = b.StartQuestions()
		_ = b.Question(q)
		_ = b.StartAnswers()
		rh := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET}
		for _, ip := range answer(q) {
			switch {
			case q.Type == dnsmessage.TypeA && ip.Is4():
				_ = b.AResource(rh, dnsmessage.AResource{A: ip.As4()})
			case q.Type == dnsmessage.TypeAAAA && ip.Is6():
				_ = b.AAAAResource(rh, dnsmessage.AAAAResource{AAAA: ip.As16()})
			}
		}
		msg, err := b.Finish()
		if err != nil {
			return
		}
		out := binary.BigEndian.AppendUint16(nil, uint16(len(msg)))
		if _, err := c.Write(append(out, msg...)); err != nil {
			return
		}
	}
}

// TestDNSRebindingWithGoResolver rebinds a name with the standard resolver:
// the first A answer is public (the webhook is saved), every later one is
// 127.0.0.1, and the delivery's dial is refused without connecting.
func TestDNSRebindingWithGoResolver(t *testing.T) {
	port, accepted := listen(t)
	var lookups atomic.Int32
	g := loopbackOnly(t, mustGuard(t, ""))
	g.Resolver = pipeResolver(func(q dnsmessage.Question) []netip.Addr {
		if q.Type != dnsmessage.TypeA {
			return nil
		}
		if lookups.Add(1) == 1 {
			return []netip.Addr{netip.MustParseAddr("8.8.8.8")}
		}
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}
	})
	if err := g.Check("rebind.test"); err != nil {
		t.Fatalf("Check while the name is public: %v", err)
	}
	_, err := g.DialContext(context.Background(), "tcp", net.JoinHostPort("rebind.test", port))
	if !errors.Is(err, ErrRefused) {
		t.Fatalf("dial after rebinding: %v; want ErrRefused", err)
	}
	if lookups.Load() != 2 {
		t.Errorf("%d A lookups; want 2", lookups.Load())
	}
	if n := accepted.Load(); n != 0 {
		t.Errorf("the listener accepted %d connections", n)
	}

	// A name with both a public and a loopback address is refused too.
	g.Resolver = pipeResolver(func(q dnsmessage.Question) []netip.Addr {
		return []netip.Addr{netip.MustParseAddr("8.8.8.8"), netip.MustParseAddr("127.0.0.1"), netip.IPv6Loopback()}
	})
	if err := g.Check("both.test"); !errors.Is(err, ErrRefused) {
		t.Errorf("Check of a name with public and loopback addresses: %v; want ErrRefused", err)
	}
}
