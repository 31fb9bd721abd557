package migrations

// Version 19: a manifest records what it holds (manifests.kind: image,
// index, helm, signature, attestation, sbom, wasm or artifact, worked out
// from its media types when it is pushed) and who pushed it, so that the
// hub lists artifacts apart from images and says who attached a
// signature. Rows from before are given the kind their media types tell,
// a cosign signature or attestation by its layers' media type in the
// payload ({{payload_text}}); what is left "" the hub works out when it
// shows it, and lists with the artifacts. An index's content size becomes its
// biggest platform's, what one pull downloads, not the sum over them.
func init() {
	const indexTypes = `('application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json')`
	register(Migration{Version: 19, Name: "manifest_kind", SQL: []string{
		`ALTER TABLE manifests ADD COLUMN kind TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE manifests ADD COLUMN pusher TEXT NOT NULL DEFAULT ''`,
		`UPDATE manifests SET kind = CASE
			WHEN {{payload_text}} LIKE '%"application/vnd.dev.cosign.simplesigning.v1+json"%' THEN 'signature'
			WHEN {{payload_text}} LIKE '%"application/vnd.dsse.envelope.v1+json"%' THEN 'attestation'
			WHEN artifact_type LIKE 'application/vnd.dev.sigstore.bundle%' OR artifact_type LIKE 'application/vnd.cncf.notary.signature%' THEN 'signature'
			WHEN artifact_type LIKE 'application/vnd.in-toto%' THEN 'attestation'
			WHEN artifact_type IN ('application/spdx+json', 'application/vnd.syft+json') OR artifact_type LIKE 'application/vnd.cyclonedx%' THEN 'sbom'
			WHEN media_type IN ` + indexTypes + ` AND COALESCE(artifact_type, '') = '' THEN 'index'
			WHEN media_type NOT IN ` + indexTypes + ` AND COALESCE(artifact_type, '') IN ('', 'application/vnd.oci.image.config.v1+json', 'application/vnd.docker.container.image.v1+json') THEN 'image'
			WHEN artifact_type LIKE 'application/vnd.cncf.helm.%' THEN 'helm'
			ELSE '' END`,
		`UPDATE manifests SET content_size = COALESCE((SELECT MAX(c.content_size) FROM manifest_references r
			JOIN manifests c ON c.repository_id = manifests.repository_id AND c.digest = r.digest
			WHERE r.manifest_id = manifests.id AND r.kind = 'manifest'), content_size)
			WHERE media_type IN ` + indexTypes,
	}})
}
