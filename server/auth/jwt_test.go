package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/testutil"
)

// testDB opens a migrated database: SQLite in a temporary directory, or
// PostgreSQL when the tests run on it.
func testDB(t *testing.T) *models.DB { return testutil.OpenDB(t, t.TempDir()) }

func testTokens(t *testing.T) *Tokens {
	t.Helper()
	tk, err := LoadTokens(t.Context(), testDB(t).Site, t.TempDir(), "https://wharf.test", "wharf.test", nil)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func validClaims(now time.Time) Claims {
	return Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: "https://wharf.test", Audience: jwt.ClaimStrings{"wharf.test"}, Subject: "alice",
			ExpiresAt: jwt.NewNumericDate(now.Add(time.Minute)), IssuedAt: jwt.NewNumericDate(now),
		},
		Access: []Access{{Type: "repository", Name: "alice/app", Actions: []string{"pull", "push"}}},
	}
}

func b64(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Only tokens we signed, with our key and algorithm, for us, and still
// alive, are accepted (Distribution CVE-2025-24976 and friends).
func TestVerifyRefusesForgeries(t *testing.T) {
	tk := testTokens(t)
	now := time.Now()
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pubDER, _ := x509.MarshalPKIXPublicKey(&tk.key.PublicKey)

	sign := func(c Claims, method jwt.SigningMethod, key any, hdr map[string]any) string {
		tok := jwt.NewWithClaims(method, c)
		for k, v := range hdr {
			tok.Header[k] = v
		}
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	expired := validClaims(now.Add(-10 * time.Minute))
	wrongAud := validClaims(now)
	wrongAud.Audience = jwt.ClaimStrings{"evil.test"}
	wrongIss := validClaims(now)
	wrongIss.Issuer = "https://evil.test"
	noExp := validClaims(now)
	noExp.ExpiresAt = nil

	tests := []struct {
		name  string
		token string
	}{
		{"alg none", b64(map[string]string{"alg": "none", "typ": "JWT"}) + "." + b64(validClaims(now)) + "."},
		{"HS256 keyed with our public key", sign(validClaims(now), jwt.SigningMethodHS256, pubDER, nil)},
		{"signed by another key", sign(validClaims(now), jwt.SigningMethodES256, other, nil)},
		{"another key embedded as jwk", sign(validClaims(now), jwt.SigningMethodES256, other, map[string]any{
			"jwk": map[string]string{"kty": "EC", "crv": "P-256",
				"x": base64.RawURLEncoding.EncodeToString(other.X.Bytes()),
				"y": base64.RawURLEncoding.EncodeToString(other.Y.Bytes())}})},
		{"wrong audience", sign(wrongAud, jwt.SigningMethodES256, tk.key, nil)},
		{"wrong issuer", sign(wrongIss, jwt.SigningMethodES256, tk.key, nil)},
		{"expired beyond the leeway", sign(expired, jwt.SigningMethodES256, tk.key, nil)},
		{"no expiry", sign(noExp, jwt.SigningMethodES256, tk.key, nil)},
		{"garbage", "not.a.token"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tk.Verify(tc.token); err == nil {
				t.Fatal("forged token accepted")
			}
		})
	}
	t.Run("a genuine token is accepted", func(t *testing.T) {
		c, err := tk.Verify(sign(validClaims(now), jwt.SigningMethodES256, tk.key, nil))
		if err != nil || c.Subject != "alice" {
			t.Fatalf("genuine token refused: %v", err)
		}
	})
	t.Run("tampered claims break the signature", func(t *testing.T) {
		s := sign(validClaims(now), jwt.SigningMethodES256, tk.key, nil)
		parts := strings.Split(s, ".")
		c := validClaims(now)
		c.Access[0].Name = "bob/secret"
		parts[1] = b64(c)
		if _, err := tk.Verify(strings.Join(parts, ".")); err == nil {
			t.Fatal("tampered token accepted")
		}
	})
}

func TestKeySurvivesRestart(t *testing.T) {
	db, dir := testDB(t), t.TempDir()
	a, err := LoadTokens(t.Context(), db.Site, dir, "https://wharf.test", "wharf.test", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadTokens(t.Context(), db.Site, dir, "https://wharf.test", "wharf.test", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !a.key.Equal(b.key) || a.kid != b.kid {
		t.Fatal("a restart changed the signing key")
	}
}

// Replicas starting at once on one database must agree on one key, or a
// token from one would be refused by the other.
func TestReplicasShareOneKey(t *testing.T) {
	db := testDB(t)
	keys := make([]*Tokens, 8)
	errs := make(chan error, len(keys))
	for i := range keys {
		go func() {
			var err error
			keys[i], err = LoadTokens(t.Context(), db.Site, t.TempDir(), "https://wharf.test", "wharf.test", nil)
			errs <- err
		}()
	}
	for range keys {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	signed := jwt.NewWithClaims(jwt.SigningMethodES256, validClaims(time.Now()))
	signed.Header["kid"] = keys[0].kid
	tok, err := signed.SignedString(keys[0].key)
	if err != nil {
		t.Fatal(err)
	}
	for i, k := range keys {
		if !k.key.Equal(keys[0].key) {
			t.Fatalf("replica %d made its own key", i)
		}
		if _, err := k.Verify(tok); err != nil {
			t.Fatalf("replica %d refuses replica 0's token: %v", i, err)
		}
	}
}

// A data directory from before keys moved to the database keeps its key,
// so tokens already handed out stay valid across the upgrade.
func TestLegacyKeyFileIsAdopted(t *testing.T) {
	dir := t.TempDir()
	pemBytes, err := newKeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "token-signing-key.pem"), pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	tk, err := LoadTokens(t.Context(), testDB(t).Site, dir, "https://wharf.test", "wharf.test", nil)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := parseKeyPEM(pemBytes)
	if !tk.key.Equal(want) {
		t.Fatal("the key file of the data directory was not adopted")
	}
}

func TestParseScopes(t *testing.T) {
	got, err := ParseScopes([]string{"repository:a/b:pull,push repository:c/d:pull", "registry:catalog:*", "bogus", "repository:host:5000/x:pull"})
	if err != nil {
		t.Fatal(err)
	}
	want := []Scope{
		{"repository", "a/b", []string{"pull", "push"}},
		{"repository", "c/d", []string{"pull"}},
		{"registry", "catalog", []string{"*"}},
		{"repository", "host:5000/x", []string{"pull"}},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i].Type != want[i].Type || got[i].Name != want[i].Name || strings.Join(got[i].Actions, ",") != strings.Join(want[i].Actions, ",") {
			t.Errorf("scope %d: got %+v want %+v", i, got[i], want[i])
		}
	}
}

func TestDecide(t *testing.T) {
	alice := &Identity{UserID: 1, Username: "alice"}
	readTok := &Identity{UserID: 1, Username: "alice", TokenID: 9, Scopes: []string{ScopeRead}}
	scoped := &Identity{UserID: 1, Username: "alice", TokenID: 9, Scopes: []string{ScopeRead, ScopeWrite}, Repos: []string{"alice/x"}}
	tests := []struct {
		name   string
		id     *Identity
		repo   string
		level  Level
		action Action
		want   error
	}{
		{"anonymous reads public", nil, "a/b", LevelRead, ActionPull, nil},
		{"anonymous push is asked to log in", nil, "a/b", LevelRead, ActionPush, ErrUnauthenticated},
		{"anonymous on hidden is asked to log in", nil, "a/b", LevelNone, ActionPull, ErrUnauthenticated},
		{"reader cannot push", alice, "a/b", LevelRead, ActionPush, ErrDenied},
		{"outsider cannot see", alice, "a/b", LevelNone, ActionPull, ErrNotFound},
		{"writer pushes", alice, "a/b", LevelWrite, ActionPush, nil},
		{"writer cannot delete", alice, "a/b", LevelWrite, ActionDelete, ErrDenied},
		{"admin manages", alice, "a/b", LevelAdmin, ActionManage, nil},
		{"read token cannot push even as admin", readTok, "alice/x", LevelAdmin, ActionPush, ErrDenied},
		{"read token pulls", readTok, "alice/x", LevelAdmin, ActionPull, nil},
		{"repo-scoped token pushes its repo", scoped, "alice/x", LevelAdmin, ActionPush, nil},
		{"repo-scoped token cannot see another repo", scoped, "alice/y", LevelAdmin, ActionPull, ErrNotFound},
		{"repo-scoped token cannot manage", scoped, "alice/x", LevelAdmin, ActionManage, ErrDenied},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Decide(tc.id, tc.repo, tc.level, tc.action); got != tc.want {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
	if scoped.CanManageAccount() || readTok.CanManageAccount() || !alice.CanManageAccount() {
		t.Fatal("CanManageAccount is wrong")
	}
}

// The published JWKS verifies the tokens we sign.
func TestJWKSVerifiesOurTokens(t *testing.T) {
	tk := testTokens(t)
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, validClaims(time.Now()))
	tok.Header["kid"] = tk.kid
	s, err := tok.SignedString(tk.key)
	if err != nil {
		t.Fatal(err)
	}
	keys := tk.JWKS()["keys"].([]map[string]string)
	k := keys[0]
	xb, _ := base64.RawURLEncoding.DecodeString(k["x"])
	yb, _ := base64.RawURLEncoding.DecodeString(k["y"])
	raw := append([]byte{4}, append(xb, yb...)...)
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), raw)
	if err != nil {
		t.Fatal(err)
	}
	if k["kid"] != tk.kid || len(xb) != 32 || len(yb) != 32 {
		t.Fatalf("jwks %v", k)
	}
	if _, err := jwt.Parse(s, func(*jwt.Token) (any, error) { return pub, nil }, jwt.WithValidMethods([]string{"ES256"})); err != nil {
		t.Fatalf("token does not verify with the published key: %v", err)
	}
}

// A cached token still expires.
func TestVerifiedCacheHonoursExpiry(t *testing.T) {
	tk := testTokens(t)
	now := time.Now()
	tk.now = func() time.Time { return now }
	c := validClaims(now)
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, c)
	s, _ := tok.SignedString(tk.key)
	if _, err := tk.Verify(s); err != nil {
		t.Fatal(err)
	}
	if _, err := tk.Verify(s); err != nil {
		t.Fatalf("cached token refused: %v", err)
	}
	now = now.Add(2 * time.Minute)
	if _, err := tk.Verify(s); err == nil {
		t.Fatal("an expired token was accepted from the cache")
	}
	// A forged token never enters the cache.
	if _, err := tk.Verify(s + "x"); err == nil {
		t.Fatal("tampered token accepted")
	}
}

