package signature

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const (
	vecSecret = "s3cret"
	vecID     = "3f1a9c52-7e0b-4a55-9d1e-2b7c8f64a0d3"
	vecBody   = `{"push_data":{"tag":"v1"}}`
	// printf '%s' '1700000000.3f1a9c52-7e0b-4a55-9d1e-2b7c8f64a0d3.push.{"push_data":{"tag":"v1"}}' |
	//   openssl dgst -sha256 -hmac s3cret
	vecHeader = "t=1700000000,v1=6171d97c84b7d846afa9c8c513a5ccdfc845f57d051efa2d83fd964dd563c489"
)

var vecTime = time.Unix(1700000000, 0)

// The README documents this vector for other receivers; openssl made it.
func TestSignKnownVector(t *testing.T) {
	got, err := Sign(vecSecret, vecTime, vecID, "push", []byte(vecBody))
	if err != nil || got != vecHeader {
		t.Fatalf("Sign = %q, %v; want %q", got, err, vecHeader)
	}
	if m := string(Message(1700000000, vecID, "push", []byte(vecBody))); m != "1700000000."+vecID+".push."+vecBody {
		t.Fatalf("Message = %q", m)
	}
}

func TestVerifyRefusesTampering(t *testing.T) {
	body := []byte(vecBody)
	now := vecTime.Add(time.Minute)
	tests := []struct {
		name, secret, header, id, event string
		body                            []byte
		want                            error
	}{
		{"the signed delivery verifies", vecSecret, vecHeader, vecID, "push", body, nil},
		{"wrong secret", "other", vecHeader, vecID, "push", body, ErrMismatch},
		{"event changed from push to test", vecSecret, vecHeader, vecID, "test", body, ErrMismatch},
		{"event removed", vecSecret, vecHeader, vecID, "", body, ErrUnsignable},
		{"delivery id changed", vecSecret, vecHeader, "3f1a9c52-7e0b-4a55-9d1e-2b7c8f64a0d4", "push", body, ErrMismatch},
		{"delivery id removed", vecSecret, vecHeader, "", "push", body, ErrUnsignable},
		{"timestamp changed", vecSecret, strings.Replace(vecHeader, "t=1700000000", "t=1700000001", 1), vecID, "push", body, ErrMismatch},
		{"one body byte flipped", vecSecret, vecHeader, vecID, "push", []byte(strings.Replace(vecBody, "v1", "v2", 1)), ErrMismatch},
		{"body extended", vecSecret, vecHeader, vecID, "push", append([]byte(vecBody), ' '), ErrMismatch},
		// Moving a dot between fields must not keep the signature: dots are not allowed in them.
		{"a dot moved from the id into the event", vecSecret, vecHeader, "3f1a9c52", "7e0b.push", body, ErrUnsignable},
		{"garbage header", vecSecret, "sha256=00", vecID, "push", body, ErrMalformed},
		{"hub signature in the wharf header", vecSecret, SignHub(vecSecret, body), vecID, "push", body, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Verify(tt.secret, tt.header, tt.id, tt.event, tt.body, now, 0)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("Verify = %v; want %v", err, tt.want)
			}
			if err == nil && !got.Equal(vecTime) {
				t.Fatalf("signed time %v; want %v", got, vecTime)
			}
		})
	}
}

func TestVerifyRefusesStaleTimes(t *testing.T) {
	body := []byte(vecBody)
	tests := []struct {
		name      string
		now       time.Time
		tolerance time.Duration
		ok        bool
	}{
		{"signed now", vecTime, 0, true},
		{"5 minutes old, the default tolerance", vecTime.Add(5 * time.Minute), 0, true},
		{"5 minutes and 1 second old", vecTime.Add(5*time.Minute + time.Second), 0, false},
		{"5 minutes ahead", vecTime.Add(-5 * time.Minute), 0, true},
		{"5 minutes and 1 second ahead", vecTime.Add(-5*time.Minute - time.Second), 0, false},
		{"a day old", vecTime.Add(24 * time.Hour), 0, false},
		{"a minute old with a 30s tolerance", vecTime.Add(time.Minute), 30 * time.Second, false},
		{"a minute old with a 2m tolerance", vecTime.Add(time.Minute), 2 * time.Minute, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Verify(vecSecret, vecHeader, vecID, "push", body, tt.now, tt.tolerance)
			if tt.ok && err != nil || !tt.ok && !errors.Is(err, ErrStale) {
				t.Fatalf("Verify = %v; want ok=%v", err, tt.ok)
			}
		})
	}
	// A far-future time neither overflows nor passes.
	far := "t=9223372036854775807," + strings.SplitN(vecHeader, ",", 2)[1]
	if _, err := Verify(vecSecret, far, vecID, "push", body, vecTime, 0); err == nil {
		t.Fatal("t=MaxInt64 verified")
	}
}

