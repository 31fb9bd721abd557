package config

import (
	"io"
	"strings"
	"testing"
)

// TestTLSSettings: the TLS settings make one way of serving HTTPS, or
// say why not.
func TestTLSSettings(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		err  string // "" for none
		want func(TLS) bool
	}{
		{name: "off by default", want: func(t TLS) bool { return !t.On() && t.HSTS && t.ClientUser == "cn" && t.ACMEDirectory == LetsEncrypt }},
		{name: "files", args: []string{"--tls-cert", "c.pem", "--tls-key", "k.pem"}, want: func(t TLS) bool { return t.On() }},
		{name: "acme domains are trimmed and lowered", args: []string{"--acme-domains", " Registry.Example.com, b.example.org "},
			want: func(t TLS) bool {
				return t.On() && strings.Join(t.ACMEDomains, ",") == "registry.example.com,b.example.org"
			}},
		{name: "hsts off", args: []string{"--tls-cert", "c", "--tls-key", "k", "--hsts=false"}, want: func(t TLS) bool { return !t.HSTS }},
		{name: "client certificates required", args: []string{"--tls-cert", "c", "--tls-key", "k", "--tls-client-ca", "ca.pem", "--tls-client-auth", "require", "--tls-client-user", "email"},
			want: func(t TLS) bool { return t.RequireClientCert && t.ClientUser == "email" }},
		{name: "cert without key", args: []string{"--tls-cert", "c.pem"}, err: "go together"},
		{name: "files and acme", args: []string{"--tls-cert", "c", "--tls-key", "k", "--acme-domains", "a.example"}, err: "give one"},
		{name: "http-addr without tls", args: []string{"--http-addr", ":80"}, err: "needs tls-cert or acme-domains"},
		{name: "client CA without tls", args: []string{"--tls-client-ca", "ca.pem"}, err: "needs tls-cert or acme-domains"},
		{name: "a domain without a dot", args: []string{"--acme-domains", "localhost"}, err: "not a domain name"},
		{name: "a plain-http directory", args: []string{"--acme-directory", "http://acme.example/dir"}, err: "https:// URL"},
		{name: "bad client auth", args: []string{"--tls-client-auth", "maybe"}, err: "request or require"},
		{name: "bad http-addr", args: []string{"--tls-cert", "c", "--tls-key", "k", "--http-addr", "80"}, err: "HOST:PORT"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, _, err := Load("wharf serve", ServeSettings, c.args, func(string) string { return "" }, io.Discard, nil)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one saying %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !c.want(cfg.TLS) {
				t.Fatalf("TLS settings %+v", cfg.TLS)
			}
		})
	}
}
