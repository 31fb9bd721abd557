package certs

import (
	"crypto/tls"

	"golang.org/x/crypto/acme"
)

// ServerConfig is the one TLS configuration of the server: TLS 1.2 at
// least with Go's default cipher suites, HTTP/2 then HTTP/1.1, and, for
// ACME, the TLS-ALPN-01 protocol.
func ServerConfig(get func(*tls.ClientHelloInfo) (*tls.Certificate, error), acmeALPN bool) *tls.Config {
	protos := []string{"h2", "http/1.1"}
	if acmeALPN {
		protos = append(protos, acme.ALPNProto)
	}
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: get,
		NextProtos:     protos,
	}
}