// During a secret rotation the sender signs with both secrets; a receiver
// that knows either verifies.
func TestVerifyAcceptsAnyOfSeveralV1(t *testing.T) {
	other, err := Sign("new-secret", vecTime, vecID, "push", []byte(vecBody))
	if err != nil {
		t.Fatal(err)
	}
	both := vecHeader + "," + strings.SplitN(other, ",", 2)[1]
	for _, secret := range []string{vecSecret, "new-secret"} {
		if _, err := Verify(secret, both, vecID, "push", []byte(vecBody), vecTime, 0); err != nil {
			t.Errorf("secret %s: %v", secret, err)
		}
	}
	if _, err := Verify("third", both, vecID, "push", []byte(vecBody), vecTime, 0); !errors.Is(err, ErrMismatch) {
		t.Errorf("a third secret: %v", err)
	}
}

func TestParseIsStrict(t *testing.T) {
	v1 := strings.SplitN(vecHeader, "v1=", 2)[1]
	tests := []struct {
		name, header string
		ok           bool
	}{
		{"canonical", vecHeader, true},
		{"two v1", vecHeader + ",v1=" + v1, true},
		{"eight v1", vecHeader + strings.Repeat(",v1="+v1, 7), true},
		{"t=0", "t=0,v1=" + v1, true},
		{"nine v1", vecHeader + strings.Repeat(",v1="+v1, 8), false},
		{"empty", "", false},
		{"no v1", "t=1700000000", false},
		{"no t", "v1=" + v1, false},
		{"v1 before t", "v1=" + v1 + ",t=1700000000", false},
		{"two t", "t=1700000000,t=1700000000,v1=" + v1, false},
		{"space after the comma", "t=1700000000, v1=" + v1, false},
		{"leading space", " " + vecHeader, false},
		{"trailing comma", vecHeader + ",", false},
		{"empty element", "t=1700000000,,v1=" + v1, false},
		{"unknown key", vecHeader + ",v0=" + v1, false},
		{"uppercase hex", "t=1700000000,v1=" + strings.ToUpper(v1), false},
		{"short v1", "t=1700000000,v1=" + v1[2:], false},
		{"long v1", "t=1700000000,v1=" + v1 + "00", false},
		{"non-hex v1", "t=1700000000,v1=" + v1[2:] + "zz", false},
		{"leading zero in t", "t=01700000000,v1=" + v1, false},
		{"negative t", "t=-1,v1=" + v1, false},
		{"plus sign in t", "t=+1700000000,v1=" + v1, false},
		{"fractional t", "t=1700000000.5,v1=" + v1, false},
		{"t beyond int64", "t=9223372036854775808,v1=" + v1, false},
		{"empty t", "t=,v1=" + v1, false},
		{"semicolons", "t=1700000000;v1=" + v1, false},
		{"uppercase key", "T=1700000000,v1=" + v1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse(tt.header)
			if tt.ok != (err == nil) {
				t.Fatalf("Parse(%q) = %+v, %v; want ok=%v", tt.header, s, err, tt.ok)
			}
			if err == nil && s.String() != tt.header {
				t.Fatalf("String = %q; want %q", s.String(), tt.header)
			}
			if err != nil && !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
		})
	}
}

func TestSignRefusesWhatCannotBeVerified(t *testing.T) {
	for _, tt := range []struct{ name, id, event string }{
		{"empty id", "", "push"},
		{"empty event", vecID, ""},
		{"dot in the id", "a.b", "push"},
		{"dot in the event", vecID, "push.x"},
		{"space in the event", vecID, "push "},
		{"id of 129 bytes", strings.Repeat("a", 129), "push"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if h, err := Sign(vecSecret, vecTime, tt.id, tt.event, nil); !errors.Is(err, ErrUnsignable) {
				t.Fatalf("Sign = %q, %v; want ErrUnsignable", h, err)
			}
		})
	}
	if _, err := Sign(vecSecret, time.Unix(-1, 0), vecID, "push", nil); !errors.Is(err, ErrUnsignable) {
		t.Fatalf("a time before 1970: %v", err)
	}
	h, err := Sign(vecSecret, vecTime, strings.Repeat("a", 128), "delete", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(vecSecret, h, strings.Repeat("a", 128), "delete", nil, vecTime, 0); err != nil {
		t.Fatalf("a 128-byte id with an empty body: %v", err)
	}
}

func TestVerifyFailsWhenAnyByteFlips(t *testing.T) {
	body := []byte(`{"callback_url":"https://hub.example/cb","push_data":{"tag":"v1"}}`)
	h, err := Sign(vecSecret, vecTime, vecID, "push", body)
	if err != nil {
		t.Fatal(err)
	}
	for i := range body {
		flipped := append([]byte{}, body...)
		flipped[i] ^= 0x01
		if _, err := Verify(vecSecret, h, vecID, "push", flipped, vecTime, 0); !errors.Is(err, ErrMismatch) {
			t.Fatalf("flipping byte %d: %v", i, err)
		}
	}
}
