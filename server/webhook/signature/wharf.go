package signature

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Header carries Wharf's signature of a delivery:
//
//	X-Wharf-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...]
//
// Each v1 is the lowercase hex HMAC-SHA256, under the webhook's secret, of
// Message: the decimal t exactly as in the header, ".", the delivery id
// (X-Wharf-Delivery), ".", the event (X-Wharf-Event), ".", and the raw body.
// The id and the event are 1 to 128 bytes of A-Z, a-z, 0-9, "-" and "_", so
// the dots cannot be moved. Signing the time and the id lets a receiver
// refuse stale and repeated deliveries; signing the event means that no
// unsigned header decides what a receiver does.
const Header = "X-Wharf-Signature"

// DefaultTolerance is how far a signed time may be from the receiver's
// clock, either way, when a receiver does not choose.
const DefaultTolerance = 5 * time.Minute

// MaxSignatures is the most v1 values a Header may carry (a sender rotating
// its secret signs with the old and the new one).
const MaxSignatures = 8

const (
	maxField   = 128
	maxTDigits = 19 // every non-negative int64
)

// Errors of Parse, Sign and Verify; test with errors.Is.
var (
	ErrMalformed  = errors.New("malformed " + Header + ": want t=<unix seconds>,v1=<64 lowercase hex digits>")
	ErrUnsignable = errors.New("delivery id and event must be 1 to 128 of A-Z a-z 0-9 - _")
	ErrMismatch   = errors.New(Header + " does not match the delivery")
	ErrStale      = errors.New(Header + " time is too far from now")
)

// Signature is a parsed Header value.
type Signature struct {
	Timestamp int64    // unix seconds, as signed
	V1        [][]byte // HMAC-SHA256 sums; any one of them may match
}

// String writes s in the canonical form that Parse accepts.
func (s Signature) String() string {
	var b strings.Builder
	b.WriteString("t=")
	b.WriteString(strconv.FormatInt(s.Timestamp, 10))
	for _, v := range s.V1 {
		b.WriteString(",v1=")
		b.WriteString(hex.EncodeToString(v))
	}
	return b.String()
}

// Parse reads a Header value strictly: "t=" and a canonical non-negative
// decimal number of seconds, then one to MaxSignatures ",v1=" each with 64
// lowercase hex digits; no spaces, no other keys, nothing else.
func Parse(header string) (Signature, error) {
	var s Signature
	if len(header) > len("t=")+maxTDigits+MaxSignatures*len(",v1=")+MaxSignatures*2*sha256.Size {
		return s, ErrMalformed
	}
	parts := strings.Split(header, ",")
	tv, ok := strings.CutPrefix(parts[0], "t=")
	if !ok || !canonicalDecimal(tv) {
		return s, ErrMalformed
	}
	t, err := strconv.ParseInt(tv, 10, 64)
	if err != nil {
		return s, ErrMalformed
	}
	s.Timestamp = t
	if len(parts) < 2 || len(parts) > 1+MaxSignatures {
		return Signature{}, ErrMalformed
	}
	for _, p := range parts[1:] {
		v, ok := strings.CutPrefix(p, "v1=")
		if !ok || len(v) != 2*sha256.Size || !lowerHex(v) {
			return Signature{}, ErrMalformed
		}
		sum, _ := hex.DecodeString(v)
		s.V1 = append(s.V1, sum)
	}
	return s, nil
}

// Message is the byte string that v1 signs: "<t>.<id>.<event>.<body>".
func Message(t int64, id, event string, body []byte) []byte {
	ts := strconv.FormatInt(t, 10)
	m := make([]byte, 0, len(ts)+len(id)+len(event)+len(body)+3)
	m = append(m, ts...)
	m = append(m, '.')
	m = append(m, id...)
	m = append(m, '.')
	m = append(m, event...)
	m = append(m, '.')
	return append(m, body...)
}

// Sign returns the Header value of a delivery sent at t: "t=<unix
// seconds>,v1=<hex>". It fails with ErrUnsignable if id or event is not 1
// to 128 of A-Z, a-z, 0-9, "-" and "_", or t is before 1970.
func Sign(secret string, t time.Time, id, event string, body []byte) (string, error) {
	ts := t.Unix()
	if ts < 0 {
		return "", fmt.Errorf("%w (and the time must not be before 1970)", ErrUnsignable)
	}
	if !field(id) || !field(event) {
		return "", fmt.Errorf("%w: id %q, event %q", ErrUnsignable, id, event)
	}
	return Signature{Timestamp: ts, V1: [][]byte{mac(secret, Message(ts, id, event, body))}}.String(), nil
}

// Verify checks header, a Header value, against the delivery id, event and
// raw body that came with it: one of its v1 values must be the signature
// under secret (compared in constant time), and its time must be within
// tolerance of now, either way (DefaultTolerance if tolerance <= 0). It
// returns the signed time. Errors wrap ErrMalformed, ErrUnsignable,
// ErrMismatch or ErrStale.
func Verify(secret, header, id, event string, body []byte, now time.Time, tolerance time.Duration) (time.Time, error) {
	s, err := Parse(header)
	if err != nil {
		return time.Time{}, err
	}
	if !field(id) || !field(event) {
		return time.Time{}, ErrUnsignable
	}
	want := mac(secret, Message(s.Timestamp, id, event, body))
	match := false
	for _, v := range s.V1 {
		if hmac.Equal(v, want) {
			match = true
		}
	}
	if !match {
		return time.Time{}, ErrMismatch
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	if !within(s.Timestamp, now, tolerance) {
		return time.Time{}, fmt.Errorf("%w: signed at %d, now %d, tolerance %s", ErrStale, s.Timestamp, now.Unix(), tolerance)
	}
	return time.Unix(s.Timestamp, 0), nil
}

// within reports whether t is at most tolerance (in whole seconds) from
// now, either way, without overflow.
func within(t int64, now time.Time, tolerance time.Duration) bool {
	n := now.Unix()
	if n < 0 || t < 0 {
		return false
	}
	limit := int64(tolerance / time.Second)
	if t >= n {
		return t-n <= limit
	}
	return n-t <= limit
}

// field reports whether s may be signed as a delivery id or event.
func field(s string) bool {
	if len(s) == 0 || len(s) > maxField {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// canonicalDecimal reports whether s is digits with no leading zero
// (except "0" itself), at most maxTDigits long.
func canonicalDecimal(s string) bool {
	if len(s) == 0 || len(s) > maxTDigits || (len(s) > 1 && s[0] == '0') {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func lowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
