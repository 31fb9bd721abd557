// Package scan scans images for known vulnerabilities, off the request
// path: a push queues a scan job, the job runs the scanner (Trivy, as an
// external process, against Wharf itself with a short-lived pull-only
// token) with the vulnerability database an admin imported, and records
// what it found per manifest digest, with an SBOM attached to the image
// as a referrer. Nothing here reaches the Internet: the database comes
// from an imported bundle, and the scanner runs offline.
package scan
