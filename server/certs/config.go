package certs

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"slices"

	"golang.org/x/crypto/acme"
)

// ClientAuth is how the server asks for client certificates.
type ClientAuth struct {
	// CAs sign the certificates that are accepted; nil asks for none.
	CAs *x509.CertPool
	// Require refuses a handshake without a valid certificate.
	Require bool
}

// LoadClientCAs reads a PEM file of CA certificates.
func LoadClientCAs(file string) (*x509.CertPool, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("tls client CA: %w", err)
	}
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("tls client CA %s: no PEM certificate in it", file)
	}
	return p, nil
}

// ServerConfig is the one TLS configuration of the server: TLS 1.2 at
// least with Go's default cipher suites, HTTP/2 then HTTP/1.1, client
// certificates as ca says, and, for ACME, the TLS-ALPN-01 protocol (whose
// validating handshakes carry no client certificate, and are not asked
// for one).
func ServerConfig(get func(*tls.ClientHelloInfo) (*tls.Certificate, error), acmeALPN bool, ca ClientAuth) *tls.Config {
	protos := []string{"h2", "http/1.1"}
	if acmeALPN {
		protos = append(protos, acme.ALPNProto)
	}
	c := &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: get,
		NextProtos:     protos,
	}
	if ca.CAs == nil {
		return c
	}
	withClients := c.Clone()
	withClients.ClientCAs = ca.CAs
	withClients.ClientAuth = tls.VerifyClientCertIfGiven
	if ca.Require {
		withClients.ClientAuth = tls.RequireAndVerifyClientCert
	}
	c.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		if acmeALPN && slices.Contains(hello.SupportedProtos, acme.ALPNProto) {
			return nil, nil // an ACME validation: the plain config
		}
		return withClients, nil
	}
	return c
}
