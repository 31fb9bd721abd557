package config

import (
	"fmt"
	"net"
	"strings"
)

// TLS is how the server serves HTTPS: certificate files, or ACME.
type TLS struct {
	// CertFile and KeyFile are PEM files (the certificate file may hold
	// the chain), read again when they change.
	CertFile, KeyFile string
	// ACMEDomains, if set, get their certificates by ACME instead.
	ACMEDomains []string
	ACMEEmail   string
	// ACMEDirectory is the ACME server's directory URL.
	ACMEDirectory string
	// ACMECache is the directory the ACME account and certificates are
	// kept in (default: acme/ in the data directory), or
	// ACMECacheDatabase.
	ACMECache string
	// HTTPAddr, if set, is a plain-HTTP listener that answers ACME
	// HTTP-01 challenges and redirects everything else to HTTPS.
	HTTPAddr string
	// HSTS sends Strict-Transport-Security with every response over TLS.
	HSTS bool
	// ClientCA, if set, is a PEM file of the CAs whose client
	// certificates authenticate their holders.
	ClientCA string
	// RequireClientCert refuses handshakes without such a certificate
	// (otherwise one is asked for, and checked if given).
	RequireClientCert bool
	// ClientUser is the certificate field that names the account: "cn"
	// (the subject's common name is the username) or "email" (its email
	// address is the account's).
	ClientUser string
}

// On reports whether the server serves HTTPS.
func (t TLS) On() bool { return t.CertFile != "" || len(t.ACMEDomains) > 0 }

// ACMECacheDatabase keeps the ACME cache in the database.
const ACMECacheDatabase = "database"

// LetsEncrypt is the default ACME directory.
const LetsEncrypt = "https://acme-v02.api.letsencrypt.org/directory"

var tlsSettings = []Setting{
	{Name: "tls-cert", Usage: "serve HTTPS with this PEM certificate (it may hold the chain); read again when it changes or on SIGHUP", Def: "",
		set: str(func(c *Config) *string { return &c.TLS.CertFile })},
	{Name: "tls-key", Usage: "the PEM private key of --tls-cert", Def: "",
		set: str(func(c *Config) *string { return &c.TLS.KeyFile })},
	{Name: "acme-domains", Usage: "serve HTTPS with certificates for these domains (comma list) got and renewed by ACME", Def: "",
		set: func(c *Config, v string) error {
			c.TLS.ACMEDomains = nil
			for _, d := range strings.Split(v, ",") {
				d = strings.ToLower(strings.TrimSpace(d))
				if d == "" {
					continue
				}
				if !strings.Contains(strings.Trim(d, "."), ".") || strings.ContainsAny(d, "/:* ") {
					return fmt.Errorf("acme-domains: %q is not a domain name such as registry.example.com", d)
				}
				c.TLS.ACMEDomains = append(c.TLS.ACMEDomains, d)
			}
			return nil
		}},
	{Name: "acme-email", Usage: "contact address given to the ACME server", Def: "",
		set: str(func(c *Config) *string { return &c.TLS.ACMEEmail })},
	{Name: "acme-directory", Usage: "the ACME server's directory URL (any RFC 8555 server)", Def: LetsEncrypt,
		set: func(c *Config, v string) error {
			if !strings.HasPrefix(v, "https://") {
				return fmt.Errorf("acme-directory must be an https:// URL, not %q", v)
			}
			c.TLS.ACMEDirectory = v
			return nil
		}},
	{Name: "acme-cache", Usage: "where the ACME account and certificates are kept: a directory (default: acme in the data dir), or database, which replicas share", Def: "",
		set: str(func(c *Config) *string { return &c.TLS.ACMECache })},
	{Name: "http-addr", Usage: "also listen for plain HTTP here: answer ACME challenges, redirect the rest to HTTPS", Def: "",
		set: func(c *Config, v string) error {
			if v != "" {
				if _, _, err := net.SplitHostPort(v); err != nil {
					return fmt.Errorf("http-addr must be HOST:PORT, not %q", v)
				}
			}
			c.TLS.HTTPAddr = v
			return nil
		}},
	{Name: "tls-client-ca", Usage: "PEM file of CAs whose client certificates authenticate their holders (docker: certs.d client.cert)", Def: "",
		set: str(func(c *Config) *string { return &c.TLS.ClientCA })},
	{Name: "tls-client-auth", Usage: "with tls-client-ca: request (check a certificate if given) or require (refuse handshakes without one)", Def: "request",
		set: func(c *Config, v string) error {
			switch v {
			case "request", "require":
				c.TLS.RequireClientCert = v == "require"
				return nil
			}
			return fmt.Errorf("tls-client-auth must be request or require, not %q", v)
		}},
	{Name: "tls-client-user", Usage: "the client certificate field naming the account: cn (the username) or email (the account's address)", Def: "cn",
		set: func(c *Config, v string) error {
			if v != "cn" && v != "email" {
				return fmt.Errorf("tls-client-user must be cn or email, not %q", v)
			}
			c.TLS.ClientUser = v
			return nil
		}},
	{Name: "hsts", Usage: "with TLS on, send Strict-Transport-Security: true or false", Def: "true",
		set: boolSetting("hsts", func(c *Config) *bool { return &c.TLS.HSTS })},
}

// checkTLS refuses settings that do not make one way of serving HTTPS.
func checkTLS(t TLS) error {
	switch {
	case (t.CertFile == "") != (t.KeyFile == ""):
		return fmt.Errorf("tls-cert and tls-key go together: give both or neither")
	case t.CertFile != "" && len(t.ACMEDomains) > 0:
		return fmt.Errorf("tls-cert and acme-domains are two ways of getting certificates: give one")
	case t.HTTPAddr != "" && !t.On():
		return fmt.Errorf("http-addr redirects to HTTPS: it needs tls-cert or acme-domains")
	case t.ClientCA != "" && !t.On():
		return fmt.Errorf("tls-client-ca checks client certificates over TLS: it needs tls-cert or acme-domains")
	}
	return nil
}