// Repeated scopes merge, and a request for more than MaxScopes distinct
// scopes is refused before any of them is looked at.
func TestParseScopesIsBounded(t *testing.T) {
	got, err := ParseScopes([]string{"repository:a/b:pull repository:a/b:push,pull", "repository:a/b:pull"})
	if err != nil || len(got) != 1 || !slices.Equal(got[0].Actions, []string{"pull", "push"}) {
		t.Fatalf("repeats: %+v, %v", got, err)
	}
	var many []string
	for i := range 10000 {
		many = append(many, fmt.Sprintf("repository:ns/r%d:pull", i))
	}
	if _, err := ParseScopes(many); !errors.Is(err, ErrTooManyScopes) {
		t.Fatalf("10,000 scopes: %v, want ErrTooManyScopes", err)
	}
	same := slices.Repeat([]string{"repository:ns/r:pull"}, 10000)
	if got, err := ParseScopes(same); err != nil || len(got) != 1 {
		t.Fatalf("10,000 repeats of one scope: %d scopes, %v", len(got), err)
	}
	var actions []string
	for i := range 20 {
		actions = append(actions, fmt.Sprint("a", i))
	}
	if _, err := ParseScopes([]string{"repository:ns/r:" + strings.Join(actions, ",")}); !errors.Is(err, ErrTooManyScopes) {
		t.Fatalf("many actions: %v", err)
	}
}

// The verified-token cache is bounded by bytes as well as entries.
func TestVerifiedCacheIsBoundedInBytes(t *testing.T) {
	tk := testTokens(t)
	tk.cacheBytes = 200 << 10
	tk.policy = NewPolicy(testDB(t))
	var scopes []Scope
	for i := range MaxScopes {
		scopes = append(scopes, Scope{Type: "repository", Name: fmt.Sprintf("ns/%0200d", i), Actions: []string{"pull"}})
	}
	for range 40 {
		tok, _, err := tk.Issue(t.Context(), nil, scopes)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tk.Verify(tok); err != nil {
			t.Fatal(err)
		}
		tk.mu.Lock()
		b := tk.verifiedBytes
		tk.mu.Unlock()
		if b > tk.cacheBytes {
			t.Fatalf("cache holds %d bytes, over %d", b, tk.cacheBytes)
		}
	}
}
