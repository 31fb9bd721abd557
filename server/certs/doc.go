// Package certs gives the server its certificates and its TLS settings.
//
// Files serves a certificate and key from PEM files and reads them again
// when they change (checked at most once a second, at a handshake) or
// when Reload is called (on SIGHUP), so a renewed certificate is used by
// the next handshake without a restart or a dropped connection; a file
// pair that does not load keeps the certificate in use and is logged.
// ACME gets and renews certificates from any RFC 8555 server through
// golang.org/x/crypto/acme/autocert. ServerConfig is the one TLS
// configuration: TLS 1.2 at least, Go's default cipher suites, HTTP/2.
package certs
