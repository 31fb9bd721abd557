package certs

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// ACMEOptions configure certificates got by ACME.
type ACMEOptions struct {
	// Domains are the names certificates are got for; a handshake for
	// any other name is refused.
	Domains []string
	// Email is the account's contact address (optional).
	Email string
	// Directory is the ACME server's directory URL.
	Directory string
	// Cache keeps the account key and the certificates, so that a
	// restart (or another replica sharing it) does not ask again: a
	// directory (autocert.DirCache) or the database.
	Cache autocert.Cache
	// HTTPClient, if set, talks to the ACME server (tests trust a test
	// server's root with it).
	HTTPClient *http.Client
}

// ACME gets and renews certificates through autocert.
type ACME struct {
	m *autocert.Manager
}

// NewACME makes the certificate manager. Nothing is asked of the ACME
// server until the first handshake for one of the domains.
func NewACME(o ACMEOptions, log *slog.Logger) (*ACME, error) {
	if len(o.Domains) == 0 {
		return nil, errors.New("acme: no domains")
	}
	if o.Cache == nil {
		return nil, errors.New("acme: no cache")
	}
	client := &acme.Client{DirectoryURL: o.Directory, UserAgent: "wharf"}
	if o.HTTPClient != nil {
		client.HTTPClient = o.HTTPClient
	}
	m := &autocert.Manager{
		Prompt:     autocert.AcceptTOS,
		Cache:      o.Cache,
		HostPolicy: hostPolicy(o.Domains, log),
		Email:      o.Email,
		Client:     client,
	}
	return &ACME{m: m}, nil
}

// hostPolicy admits the configured domains only, so that a handshake for
// some other name never makes an order.
func hostPolicy(domains []string, log *slog.Logger) autocert.HostPolicy {
	return func(_ context.Context, host string) error {
		if slices.Contains(domains, strings.ToLower(strings.TrimSuffix(host, "."))) {
			return nil
		}
		log.Debug("tls handshake for a name not in acme-domains", "name", host)
		return fmt.Errorf("acme: %q is not one of the configured domains", host)
	}
}

// GetCertificate is tls.Config's: the domain's certificate, got or
// renewed as needed; it also answers TLS-ALPN-01 challenges.
func (a *ACME) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	return a.m.GetCertificate(hello)
}

// HTTPHandler answers HTTP-01 challenges and hands every other request
// to fallback.
func (a *ACME) HTTPHandler(fallback http.Handler) http.Handler { return a.m.HTTPHandler(fallback) }
