//go:build tools

// Package conformance pins the upstream OCI distribution-spec conformance
// suite, built by scripts/conformance.sh.
package conformance

import _ "github.com/opencontainers/distribution-spec/conformance"
