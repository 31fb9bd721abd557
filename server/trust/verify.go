package trust

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
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
	annotationChain       = "dev.sigstore.cosign/chain"
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

// key is a signing key made ready to verify with: a public key (v), or
// an X.509 root (root) that the certificates of signatures chain to.
type key struct {
	row  models.SigningKey
	v    signature.Verifier
	root *x509.CertPool
}

// ParsePublicKey reads a PEM public key, as cosign generate-key-pair
// writes it (ECDSA, Ed25519 or RSA), or a PEM X.509 CA certificate (a
// root that signing certificates chain to), and returns its fingerprint
// (the hex SHA-256 of its DER form).
func ParsePublicKey(pemText string) (string, error) {
	k, err := parseKey(pemText)
	if err != nil {
		return "", err
	}
	return k.fingerprint, nil
}

type parsedKey struct {
	v           signature.Verifier
	root        *x509.CertPool
	fingerprint string
}

func parseKey(pemText string) (*parsedKey, error) {
	if b, _ := pem.Decode([]byte(pemText)); b != nil && b.Type == "CERTIFICATE" {
		return parseRoot(b.Bytes)
	}
	pub, err := cryptoutils.UnmarshalPEMToPublicKey([]byte(pemText))
	if err != nil {
		return nil, errors.New("the key is not a PEM public key (as cosign generate-key-pair writes cosign.pub) or a PEM CA certificate")
	}
	if err := cryptoutils.ValidatePubKey(pub); err != nil {
		return nil, fmt.Errorf("the public key is not usable: %v", err)
	}
	v, err := signature.LoadVerifier(pub, crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("the public key is not usable: %v", err)
	}
	der, err := cryptoutils.MarshalPublicKeyToDER(pub)
	if err != nil {
		return nil, err
	}
	return &parsedKey{v: v, fingerprint: digest.FromBytes(der).Encoded()}, nil
}

// parseRoot reads a CA certificate that signing certificates may chain
// to.
func parseRoot(der []byte) (*parsedKey, error) {
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("the certificate is not usable: %v", err)
	}
	if !c.IsCA || !c.BasicConstraintsValid {
		return nil, errors.New("the certificate is not a CA certificate: register the root (or intermediate) that signing certificates chain to")
	}
	if err := cryptoutils.ValidatePubKey(c.PublicKey); err != nil {
		return nil, fmt.Errorf("the certificate's key is not usable: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return &parsedKey{root: pool, fingerprint: digest.FromBytes(der).Encoded()}, nil
}

// keys loads the keys repository repo (id repoID) trusts.
func (v *Verifier) keys(ctx context.Context, repoID int64, repo string) ([]key, error) {
	rows, err := v.db.SigningKeys.Trusted(ctx, repoID, models.NamespaceOf(repo))
	if err != nil {
		return nil, err
	}
	out := make([]key, 0, len(rows))
	for _, r := range rows {
		k, err := parseKey(r.PublicKey)
		if err != nil {
			continue // checked when it was added; never trust what fails now
		}
		out = append(out, key{row: r, v: k.v, root: k.root})
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
				checkSimpleSigning(p, l.Annotations, subject, candidates(keys, l.Annotations, s), s)
			}
		case mt == artifact.DSSE:
			s.Kind = string(artifact.Attestation)
			check = func(p []byte, keys []key, s *models.Signature) {
				checkEnvelope(p, subject, candidates(keys, l.Annotations, s), s)
			}
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

// candidate is what may have made a signature: a registered public key,
// or a signing certificate that chains to a registered root.
type candidate struct {
	k key
	v signature.Verifier
	// identity is the certificate's signer, for a root's candidate.
	identity string
}

// candidates are the verifiers a signature layer is checked with: every
// registered public key, and the layer's certificate if it chains (with
// the layer's chain as intermediates) to a registered root, for code
// signing, at the time the signature was pushed. Why a certificate does
// not chain is noted in s.Reason for noKey to say.
func candidates(keys []key, ann map[string]string, s *models.Signature) []candidate {
	var out []candidate
	var leaf *x509.Certificate
	var inter *x509.CertPool
	if pemText := ann[annotationCertificate]; pemText != "" {
		if cs, err := cryptoutils.UnmarshalCertificatesFromPEM([]byte(pemText)); err == nil && len(cs) == 1 {
			leaf = cs[0]
			inter = x509.NewCertPool()
			if chain, err := cryptoutils.UnmarshalCertificatesFromPEM([]byte(ann[annotationChain])); err == nil {
				for _, c := range chain {
					inter.AddCert(c)
				}
			}
		}
	}
	for _, k := range keys {
		switch {
		case k.v != nil:
			out = append(out, candidate{k: k, v: k.v})
		case k.root != nil && leaf != nil:
			_, err := leaf.Verify(x509.VerifyOptions{Roots: k.root, Intermediates: inter, CurrentTime: s.SignedAt,
				KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}})
			if err != nil {
				s.Reason = "its certificate does not chain to a registered root: " + err.Error()
				continue
			}
			v, err := signature.LoadVerifier(leaf.PublicKey, crypto.SHA256)
			if err != nil {
				continue
			}
			out = append(out, candidate{k: k, v: v, identity: certIdentityOf(leaf)})
		}
	}
	return out
}

// checkSimpleSigning verifies a cosign signature: the base64 signature in
// the layer's annotation over p, a simple signing payload that must name
// subject.
func checkSimpleSigning(p []byte, ann map[string]string, subject string, cands []candidate, s *models.Signature) {
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
	for _, c := range cands {
		if c.v.VerifySignature(bytes.NewReader(raw), bytes.NewReader(p)) != nil {
			continue
		}
		if got := claim.Critical.Image.DockerManifestDigest; got != subject {
			s.Reason = fmt.Sprintf("the signature is valid but signs %s, another manifest", got)
			return
		}
		verified(s, c)
		return
	}
	s.Reason = noKey(cands, s.Reason)
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
func checkEnvelope(p []byte, subject string, cands []candidate, s *models.Signature) {
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
	for _, c := range cands {
		if dsse.WrapVerifier(c.v).VerifySignature(bytes.NewReader(p), nil) != nil {
			continue
		}
		d, err := digest.Parse(subject)
		if err != nil {
			s.Reason = "the subject is not a digest"
			return
		}
		for _, sub := range st.Subject {
			if sub.Digest[string(d.Algorithm())] == d.Encoded() {
				verified(s, c)
				return
			}
		}
		s.Reason = "the attestation is valid but is about another manifest"
		return
	}
	s.Reason = noKey(cands, s.Reason)
}

func verified(s *models.Signature, c candidate) {
	id := c.k.row.ID
	s.Status, s.KeyID, s.KeyName, s.Reason = models.SignatureVerified, &id, c.k.row.Name, ""
	if c.identity != "" {
		s.Identity = c.identity
	}
	if s.Identity == "" {
		s.Identity = "key " + c.k.row.Name
	}
}

// noKey says why no candidate verified a signature; why, if a
// certificate did not chain to a root.
func noKey(cands []candidate, why string) string {
	switch {
	case why != "":
		return why
	case len(cands) == 0:
		return "no signing key is registered for this repository or its namespace"
	}
	return "no registered signing key verifies it"
}
