package registry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/sigstore/sigstore/pkg/signature/dsse"

	"github.com/wharfhub/wharf/server"
	"github.com/wharfhub/wharf/server/config"
	"github.com/wharfhub/wharf/server/servertest"
	"github.com/wharfhub/wharf/server/testutil"
	"github.com/wharfhub/wharf/server/trust"
)

type signer = testutil.Signer

func newSigner(t *testing.T) signer { return testutil.NewSigner(t) }

func newTrustEnv(t *testing.T) *env {
	t.Helper()
	e := newEnvOpts(t, t.TempDir(), func(*config.Config) {}, server.Options{Jobs: trust.WorkerOptions{Poll: 20 * time.Millisecond}})
	servertest.Run(t, e.app)
	return e
}

// sign attaches a cosign signature of subject to repo, as cosign does:
// under the tag sha256-HEX.sig, or (referrers) with subject set.
func (e *env) sign(s signer, repo string, subject digest.Digest, referrers bool) digest.Digest {
	e.t.Helper()
	payload, sig := s.SimpleSigning(e.t, "wharf.test/"+repo, subject.String())
	layer := map[string]any{"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json",
		"digest": e.pushBlob(repo, payload), "size": len(payload),
		"annotations": map[string]string{"dev.cosignproject.cosign/signature": sig}}
	return e.attach(repo, subject, referrers, ".sig", "application/vnd.dev.cosign.artifact.sig.v1+json", layer)
}

// attest attaches a cosign attestation (a DSSE envelope of an in-toto
// statement about subject) to repo under sha256-HEX.att.
func (e *env) attest(s signer, repo string, subject digest.Digest) digest.Digest {
	e.t.Helper()
	st := mustJSON(e.t, map[string]any{
		"_type":         "https://in-toto.io/Statement/v0.1",
		"predicateType": "https://slsa.dev/provenance/v0.2",
		"subject":       []any{map[string]any{"name": "wharf.test/" + repo, "digest": map[string]string{"sha256": subject.Encoded()}}},
		"predicate":     map[string]any{"builder": map[string]string{"id": "ci"}},
	})
	env, err := dsse.WrapSigner(s.SV, "application/vnd.in-toto+json").SignMessage(bytes.NewReader(st))
	if err != nil {
		e.t.Fatal(err)
	}
	layer := map[string]any{"mediaType": "application/vnd.dsse.envelope.v1+json", "digest": e.pushBlob(repo, env), "size": len(env),
		"annotations": map[string]string{"predicateType": "https://slsa.dev/provenance/v0.2"}}
	return e.attach(repo, subject, false, ".att", "", layer)
}

func (e *env) attach(repo string, subject digest.Digest, referrers bool, suffix, artifactType string, layer map[string]any) digest.Digest {
	e.t.Helper()
	cfg := []byte(`{}`)
	m := map[string]any{
		"schemaVersion": 2, "mediaType": ociImage,
		"config": map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": e.pushBlob(repo, cfg), "size": len(cfg)},
		"layers": []any{layer},
	}
	ref := "sha256-" + subject.Encoded() + suffix
	if referrers {
		m["subject"] = map[string]any{"mediaType": ociImage, "digest": subject, "size": 1}
		m["artifactType"] = artifactType
		m["config"] = map[string]any{"mediaType": "application/vnd.oci.empty.v1+json", "digest": e.pushBlob(repo, cfg), "size": len(cfg)}
	}
	b := mustJSON(e.t, m)
	d := digest.FromBytes(b)
	if referrers {
		ref = d.String()
	}
	if r := e.putManifest(repo, ref, b, ociImage); r.status != http.StatusCreated {
		e.t.Fatalf("attach: %d %s", r.status, r.body)
	}
	return d
}

// pushImage pushes a one-layer image to repo:tag and returns its digest.
func (e *env) pushImage(repo, tag, layer string) digest.Digest {
	e.t.Helper()
	b := e.image(repo, layer)
	if r := e.putManifest(repo, tag, b, ociImage); r.status != http.StatusCreated {
		e.t.Fatalf("push: %d %s", r.status, r.body)
	}
	return digest.FromBytes(b)
}

type trustManifest struct {
	Signature struct {
		Status     string
		Signatures []struct {
			Digest, Kind, Status, Key, Identity, Reason string
			PredicateType                               string `json:"predicate_type"`
		}
	}
	Scan struct{ Status string }
}

