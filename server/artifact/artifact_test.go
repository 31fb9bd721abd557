package artifact_test

import (
	"testing"

	"github.com/wharfhub/wharf/server/artifact"
)

const (
	ociManifest = "application/vnd.oci.image.manifest.v1+json"
	dockerV2    = "application/vnd.docker.distribution.manifest.v2+json"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		name                    string
		mediaType, artifactType string
		layers                  []string
		want                    artifact.Kind
	}{
		{"docker image", dockerV2, artifact.DockerConfig, []string{"application/vnd.docker.image.rootfs.diff.tar.gzip"}, artifact.Image},
		{"oci image", ociManifest, artifact.OCIConfig, []string{"application/vnd.oci.image.layer.v1.tar+gzip"}, artifact.Image},
		{"image without config type", ociManifest, "", nil, artifact.Image},
		{"multi-arch index", artifact.OCIIndex, "", nil, artifact.Index},
		{"docker manifest list", artifact.DockerList, "", nil, artifact.Index},
		{"index of artifacts", artifact.OCIIndex, "application/vnd.example.bundle", nil, artifact.Other},
		{"index of signatures", artifact.OCIIndex, artifact.CosignSig, nil, artifact.Signature},
		{"helm chart", ociManifest, artifact.HelmConfig, []string{artifact.HelmChart}, artifact.Helm},
		{"cosign legacy signature", ociManifest, artifact.OCIConfig, []string{artifact.CosignSimple}, artifact.Signature},
		{"cosign referrer signature", ociManifest, artifact.CosignSig, nil, artifact.Signature},
		{"sigstore bundle", ociManifest, "application/vnd.dev.sigstore.bundle.v0.3+json", nil, artifact.Signature},
		{"notation signature", ociManifest, "application/vnd.cncf.notary.signature", nil, artifact.Signature},
		{"cosign attestation", ociManifest, artifact.OCIConfig, []string{artifact.DSSE}, artifact.Attestation},
		{"in-toto attestation", ociManifest, "application/vnd.in-toto+json", nil, artifact.Attestation},
		{"spdx sbom", ociManifest, artifact.SPDXJSON, nil, artifact.SBOM},
		{"spdx sbom in a layer", ociManifest, "application/vnd.oci.empty.v1+json", []string{"text/spdx+json"}, artifact.SBOM},
		{"cyclonedx sbom", ociManifest, "application/vnd.cyclonedx+json", nil, artifact.SBOM},
		{"cyclonedx xml", ociManifest, "application/vnd.cyclonedx+xml", nil, artifact.SBOM},
		{"media type case", ociManifest, "Application/SPDX+JSON", nil, artifact.SBOM},
		{"wasm by config", ociManifest, "application/vnd.wasm.config.v0+json", []string{"application/wasm"}, artifact.WASM},
		{"wasm by layer", ociManifest, "application/vnd.oci.empty.v1+json", []string{"application/wasm"}, artifact.WASM},
		{"oras default", ociManifest, "application/vnd.unknown.artifact.v1", []string{"application/vnd.oci.image.layer.v1.tar"}, artifact.Other},
		{"oras with empty config", ociManifest, "application/vnd.oci.empty.v1+json", []string{"text/plain"}, artifact.Other},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := artifact.Classify(tc.mediaType, tc.artifactType, tc.layers); got != tc.want {
				t.Errorf("Classify(%q, %q, %q) = %q, want %q", tc.mediaType, tc.artifactType, tc.layers, got, tc.want)
			}
		})
	}
}

func TestCosignSubject(t *testing.T) {
	hex := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for tag, want := range map[string]artifact.Kind{
		"sha256-" + hex + ".sig":  artifact.Signature,
		"sha256-" + hex + ".att":  artifact.Attestation,
		"sha256-" + hex + ".sbom": artifact.SBOM,
		"sha256-" + hex:           "",
		"sha256-abc.sig":          "",
		"latest":                  "",
	} {
		subject, k, ok := artifact.CosignSubject(tag)
		if ok != (want != "") || k != want || ok && subject != "sha256:"+hex {
			t.Errorf("CosignSubject(%q) = %q, %q, %v; want kind %q", tag, subject, k, ok, want)
		}
	}
}

func TestCommand(t *testing.T) {
	const d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	ref := func(tag, dgst, subject string) artifact.Ref {
		return artifact.Ref{Host: "reg.example:5000", Name: "acme/app", Tag: tag, Digest: dgst, Subject: subject}
	}
	tests := []struct {
		kind artifact.Kind
		ref  artifact.Ref
		want string
	}{
		{artifact.Image, ref("v1", "", ""), "docker pull reg.example:5000/acme/app:v1"},
		{artifact.Index, ref("", d, ""), "docker pull reg.example:5000/acme/app@" + d},
		{artifact.Helm, ref("1.2.0", d, ""), "helm pull oci://reg.example:5000/acme/app --version 1.2.0"},
		{artifact.Helm, ref("", d, ""), "oras pull reg.example:5000/acme/app@" + d},
		{artifact.Signature, ref("", "sha256:aaaa", d), "cosign verify --key cosign.pub reg.example:5000/acme/app@" + d},
		{artifact.Signature, ref("", d, ""), "oras pull reg.example:5000/acme/app@" + d},
		{artifact.Attestation, ref("", "sha256:aaaa", d), "cosign verify-attestation --key cosign.pub reg.example:5000/acme/app@" + d},
		{artifact.SBOM, ref("sbom", "", ""), "oras pull reg.example:5000/acme/app:sbom"},
		{artifact.WASM, ref("v1", "", ""), "oras pull reg.example:5000/acme/app:v1"},
		{artifact.Other, ref("v1", d, ""), "oras pull reg.example:5000/acme/app@" + d},
	}
	for _, tc := range tests {
		if got := tc.kind.Command(tc.ref); got != tc.want {
			t.Errorf("%s.Command(%+v) = %q, want %q", tc.kind, tc.ref, got, tc.want)
		}
	}
	for _, k := range artifact.Kinds {
		if k.Label() == "" || k.Icon() == "" {
			t.Errorf("kind %q has no label or icon", k)
		}
	}
}
