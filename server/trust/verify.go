package trust

import (
	"bytes"
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/dsse"
	"github.com/sigstore/sigstore/pkg/signature/payload"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/artifact"
)

// Annotations cosign puts on a signature layer.
const (
	annotationSignature   = "dev.cosignproject.cosign/signature"
	annotationCertificate = "dev.sigstore.cosign/certificate"
)

// maxSignedBlob bounds what is read of a signature's payload or an
// attestation's envelope: cosign's are a few KiB, an SBOM attestation can
// be a few MiB.
const maxSignedBlob = 16 << 20

// BlobOpener reads a blob of a repository.
type BlobOpener func(ctx context.Context, name string, dgst digest.Digest) (io.ReadCloser, error)

// Verifier checks the signatures attached to a manifest.
type Verifier struct {
	db    *models.DB
	blobs BlobOpener
}

// NewVerifier makes a verifier that reads manifests from db and signed
// payloads with blobs.
func NewVerifier(db *models.DB, blobs BlobOpener) *Verifier {
	return &Verifier{db: db, blobs: blobs}
}

// key is a signing key made ready to verify with.
type key struct {
	row models.SigningKey
	v   signature.Verifier
}

// ParsePublicKey reads a PEM public key, as cosign generate-key-pair
// writes it (ECDSA, Ed25519 or RSA), and returns a verifier for it and
// its fingerprint (the hex SHA-256 of its DER form).
func ParsePublicKey(pemText string) (signature.Verifier, string, error) {
	pub, err := cryptoutils.UnmarshalPEMToPublicKey([]byte(pemText))
	if err != nil {
		return nil, "", errors.New("the public key is not a PEM public key (as cosign generate-key-pair writes cosign.pub)")
	}
	if err := cryptoutils.ValidatePubKey(pub); err != nil {
		return nil, "", fmt.Errorf("the public key is not usable: %v", err)
	}
	v, err := signature.LoadVerifier(pub, crypto.SHA256)
	if err != nil {
		return nil, "", fmt.Errorf("the public key is not usable: %v", err)
	}
	der, err := cryptoutils.MarshalPublicKeyToDER(pub)
	if err != nil {
		return nil, "", err
	}
	return v, digest.FromBytes(der).Encoded(), nil
}

// keys loads the keys repository repo (id repoID) trusts.
func (v *Verifier) keys(ctx context.Context, repoID int64, repo string) ([]key, error) {
	rows, err := v.db.SigningKeys.Trusted(ctx, repoID, models.NamespaceOf(repo))
	if err != nil {
		return nil, err
	}
	out := make([]key, 0, len(rows))
	for _, r := range rows {
		kv, _, err := ParsePublicKey(r.PublicKey)
		if err != nil {
			continue // checked when it was added; never trust what fails now
		}
		out = append(out, key{row: r, v: kv})
	}
	return out, nil
}

// Verify checks every signature and attestation attached to subject in
// repository repo (id repoID), by the referrers API or by cosign's tags,
// against the keys the repository trusts, and returns what it found.
func (v *Verifier) Verify(ctx context.Context, repoID int64, repo, subject string) ([]models.Signature, error) {
	keys, err := v.keys(ctx, repoID, repo)
	if err != nil {
		return nil, err
	}
	sigManifests, err := v.attached(ctx, repo, subject)
	if err != nil {
		return nil, err
	}
	var out []models.Signature
	for _, m := range sigManifests {
		found, err := v.verifyManifest(ctx, repo, subject, m, keys)
		if err != nil {
			return nil, err
		}
		out = append(out, found...)
	}
	return out, nil
}