func (e *env) trustOf(repo string, d digest.Digest) trustManifest {
	e.t.Helper()
	r := e.do(as("GET", "/api/v1/repositories/"+repo+"/manifests/"+d.String(), nil))
	if r.status != http.StatusOK {
		e.t.Fatalf("manifest: %d %s", r.status, r.body)
	}
	var m trustManifest
	if err := json.Unmarshal(r.body, &m); err != nil {
		e.t.Fatal(err)
	}
	return m
}

// waitStatus polls until d's signature status is want.
func (e *env) waitStatus(repo string, d digest.Digest, want string) trustManifest {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		m := e.trustOf(repo, d)
		if m.Signature.Status == want {
			return m
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%s: signature status %q, want %q (%+v)", d, m.Signature.Status, want, m.Signature)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (e *env) addKey(path, name, pem string) int64 {
	e.t.Helper()
	r := e.do(as("POST", path+"/signing-keys", mustJSON(e.t, map[string]string{"name": name, "public_key": pem})))
	if r.status != http.StatusCreated {
		e.t.Fatalf("add key: %d %s", r.status, r.body)
	}
	var k struct{ ID int64 }
	_ = json.Unmarshal(r.body, &k)
	return k.ID
}

func TestSignaturesAreVerifiedByRegisteredKeys(t *testing.T) {
	e := newTrustEnv(t)
	const repo = "alice/app"
	ci, stranger := newSigner(t), newSigner(t)
	tagged := e.pushImage(repo, "1", "one")
	referred := e.pushImage(repo, "2", "two")
	unknown := e.pushImage(repo, "3", "three")
	attested := e.pushImage(repo, "4", "four")
	unsigned := e.pushImage(repo, "5", "five")

	e.sign(ci, repo, tagged, false)
	e.sign(ci, repo, referred, true)
	e.sign(stranger, repo, unknown, false)
	e.attest(ci, repo, attested)
	// Before any key is registered, a signature proves nothing.
	m := e.waitStatus(repo, tagged, "unverified")
	if len(m.Signature.Signatures) != 1 || !strings.Contains(m.Signature.Signatures[0].Reason, "no signing key") {
		t.Fatalf("before a key: %+v", m.Signature)
	}

	hook := e.do(as("POST", "/api/v1/repositories/"+repo+"/webhooks", []byte(`{"name":"sig","url":"https://hooks.example.com/x","events":["signature"]}`)))
	if hook.status != http.StatusCreated {
		t.Fatalf("webhook: %d %s", hook.status, hook.body)
	}
	var h struct{ ID int64 }
	_ = json.Unmarshal(hook.body, &h)
	keyID := e.addKey("/api/v1/repositories/"+repo, "ci", ci.PEM)
	for _, d := range []digest.Digest{tagged, referred, attested} {
		m := e.waitStatus(repo, d, "verified")
		if s := m.Signature.Signatures[0]; s.Key != "ci" || s.Identity != "key ci" {
			t.Errorf("%s: %+v", d, s)
		}
	}
	// Each change of status is a signature event for the webhooks that
	// ask for it.
	ds, err := e.app.DB.Deliveries.List(context.Background(), h.ID, 100, 0)
	if err != nil {
		t.Fatal(err)
	}
	events := map[string]string{}
	for _, d := range ds {
		if d.Event == "signature" {
			events[d.Digest] = d.Action
		}
	}
	if events[tagged.String()] != "verified" || events[referred.String()] != "verified" || len(events) < 3 {
		t.Errorf("signature events: %v", events)
	}
	if s := e.trustOf(repo, attested).Signature.Signatures[0]; s.Kind != "attestation" || s.PredicateType != "https://slsa.dev/provenance/v0.2" {
		t.Errorf("attestation: %+v", s)
	}
	if m := e.waitStatus(repo, unknown, "unverified"); m.Signature.Signatures[0].Reason != "no registered signing key verifies it" {
		t.Errorf("stranger's signature: %+v", m.Signature)
	}
	if m := e.trustOf(repo, unsigned); m.Signature.Status != "unsigned" || len(m.Signature.Signatures) != 0 || m.Scan.Status != "none" {
		t.Errorf("unsigned: %+v", m)
	}

	// A key of the namespace counts for its repositories; removing the
	// repository's key leaves only what the namespace's verifies.
	e.addKey("/api/v1/namespaces/alice", "stranger", stranger.PEM)
	e.waitStatus(repo, unknown, "verified")
	if r := e.do(as("DELETE", "/api/v1/repositories/"+repo+"/signing-keys/"+strconv.FormatInt(keyID, 10), nil)); r.status != http.StatusNoContent {
		t.Fatalf("delete key: %d %s", r.status, r.body)
	}
	e.waitStatus(repo, tagged, "unverified")
	e.waitStatus(repo, unknown, "verified")
}

// signWithCert attaches a cosign signature of subject whose layer carries
// a signing certificate (and chain), as cosign sign --certificate does.
func (e *env) signWithCert(s signer, repo string, subject digest.Digest, cert, chain string) digest.Digest {
	e.t.Helper()
	payload, sig := s.SimpleSigning(e.t, "wharf.test/"+repo, subject.String())
	layer := map[string]any{"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json",
		"digest": e.pushBlob(repo, payload), "size": len(payload),
		"annotations": map[string]string{"dev.cosignproject.cosign/signature": sig,
			"dev.sigstore.cosign/certificate": cert, "dev.sigstore.cosign/chain": chain}}
	return e.attach(repo, subject, false, ".sig", "", layer)
}

// A registered X.509 root verifies signatures whose certificate chains to
// it, for code signing; the certificate names the signer. A certificate
// of another CA proves nothing, nor does a leaf registered as a root.
func TestSignaturesChainToRegisteredRoots(t *testing.T) {
	e := newTrustEnv(t)
	const repo = "alice/app"
	corp, other := testutil.NewSigningCA(t, "Corp Root"), testutil.NewSigningCA(t, "Elsewhere")
	ci := newSigner(t)
	good := e.pushImage(repo, "1", "one")
	foreign := e.pushImage(repo, "2", "two")
	e.signWithCert(ci, repo, good, corp.Issue(t, ci, "ci@corp.example"), corp.PEM)
	e.signWithCert(ci, repo, foreign, other.Issue(t, ci, "ci@elsewhere.example"), other.PEM)

	leaf := corp.Issue(t, newSigner(t), "leaf@corp.example")
	if r := e.do(as("POST", "/api/v1/repositories/"+repo+"/signing-keys", mustJSON(t, map[string]string{"name": "leaf", "public_key": leaf}))); r.status != http.StatusBadRequest ||
		!strings.Contains(string(r.body), "not a CA certificate") {
		t.Errorf("a leaf certificate as a root: %d %s", r.status, r.body)
	}
	e.addKey("/api/v1/repositories/"+repo, "corp-root", corp.PEM)
	if s := e.waitStatus(repo, good, "verified").Signature.Signatures[0]; s.Key != "corp-root" || s.Identity != "ci@corp.example" {
		t.Errorf("the signature by corp's certificate: %+v", s)
	}
	m := e.waitStatus(repo, foreign, "unverified")
	if s := m.Signature.Signatures[0]; !strings.Contains(s.Reason, "does not chain to a registered root") || s.Identity != "ci@elsewhere.example" {
		t.Errorf("the signature by another CA's certificate: %+v", s)
	}
}

func TestSigningKeysRefuseWhatIsNoKey(t *testing.T) {
	e := newTrustEnv(t)
	e.pushImage("alice/app", "1", "one")
	for _, c := range []struct{ name, key, want string }{
		{"ci", "not a key", "not a PEM public key"},
		{"", newSigner(t).PEM, "needs a name"},
		{"ci", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "not a PEM public key"},
	} {
		r := e.do(as("POST", "/api/v1/repositories/alice/app/signing-keys", mustJSON(t, map[string]string{"name": c.name, "public_key": c.key})))
		if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), c.want) {
			t.Errorf("%q: %d %s", c.key, r.status, r.body)
		}
	}
	s := newSigner(t)
	e.addKey("/api/v1/repositories/alice/app", "ci", s.PEM)
	if r := e.do(as("POST", "/api/v1/repositories/alice/app/signing-keys", mustJSON(t, map[string]string{"name": "again", "public_key": s.PEM}))); r.status != http.StatusBadRequest {
		t.Errorf("the same key twice: %d %s", r.status, r.body)
	}
	// Bob manages nothing of alice's.
	q := req{method: "POST", path: "/api/v1/repositories/alice/app/signing-keys", user: bob, pw: bobPw,
		body: mustJSON(t, map[string]string{"name": "bob", "public_key": newSigner(t).PEM})}
	if r := e.do(q); r.status != http.StatusForbidden {
		t.Errorf("bob adds a key: %d %s", r.status, r.body)
	}
}

