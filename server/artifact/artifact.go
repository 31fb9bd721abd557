// Package artifact tells what a manifest holds — a container image, a
// multi-platform index, a Helm chart, a signature, an attestation, an
// SBOM, a WASM module or another OCI artifact — from its media type, its
// artifactType (or config media type) and its layers' media types, and
// which command fetches it.
package artifact

import (
	"regexp"
	"strings"
)

// Kind is what a manifest holds.
type Kind string

// The kinds the hub tells apart.
const (
	Image       Kind = "image"
	Index       Kind = "index"
	Helm        Kind = "helm"
	Signature   Kind = "signature"
	Attestation Kind = "attestation"
	SBOM        Kind = "sbom"
	WASM        Kind = "wasm"
	Other       Kind = "artifact"
)

// Kinds lists every kind, images first.
var Kinds = []Kind{Image, Index, Helm, Signature, Attestation, SBOM, WASM, Other}

// IsImage reports whether k runs as a container: an image, or an index of
// images.
func (k Kind) IsImage() bool { return k == Image || k == Index }

// Label is how the hub names k.
func (k Kind) Label() string {
	switch k {
	case Image:
		return "Image"
	case Index:
		return "Multi-platform image"
	case Helm:
		return "Helm chart"
	case Signature:
		return "Signature"
	case Attestation:
		return "Attestation"
	case SBOM:
		return "SBOM"
	case WASM:
		return "WASM module"
	}
	return "OCI artifact"
}

// Icon is a one-character symbol for k, shown beside its label (never
// alone: the label says what it means).
func (k Kind) Icon() string {
	switch k {
	case Image:
		return "▣"
	case Index:
		return "◫"
	case Helm:
		return "⎈"
	case Signature:
		return "✍"
	case Attestation:
		return "✔"
	case SBOM:
		return "☰"
	case WASM:
		return "⬡"
	}
	return "◇"
}

// Media types this package knows.
const (
	OCIIndex       = "application/vnd.oci.image.index.v1+json"
	DockerList     = "application/vnd.docker.distribution.manifest.list.v2+json"
	OCIConfig      = "application/vnd.oci.image.config.v1+json"
	DockerConfig   = "application/vnd.docker.container.image.v1+json"
	HelmConfig     = "application/vnd.cncf.helm.config.v1+json"
	HelmChart      = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
	CosignSimple   = "application/vnd.dev.cosign.simplesigning.v1+json"
	CosignSig      = "application/vnd.dev.cosign.artifact.sig.v1+json"
	SigstoreBundle = "application/vnd.dev.sigstore.bundle"
	NotarySig      = "application/vnd.cncf.notary.signature"
	DSSE           = "application/vnd.dsse.envelope.v1+json"
	InToto         = "application/vnd.in-toto"
	CosignAtt      = "application/vnd.dev.cosign.artifact.att.v1+json"
	SPDXJSON       = "application/spdx+json"
	SPDXText       = "text/spdx"
	CycloneDX      = "application/vnd.cyclonedx"
	SyftJSON       = "application/vnd.syft+json"
	WASMConfig     = "application/vnd.wasm.config"
	WASMLayer      = "application/wasm"
	WASMContent    = "application/vnd.wasm.content.layer"
	WASMModule     = "application/vnd.module.wasm"
)

// IsIndexType reports whether mediaType is an image index or manifest list.
func IsIndexType(mediaType string) bool { return mediaType == OCIIndex || mediaType == DockerList }

// IsImageConfig reports whether mediaType is a container image config.
func IsImageConfig(mediaType string) bool { return mediaType == OCIConfig || mediaType == DockerConfig }

// byType classifies a media type (an artifactType, a config's or a
// layer's) that alone says what the manifest is; Other if none does.
func byType(t string) Kind {
	t = strings.ToLower(strings.TrimSpace(t))
	switch {
	case t == "":
		return ""
	case t == HelmConfig || t == HelmChart || strings.HasPrefix(t, "application/vnd.cncf.helm."):
		return Helm
	case t == CosignSimple || t == CosignSig || strings.HasPrefix(t, SigstoreBundle) || strings.HasPrefix(t, NotarySig):
		return Signature
	case t == DSSE || t == CosignAtt || strings.HasPrefix(t, InToto):
		return Attestation
	case t == SPDXJSON || strings.HasPrefix(t, SPDXText) || strings.HasPrefix(t, CycloneDX) || t == SyftJSON:
		return SBOM
	case strings.HasPrefix(t, WASMConfig) || t == WASMLayer || strings.HasPrefix(t, WASMContent) || strings.HasPrefix(t, WASMModule):
		return WASM
	}
	return ""
}

// Classify tells what a manifest of mediaType holds. artifactType is its
// artifactType, or for a manifest without one its config's media type (as
// the referrers API reports it); layers are its layers' media types, when
// known. An index is an Index unless its artifactType says otherwise.
func Classify(mediaType, artifactType string, layers []string) Kind {
	if k := byType(artifactType); k != "" {
		return k
	}
	if IsIndexType(mediaType) {
		if artifactType == "" {
			return Index
		}
		return Other
	}
	// A signature or an SBOM attached the way cosign did before OCI 1.1
	// is an image manifest whose layers say what it is.
	for _, l := range layers {
		if k := byType(l); k != "" {
			return k
		}
	}
	if artifactType == "" || IsImageConfig(artifactType) {
		return Image
	}
	return Other
}

// cosignTag is how cosign tags what it attaches to sha256:HEX when the
// registry has no referrers API: sha256-HEX.sig, .att or .sbom.
var cosignTag = regexp.MustCompile(`^sha256-([a-f0-9]{64})\.(sig|att|sbom)$`)

// CosignSubject is the digest a cosign tag is attached to, with the kind
// the tag says, if tag is one.
func CosignSubject(tag string) (subject string, k Kind, ok bool) {
	m := cosignTag.FindStringSubmatch(tag)
	if m == nil {
		return "", "", false
	}
	k = map[string]Kind{"sig": Signature, "att": Attestation, "sbom": SBOM}[m[2]]
	return "sha256:" + m[1], k, true
}

// Ref names what a command fetches: host/name and a tag or a digest (the
// digest wins when both are set, except for helm, which pulls a chart by
// its version: the tag); Subject is the digest a signature or
// attestation is attached to, if known.
type Ref struct {
	Host, Name, Tag, Digest, Subject string
}

func (r Ref) repo() string { return r.Host + "/" + r.Name }

func (r Ref) String() string {
	if r.Digest != "" {
		return r.repo() + "@" + r.Digest
	}
	return r.repo() + ":" + r.Tag
}

// Command is the shell command that fetches (or, for a signature or an
// attestation, verifies) what k is, at r.
func (k Kind) Command(r Ref) string {
	switch k {
	case Image, Index:
		return "docker pull " + r.String()
	case Helm:
		if r.Tag != "" {
			return "helm pull oci://" + r.repo() + " --version " + r.Tag
		}
	case Signature:
		if r.Subject != "" {
			return "cosign verify --key cosign.pub " + r.repo() + "@" + r.Subject
		}
	case Attestation:
		if r.Subject != "" {
			return "cosign verify-attestation --key cosign.pub " + r.repo() + "@" + r.Subject
		}
	}
	return "oras pull " + r.String()
}
