package certs

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// Files is a certificate and its key from PEM files, reloaded when the
// files change.
type Files struct {
	certFile, keyFile string
	log               *slog.Logger
	now               func() time.Time

	mu      sync.Mutex
	cert    *tls.Certificate
	stamp   string    // the files' sizes and times when cert was read
	failed  string    // the stamp of files that did not load
	checked time.Time // when the files were last looked at
}

// checkEvery is how often a handshake looks at the files.
const checkEvery = time.Second

// LoadFiles reads a certificate (with its chain) and key; a pair that
// does not load is an error now, and only logged later.
func LoadFiles(certFile, keyFile string, log *slog.Logger) (*Files, error) {
	f := &Files{certFile: certFile, keyFile: keyFile, log: log, now: time.Now}
	if err := f.Reload(); err != nil {
		return nil, err
	}
	return f, nil
}

// stampOf says when the files last changed: a renewal that writes them in
// place or renames new ones over them changes it.
func (f *Files) stampOf() (string, error) {
	var s string
	for _, name := range []string{f.certFile, f.keyFile} {
		fi, err := os.Stat(name)
		if err != nil {
			return "", err
		}
		s += fmt.Sprintf("%d/%d/%d;", fi.Size(), fi.ModTime().UnixNano(), inode(fi))
	}
	return s, nil
}

// Reload reads the files again. On an error the certificate in use stays.
func (f *Files) Reload() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reloadLocked()
}

func (f *Files) reloadLocked() error {
	f.checked = f.now()
	stamp, err := f.stampOf()
	if err != nil {
		return fmt.Errorf("tls certificate: %w", err)
	}
	c, err := tls.LoadX509KeyPair(f.certFile, f.keyFile)
	if err != nil {
		return fmt.Errorf("tls certificate %s with key %s: %w", f.certFile, f.keyFile, err)
	}
	if c.Leaf == nil {
		if c.Leaf, err = x509.ParseCertificate(c.Certificate[0]); err != nil {
			return fmt.Errorf("tls certificate %s: %w", f.certFile, err)
		}
	}
	if f.cert != nil && f.stamp != stamp {
		f.log.Info("tls certificate reloaded", "file", f.certFile, "subject", c.Leaf.Subject.String(),
			"not_after", c.Leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	f.cert, f.stamp = &c, stamp
	return nil
}

// GetCertificate is tls.Config's: the certificate in use, read again
// first if the files changed.
func (f *Files) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.now().Sub(f.checked) >= checkEvery {
		f.checked = f.now()
		if stamp, err := f.stampOf(); err == nil && stamp != f.stamp && stamp != f.failed {
			if err := f.reloadLocked(); err != nil {
				f.failed = stamp
				// A renewal half-written, or a bad pair: keep serving the
				// certificate that works, and try again at a later check.
				f.log.Error("tls certificate not reloaded; the previous one is still served", "err", err)
			}
		}
	}
	if f.cert == nil {
		return nil, errors.New("no tls certificate")
	}
	return f.cert, nil
}
