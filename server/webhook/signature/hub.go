package signature

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// HubHeader carries the body's signature in the form of GitHub's and of
// receivers written for Docker Hub style hooks: "sha256=<hex>".
const HubHeader = "X-Hub-Signature-256"

// HubPrefix starts every HubHeader value.
const HubPrefix = "sha256="

// SignHub returns the HubHeader value of body: "sha256=" and the lowercase
// hex HMAC-SHA256 of the raw body bytes under secret. It signs neither a
// time nor the delivery id, so it alone cannot stop a replay.
func SignHub(secret string, body []byte) string {
	return HubPrefix + hex.EncodeToString(mac(secret, body))
}

// VerifyHub reports whether header is the HubHeader value of body under
// secret. It accepts exactly "sha256=" and 64 hex digits, nothing around
// them, and compares in constant time.
func VerifyHub(secret string, body []byte, header string) bool {
	hexSum, ok := strings.CutPrefix(header, HubPrefix)
	if !ok || len(hexSum) != 2*sha256.Size {
		return false
	}
	got, err := hex.DecodeString(hexSum)
	if err != nil {
		return false
	}
	return hmac.Equal(got, mac(secret, body))
}

// mac is the HMAC-SHA256 of the concatenated parts under secret.
func mac(secret string, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}
