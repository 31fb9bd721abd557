package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// SignaturePrefix starts every X-Hub-Signature-256 value.
const SignaturePrefix = "sha256="

// Sign returns the X-Hub-Signature-256 value of body: "sha256=" and the
// lowercase hex HMAC-SHA256 of the raw body bytes under secret.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return SignaturePrefix + hex.EncodeToString(mac.Sum(nil))
}

// Verify reports whether header is the signature of body under secret. It
// accepts only the "sha256=<hex>" form and compares in constant time.
func Verify(secret string, body []byte, header string) bool {
	hexSum, ok := strings.CutPrefix(header, SignaturePrefix)
	if !ok || len(hexSum) != 2*sha256.Size {
		return false
	}
	got, err := hex.DecodeString(hexSum)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}
