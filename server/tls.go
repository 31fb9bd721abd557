package server

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/crypto/acme/autocert"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/auth"
	"github.com/wharfhub/wharf/server/certs"
	"github.com/wharfhub/wharf/server/config"
)

// serverTLS is how the App serves HTTPS, when it does.
type serverTLS struct {
	config *tls.Config
	files  *certs.Files // certificates from files, or
	acme   *certs.ACME  // from ACME
}

// openTLS loads the certificate files, or sets up ACME.
func (a *App) openTLS(opts Options) error {
	t := a.Config.TLS
	if !t.On() {
		return nil
	}
	st := &serverTLS{}
	var get func(*tls.ClientHelloInfo) (*tls.Certificate, error)
	if t.CertFile != "" {
		f, err := certs.LoadFiles(t.CertFile, t.KeyFile, a.Log)
		if err != nil {
			return err
		}
		st.files, get = f, f.GetCertificate
	} else {
		var cache autocert.Cache
		switch t.ACMECache {
		case config.ACMECacheDatabase:
			cache = siteCache{a.DB.Site}
		case "":
			cache = autocert.DirCache(filepath.Join(a.Config.DataDir, "acme"))
		default:
			cache = autocert.DirCache(t.ACMECache)
		}
		m, err := certs.NewACME(certs.ACMEOptions{Domains: t.ACMEDomains, Email: t.ACMEEmail,
			Directory: t.ACMEDirectory, Cache: cache, HTTPClient: opts.ACMEClient}, a.Log)
		if err != nil {
			return err
		}
		st.acme, get = m, m.GetCertificate
	}
	var ca certs.ClientAuth
	if t.ClientCA != "" {
		pool, err := certs.LoadClientCAs(t.ClientCA)
		if err != nil {
			return err
		}
		ca = certs.ClientAuth{CAs: pool, Require: t.RequireClientCert}
	}
	st.config = certs.ServerConfig(get, st.acme != nil, ca)
	a.tls = st
	return nil
}

// siteCache keeps ACME's account and certificates in the database, so
// that every replica serves the same certificate and only one orders it.
type siteCache struct{ site *models.SiteStore }

func (c siteCache) Get(ctx context.Context, key string) ([]byte, error) {
	b, err := c.site.CacheGet(ctx, "acme/"+key)
	if errors.Is(err, models.ErrNotFound) {
		return nil, autocert.ErrCacheMiss
	}
	return b, err
}

func (c siteCache) Put(ctx context.Context, key string, data []byte) error {
	return c.site.CachePut(ctx, "acme/"+key, data)
}

func (c siteCache) Delete(ctx context.Context, key string) error {
	return c.site.CacheDelete(ctx, "acme/"+key)
}

// defaultBaseURL is the public URL of a server configured without one:
// the first ACME domain, or the address listened on.
func defaultBaseURL(cfg config.TLS, ln net.Listener) string {
	scheme := "http"
	if cfg.On() {
		scheme = "https"
	}
	if len(cfg.ACMEDomains) > 0 {
		host := cfg.ACMEDomains[0]
		if ln != nil {
			if _, port, err := net.SplitHostPort(ln.Addr().String()); err == nil && port != "443" {
				host = net.JoinHostPort(host, port)
			}
		}
		return scheme + "://" + host
	}
	if ln == nil {
		return ""
	}
	return scheme + "://" + ln.Addr().String()
}

// ReloadCertificates reads the certificate files again (on SIGHUP); it
// does nothing without them.
func (a *App) ReloadCertificates() error {
	if a.tls == nil || a.tls.files == nil {
		return nil
	}
	return a.tls.files.Reload()
}

// clientCertificate records the verified client certificate of a TLS
// request, by the field that names its account, for the accounts service
// to authenticate with.
func (a *App) clientCertificate() gin.HandlerFunc {
	on := a.tls != nil && a.Config.TLS.ClientCA != ""
	byEmail := a.Config.TLS.ClientUser == "email"
	return func(c *gin.Context) {
		if !on || c.Request.TLS == nil || len(c.Request.TLS.VerifiedChains) == 0 {
			return
		}
		leaf := c.Request.TLS.VerifiedChains[0][0]
		var cert auth.Certificate
		switch {
		case byEmail && len(leaf.EmailAddresses) > 0:
			cert.Email = leaf.EmailAddresses[0]
		case !byEmail:
			cert.Username = leaf.Subject.CommonName
		}
		c.Request = c.Request.WithContext(auth.WithCertificate(c.Request.Context(), cert))
	}
}

// hsts sends Strict-Transport-Security on every response over TLS.
func (a *App) hsts() gin.HandlerFunc {
	on := a.tls != nil && a.Config.TLS.HSTS
	return func(c *gin.Context) {
		if on && c.Request.TLS != nil {
			c.Header("Strict-Transport-Security", "max-age=31536000")
		}
	}
}

// redirectServer is the plain-HTTP listener's server: ACME's HTTP-01
// challenges are answered, everything else is sent to the same path on
// the base URL.
func (a *App) redirectServer() *http.Server {
	base, _ := url.Parse(a.Config.BaseURL)
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target := url.URL{Scheme: "https", Host: base.Host, Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery}
		code := http.StatusPermanentRedirect // keeps the method and body
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			code = http.StatusMovedPermanently
		}
		http.Redirect(w, r, target.String(), code)
	})
	if a.tls.acme != nil {
		h = a.tls.acme.HTTPHandler(h)
	}
	return &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute, MaxHeaderBytes: 1 << 16}
}
