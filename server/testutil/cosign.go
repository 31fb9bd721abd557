package testutil

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
)

// Signer is a cosign-style key pair for tests: sigstore's own signer, and
// its public key as cosign.pub holds it.
type Signer struct {
	SV  signature.SignerVerifier
	PEM string
}

// NewSigner makes an ECDSA P-256 key pair, as cosign generate-key-pair does.
func NewSigner(t testing.TB) Signer {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sv, err := signature.LoadECDSASignerVerifier(priv, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := cryptoutils.MarshalPublicKeyToPEM(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	return Signer{SV: sv, PEM: string(pub)}
}

// SimpleSigning signs digest (a manifest of image, e.g.
// wharf.test/alice/app) as cosign sign does: it returns the simple
// signing payload and the base64 signature over it that cosign puts in
// the layer's dev.cosignproject.cosign/signature annotation.
func (s Signer) SimpleSigning(t testing.TB, image, digest string) (payload []byte, sig string) {
	t.Helper()
	payload, err := json.Marshal(map[string]any{
		"critical": map[string]any{
			"identity": map[string]string{"docker-reference": image},
			"image":    map[string]string{"docker-manifest-digest": digest},
			"type":     "cosign container image signature",
		},
		"optional": nil,
	})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := s.SV.SignMessage(bytes.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	return payload, base64.StdEncoding.EncodeToString(raw)
}
