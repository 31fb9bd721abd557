package trust

import (
	"testing"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/testutil"
)

// The parsers of what a signature layer carries never panic, whatever a
// pusher put there, and never call something verified without a key.
func FuzzSignatureLayer(f *testing.F) {
	s := testutil.NewSigner(f)
	payload, sig := s.SimpleSigning(f, "wharf.test/alice/app", "sha256:abc")
	ca := testutil.NewSigningCA(f, "Fuzz Root")
	f.Add(payload, sig, ca.Issue(f, s, "ci@example.com"), ca.PEM, true)
	f.Add([]byte(`{"payload":"e30=","signatures":[{"sig":"AA=="}]}`), "", "", "", false)
	f.Add([]byte("not json"), "!!", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "", true)
	root, err := parseKey(ca.PEM)
	if err != nil {
		f.Fatal(err)
	}
	pub, err := parseKey(s.PEM)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, p []byte, signature, cert, chain string, withKeys bool) {
		ann := map[string]string{annotationSignature: signature, annotationCertificate: cert, annotationChain: chain}
		var keys []key
		if withKeys {
			keys = []key{{row: models.SigningKey{ID: 1, Name: "ci"}, v: pub.v}, {row: models.SigningKey{ID: 2, Name: "root"}, root: root.root}}
		}
		for _, check := range []func(*models.Signature){
			func(sg *models.Signature) { checkSimpleSigning(p, ann, "sha256:abc", candidates(keys, ann, sg), sg) },
			func(sg *models.Signature) { checkEnvelope(p, "sha256:abc", candidates(keys, ann, sg), sg) },
		} {
			var sg models.Signature
			check(&sg)
			if sg.Status == models.SignatureVerified && !withKeys {
				t.Fatalf("verified without a key: %+v", sg)
			}
		}
	})
}
