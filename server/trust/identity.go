package trust

import (
	"crypto/x509"
	"encoding/pem"
)

// certIdentity is the identity a signing certificate (PEM) names: its
// first e-mail address or URI, else its subject. It is what the signer
// claims, shown beside the signature; only a key verifies it.
func certIdentity(pemText string) string {
	b, _ := pem.Decode([]byte(pemText))
	if b == nil {
		return ""
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return ""
	}
	return certIdentityOf(c)
}

// certIdentityOf is who a certificate names: its e-mail address, URI,
// or subject.
func certIdentityOf(c *x509.Certificate) string {
	switch {
	case len(c.EmailAddresses) > 0:
		return c.EmailAddresses[0]
	case len(c.URIs) > 0:
		return c.URIs[0].String()
	}
	return c.Subject.String()
}
