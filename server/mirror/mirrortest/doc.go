// Package mirrortest supports end-to-end tests of Wharf as a pull-through
// cache of an upstream registry.
//
//   - Proxy is a fault-injecting reverse proxy put between the cache and
//     its upstream: it counts requests by kind and can answer 429 or 503,
//     drop connections, or corrupt blob bodies.
//   - StartDistribution runs CNCF Distribution's registry binary as a real
//     upstream (optionally with htpasswd Basic auth); DistributionBinary
//     finds it in $WHARF_DISTRIBUTION, which scripts/distribution.sh sets.
//   - RandomImage, Push and DeleteManifest put images into (and take them
//     out of) an upstream with plain HTTP, without docker.
//
// It uses only the standard library, go-digest and x/crypto/bcrypt, so any
// package's tests can import it.
package mirrortest