func TestPolicyRefusesUnsignedPulls(t *testing.T) {
	e := newTrustEnv(t)
	const repo = "alice/app"
	ci := newSigner(t)
	signed := e.pushImage(repo, "signed", "one")
	unsigned := e.pushImage(repo, "unsigned", "two")
	e.sign(ci, repo, signed, false)
	e.addKey("/api/v1/repositories/"+repo, "ci", ci.PEM)
	e.waitStatus(repo, signed, "verified")

	if r := e.do(as("PUT", "/api/v1/repositories/"+repo+"/policy", []byte(`{"require_signature":true}`))); r.status != http.StatusOK {
		t.Fatalf("policy: %d %s", r.status, r.body)
	}
	pull := func(user, pw, ref string) resp {
		return e.do(req{method: "GET", path: "/v2/" + repo + "/manifests/" + ref, user: user, pw: pw,
			header: map[string]string{"Accept": ociImage}})
	}
	for _, ref := range []string{"unsigned", unsigned.String()} {
		r := pull(alice, alicePw, ref)
		want := repo + "@" + unsigned.String() + " has no signature verified by a key of alice/app"
		if r.status != http.StatusForbidden || r.code() != "DENIED" || !strings.Contains(string(r.body), want) {
			t.Errorf("pull %s: %d %s", ref, r.status, r.body)
		}
		if h := e.do(req{method: "HEAD", path: "/v2/" + repo + "/manifests/" + ref, user: alice, pw: alicePw}); h.status != http.StatusForbidden {
			t.Errorf("HEAD %s: %d", ref, h.status)
		}
	}
	if r := pull(alice, alicePw, "signed"); r.status != http.StatusOK {
		t.Errorf("signed: %d %s", r.status, r.body)
	}
	// cosign fetches the signature itself.
	if r := pull(alice, alicePw, "sha256-"+signed.Encoded()+".sig"); r.status != http.StatusOK {
		t.Errorf("the signature: %d %s", r.status, r.body)
	}
	// A site admin gets through.
	if _, err := e.app.Accounts.CreateUser(context.Background(), "root", "root@example.com", "root-password", true); err != nil {
		t.Fatal(err)
	}
	if r := pull("root", "root-password", "unsigned"); r.status != http.StatusOK {
		t.Errorf("admin: %d %s", r.status, r.body)
	}
	// Lifting the policy lets the pull through at once on this replica.
	if r := e.do(as("PUT", "/api/v1/repositories/"+repo+"/policy", []byte(`{"require_signature":false}`))); r.status != http.StatusOK {
		t.Fatalf("policy: %d %s", r.status, r.body)
	}
	if r := pull(alice, alicePw, "unsigned"); r.status != http.StatusOK {
		t.Errorf("after the policy: %d %s", r.status, r.body)
	}
	// A namespace's policy holds for its repositories.
	if r := e.do(as("PUT", "/api/v1/namespaces/alice/policy", []byte(`{"require_signature":true}`))); r.status != http.StatusOK {
		t.Fatalf("namespace policy: %d %s", r.status, r.body)
	}
	if r := pull(alice, alicePw, "unsigned"); r.status != http.StatusForbidden {
		t.Errorf("under the namespace's policy: %d %s", r.status, r.body)
	}
	// A platform of a signed multi-platform image passes with it.
	idx := mustJSON(t, map[string]any{"schemaVersion": 2, "mediaType": ociIndex, "manifests": []any{
		map[string]any{"mediaType": ociImage, "digest": unsigned, "size": 1, "platform": map[string]string{"os": "linux", "architecture": "amd64"}}}})
	if r := e.putManifest(repo, "multi", idx, ociIndex); r.status != http.StatusCreated {
		t.Fatalf("index: %d %s", r.status, r.body)
	}
	e.sign(ci, repo, digest.FromBytes(idx), false)
	e.waitStatus(repo, digest.FromBytes(idx), "verified")
	if r := pull(alice, alicePw, unsigned.String()); r.status != http.StatusOK {
		t.Errorf("a platform of a signed index: %d %s", r.status, r.body)
	}
	var p struct {
		RequireSignature bool `json:"require_signature"`
		Effective        struct {
			RequireSignature bool `json:"require_signature"`
		}
	}
	_ = json.Unmarshal(e.do(as("GET", "/api/v1/repositories/"+repo+"/policy", nil)).body, &p)
	if p.RequireSignature || !p.Effective.RequireSignature {
		t.Errorf("repository policy view: %+v", p)
	}
	if r := e.do(as("PUT", "/api/v1/repositories/"+repo+"/policy", []byte(`{"block_severity":"urgent"}`))); r.status != http.StatusBadRequest {
		t.Errorf("bad severity: %d %s", r.status, r.body)
	}
}
