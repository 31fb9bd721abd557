package signature

import "testing"

func TestSignHubKnownVector(t *testing.T) {
	// The example of GitHub's "Validating webhook deliveries".
	got := SignHub("It's a Secret to Everybody", []byte("Hello, World!"))
	want := "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
	if got != want {
		t.Fatalf("SignHub = %s; want %s", got, want)
	}
}

func TestVerifyHub(t *testing.T) {
	body := []byte(`{"push_data":{"tag":"latest"}}`)
	sig := SignHub("s3cret", body)
	tests := []struct {
		name, secret, header string
		body                 []byte
		want                 bool
	}{
		{"valid", "s3cret", sig, body, true},
		{"wrong secret", "other", sig, body, false},
		{"empty header", "s3cret", "", body, false},
		{"sha1 form", "s3cret", "sha1=" + sig[len("sha256="):], body, false},
		{"no prefix", "s3cret", sig[len("sha256="):], body, false},
		{"space after the prefix", "s3cret", "sha256= " + sig[len("sha256="):], body, false},
		{"trailing space", "s3cret", sig + " ", body, false},
		{"truncated", "s3cret", sig[:len(sig)-2], body, false},
		{"not hex", "s3cret", sig[:len(sig)-2] + "zz", body, false},
		{"extra body byte", "s3cret", sig, append(append([]byte{}, body...), ' '), false},
		{"empty body", "s3cret", SignHub("s3cret", nil), nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := VerifyHub(tt.secret, tt.body, tt.header); got != tt.want {
				t.Errorf("VerifyHub = %v; want %v", got, tt.want)
			}
		})
	}
}

func TestVerifyHubFailsWhenAnyByteFlips(t *testing.T) {
	body := []byte(`{"callback_url":"https://hub.example/cb","push_data":{"tag":"v1"}}`)
	sig := SignHub("s3cret", body)
	for i := range body {
		for _, bit := range []byte{0x01, 0x80} {
			flipped := append([]byte{}, body...)
			flipped[i] ^= bit
			if VerifyHub("s3cret", flipped, sig) {
				t.Fatalf("flipping bit %#x of byte %d still verifies", bit, i)
			}
		}
	}
}
