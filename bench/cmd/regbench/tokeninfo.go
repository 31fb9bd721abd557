package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// tokenInfo is the -token-info helper for scripts/bench.sh. It treats
// cfg.registry as a Docker token server (Wharf) and gathers what another
// registry needs to trust its tokens:
//
//   - realm and service, from the Bearer challenge of GET /v2/;
//   - issuer, from the "iss" of a token fetched for cfg.repo (pull,push with
//     cfg's credentials), whose "aud" must be the service and whose grants
//     must cover pull and push, so a setup that could not push fails here
//     rather than halfway through a benchmark;
//   - the signing keys, from /.well-known/jwks.json, which must include the
//     token's "kid"; they are written to jwksFile.
//
// It prints realm=, service= and issuer= lines on w.
func tokenInfo(cfg config, jwksFile string, w io.Writer) error {
	c := newClient(cfg.registry, cfg.user, cfg.pass, authToken, 1)
	if err := ping(c, cfg.wait); err != nil {
		return err
	}
	c.mu.Lock()
	ping := c.ping
	c.mu.Unlock()
	if ping == nil {
		return errors.New("GET /v2/ did not answer 401 with a Bearer challenge: not a token server")
	}
	realm, service := ping.params["realm"], ping.params["service"]
	if service == "" {
		return fmt.Errorf("challenge %v names no service", ping.params)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	scope := "repository:" + cfg.repo + ":pull,push"
	tok, err := c.token(ctx, cfg.repo+"|push", challenge{scheme: "Bearer",
		params: map[string]string{"realm": realm, "service": service, "scope": scope}}, "")
	if err != nil {
		return err
	}
	var hdr struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	var claims struct {
		Iss    string          `json:"iss"`
		Aud    json.RawMessage `json:"aud"`
		Access []struct {
			Type    string   `json:"type"`
			Name    string   `json:"name"`
			Actions []string `json:"actions"`
		} `json:"access"`
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return errors.New("token is not a JWS compact serialisation")
	}
	for i, v := range []any{&hdr, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			return fmt.Errorf("token part %d: %w", i, err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			return fmt.Errorf("token part %d: %w", i, err)
		}
	}
	var aud []string
	if err := json.Unmarshal(claims.Aud, &aud); err != nil {
		var one string
		if json.Unmarshal(claims.Aud, &one) != nil {
			return fmt.Errorf("token aud %s: not a string or list", claims.Aud)
		}
		aud = []string{one}
	}
	switch {
	case claims.Iss == "":
		return errors.New("token has no issuer")
	case !slices.Contains(aud, service):
		return fmt.Errorf("token audience %v does not include service %q", aud, service)
	case hdr.Kid == "":
		return fmt.Errorf("token header has no kid (alg %s): a JWKS cannot identify its key", hdr.Alg)
	}
	granted := false
	for _, a := range claims.Access {
		if a.Type == "repository" && a.Name == cfg.repo && slices.Contains(a.Actions, "pull") && slices.Contains(a.Actions, "push") {
			granted = true
		}
	}
	if !granted {
		return fmt.Errorf("token for %q grants %+v, not pull and push on %s (does user %q own it?)", scope, claims.Access, cfg.repo, cfg.user)
	}

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url("/.well-known/jwks.json"), nil)
	if err != nil {
		return err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := expect(resp, "GET /.well-known/jwks.json", http.StatusOK); err != nil {
		return err
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	type jwk struct {
		Kid string `json:"kid"`
	}
	var jwks struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.Unmarshal(raw, &jwks); err != nil {
		return fmt.Errorf("jwks: %w", err)
	}
	if !slices.ContainsFunc(jwks.Keys, func(k jwk) bool { return k.Kid == hdr.Kid }) {
		return fmt.Errorf("jwks has no key with the token's kid %q", hdr.Kid)
	}
	tmp := jwksFile + ".tmp"
	if err := os.MkdirAll(filepath.Dir(jwksFile), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(tmp, raw, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, jwksFile); err != nil {
		return err
	}
	logf("token server %s: issuer %s, service %s, key %s (%s)", cfg.registry, claims.Iss, service, hdr.Kid, hdr.Alg)
	_, err = fmt.Fprintf(w, "realm=%s\nservice=%s\nissuer=%s\n", realm, service, claims.Iss)
	return err
}