// attached lists the signature and attestation manifests of subject.
func (v *Verifier) attached(ctx context.Context, repo, subject string) ([]*models.Manifest, error) {
	var out []*models.Manifest
	seen := map[string]bool{}
	refs, err := v.db.Manifests.Referrers(ctx, repo, subject, "")
	if err != nil {
		return nil, err
	}
	for _, r := range refs {
		if k := artifact.Kind(r.Kind); (k == artifact.Signature || k == artifact.Attestation) && !seen[r.Digest] {
			m, err := v.db.Manifests.Get(ctx, repo, r.Digest)
			if errors.Is(err, models.ErrNotFound) {
				continue // deleted since
			}
			if err != nil {
				return nil, err
			}
			seen[m.Digest] = true
			out = append(out, m)
		}
	}
	if d, err := digest.Parse(subject); err == nil && d.Algorithm() == digest.SHA256 {
		for _, suffix := range []string{".sig", ".att"} {
			m, err := v.db.Manifests.GetTagged(ctx, repo, "sha256-"+d.Encoded()+suffix)
			if errors.Is(err, models.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			if !seen[m.Digest] {
				seen[m.Digest] = true
				out = append(out, m)
			}
		}
	}
	return out, nil
}

// verifyManifest checks each signed layer of signature manifest m.
func (v *Verifier) verifyManifest(ctx context.Context, repo, subject string, m *models.Manifest, keys []key) ([]models.Signature, error) {
	var doc ocispec.Manifest
	if err := json.Unmarshal(m.Payload, &doc); err != nil {
		return nil, nil // not an image manifest: nothing cosign made
	}
	var out []models.Signature
	for i, l := range doc.Layers {
		var check func([]byte, []key, *models.Signature)
		s := models.Signature{SignatureDigest: m.Digest, Layer: i, SignedAt: m.CreatedAt, Status: models.SignatureUnverified}
		switch mt := l.MediaType; {
		case mt == artifact.CosignSimple:
			s.Kind = string(artifact.Signature)
			check = func(p []byte, keys []key, s *models.Signature) {
				checkSimpleSigning(p, l.Annotations, subject, keys, s)
			}
		case mt == artifact.DSSE:
			s.Kind = string(artifact.Attestation)
			check = func(p []byte, keys []key, s *models.Signature) { checkEnvelope(p, subject, keys, s) }
		case strings.HasPrefix(mt, artifact.SigstoreBundle):
			s.Kind = string(artifact.Signature)
			s.Reason = "Wharf does not verify Sigstore bundles yet; cosign verify checks them"
			out = append(out, s)
			continue
		default:
			continue
		}
		p, err := v.read(ctx, repo, l)
		if err != nil {
			if errors.Is(err, errUnreadable) {
				s.Reason = err.Error()
				out = append(out, s)
				continue
			}
			return nil, err
		}
		check(p, keys, &s)
		out = append(out, s)
	}
	return out, nil
}

var errUnreadable = errors.New("the signed payload is missing or too large")

// read loads a signed layer's blob, checking its digest.
func (v *Verifier) read(ctx context.Context, repo string, l ocispec.Descriptor) ([]byte, error) {
	if l.Size > maxSignedBlob || l.Digest.Validate() != nil {
		return nil, errUnreadable
	}
	rc, err := v.blobs(ctx, repo, l.Digest)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errUnreadable, err)
	}
	defer rc.Close()
	vr := l.Digest.Verifier()
	p, err := io.ReadAll(io.LimitReader(io.TeeReader(rc, vr), maxSignedBlob+1))
	if err != nil {
		return nil, err
	}
	if int64(len(p)) != l.Size || !vr.Verified() {
		return nil, fmt.Errorf("%w: its bytes do not match %s", errUnreadable, l.Digest)
	}
	return p, nil
}

// checkSimpleSigning verifies a cosign signature: the base64 signature in
// the layer's annotation over p, a simple signing payload that must name
// subject.
func checkSimpleSigning(p []byte, ann map[string]string, subject string, keys []key, s *models.Signature) {
	var claim payload.SimpleContainerImage
	if err := json.Unmarshal(p, &claim); err != nil {
		s.Reason = "the payload is not a cosign signature payload"
		return
	}
	if cert := ann[annotationCertificate]; cert != "" {
		s.Identity = certIdentity(cert)
	}
	raw, err := base64.StdEncoding.DecodeString(ann[annotationSignature])
	if err != nil || len(raw) == 0 {
		s.Reason = "the layer carries no signature"
		return
	}
	for _, k := range keys {
		if k.v.VerifySignature(bytes.NewReader(raw), bytes.NewReader(p)) != nil {
			continue
		}
		if got := claim.Critical.Image.DockerManifestDigest; got != subject {
			s.Reason = fmt.Sprintf("the signature is valid but signs %s, another manifest", got)
			return
		}
		verified(s, k)
		return
	}
	s.Reason = noKey(keys)
}

// statement is the part of an in-toto statement that says what it is
// about.
type statement struct {
	PredicateType string `json:"predicateType"`
	Subject       []struct {
		Digest map[string]string `json:"digest"`
	} `json:"subject"`
}

// checkEnvelope verifies an attestation: a DSSE envelope whose in-toto
// statement must name subject.
func checkEnvelope(p []byte, subject string, keys []key, s *models.Signature) {
	var env struct {
		Payload string `json:"payload"`
	}
	if err := json.Unmarshal(p, &env); err != nil {
		s.Reason = "the layer is not a DSSE envelope"
		return
	}
	var st statement
	if body, err := base64.StdEncoding.DecodeString(env.Payload); err == nil {
		_ = json.Unmarshal(body, &st)
	}
	s.PredicateType = st.PredicateType
	for _, k := range keys {
		if dsse.WrapVerifier(k.v).VerifySignature(bytes.NewReader(p), nil) != nil {
			continue
		}
		d, err := digest.Parse(subject)
		if err != nil {
			s.Reason = "the subject is not a digest"
			return
		}
		for _, sub := range st.Subject {
			if sub.Digest[string(d.Algorithm())] == d.Encoded() {
				verified(s, k)
				return
			}
		}
		s.Reason = "the attestation is valid but is about another manifest"
		return
	}
	s.Reason = noKey(keys)
}

func verified(s *models.Signature, k key) {
	id := k.row.ID
	s.Status, s.KeyID, s.KeyName, s.Reason = models.SignatureVerified, &id, k.row.Name, ""
	if s.Identity == "" {
		s.Identity = "key " + k.row.Name
	}
}

func noKey(keys []key) string {
	if len(keys) == 0 {
		return "no signing key is registered for this repository or its namespace"
	}
	return "no registered signing key verifies it"
}
