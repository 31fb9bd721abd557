// Command regbench is a load generator for OCI distribution registries.
//
// It exists so Wharf can be compared with CNCF Distribution using exactly the
// same client, request sequence and measurement code (see scripts/bench.sh).
// It only speaks the OCI distribution HTTP API, has no dependencies beyond
// the standard library, and refuses non-loopback targets.
//
// The workloads (-only) are a push and a pull of one large blob, generated
// from a seed rather than held in memory, and request-rate tests of
// manifest GET, manifest HEAD and blob HEAD run at a fixed concurrency. The
// client authenticates as docker does, with Bearer tokens from the
// challenged realm cached per scope, or with Basic credentials (-auth).
//
// Each measurement is printed as one line on stdout:
//
//	RESULT name=push_512MiB value=812.345 unit=MiB/s bytes=536870912 seconds=0.630
//
// Progress and diagnostics go to stderr.
package main
