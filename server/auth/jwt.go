package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TokenTTL is the life of a registry token. Permissions are decided when
// a token is issued, so this bounds how long a revoked permission lingers.
const TokenTTL = 5 * time.Minute

// Access is one grant of a registry token, as in Docker's token spec.
type Access struct {
	Type    string   `json:"type"`
	Name    string   `json:"name"`
	Actions []string `json:"actions"`
}

// Claims are a registry token's claims.
type Claims struct {
	jwt.RegisteredClaims
	Access []Access `json:"access"`
	// Wharf identifies the caller for the few /v2/ answers that depend on
	// who asks rather than on a grant (the catalog).
	Wharf *TokenUser `json:"wharf,omitempty"`
}

// TokenUser is the caller a token was issued to.
type TokenUser struct {
	UserID  int64    `json:"uid,omitempty"`
	Admin   bool     `json:"adm,omitempty"`
	TokenID int64    `json:"tid,omitempty"`
	Scopes  []string `json:"scp,omitempty"`
	Repos   []string `json:"rep,omitempty"`
	// Asked lists, per repository, the actions the client asked for, so
	// that /v2/ can tell a refused action from one never asked for.
	Asked map[string][]string `json:"ask,omitempty"`
	// Scanner marks the token of the scanner Wharf runs against itself.
	Scanner bool `json:"scn,omitempty"`
	// Robot is the robot account the token was issued to.
	Robot int64 `json:"rbt,omitempty"`
}

// IsScanner reports whether the token is one IssueScanner made.
func (c *Claims) IsScanner() bool { return c != nil && c.Wharf != nil && c.Wharf.Scanner }

// Identity returns the caller the claims name, or nil if anonymous.
func (c *Claims) Identity() *Identity {
	if c.Wharf == nil || c.Subject == "" {
		return nil
	}
	id := &Identity{UserID: c.Wharf.UserID, Username: c.Subject, IsAdmin: c.Wharf.Admin, TokenID: c.Wharf.TokenID, Repos: c.Wharf.Repos}
	if c.Wharf.Robot != 0 {
		// The grants decide what it may do; its levels are not carried.
		id.Robot = &RobotAccess{ID: c.Wharf.Robot, Levels: map[string]Level{}}
	}
	if c.Wharf.TokenID != 0 || c.Wharf.Robot != 0 {
		id.Scopes = c.Wharf.Scopes
		if id.Scopes == nil {
			id.Scopes = []string{}
		}
	}
	return id
}

// Actions returns the actions granted on repository name.
func (c *Claims) Actions(name string) []string {
	for _, a := range c.Access {
		if a.Type == "repository" && a.Name == name {
			return a.Actions
		}
	}
	return nil
}

// WasAsked reports whether the client asked for action on name when it
// got this token.
func (c *Claims) WasAsked(name, action string) bool {
	if slices.Contains(c.Actions(name), action) {
		return true
	}
	return c.Wharf != nil && slices.Contains(c.Wharf.Asked[name], action)
}

// Tokens issues and verifies registry tokens signed with one ES256 key.
type Tokens struct {
	key     *ecdsa.PrivateKey
	kid     string
	issuer  string
	service string
	policy  *Policy
	now     func() time.Time

	// verified remembers tokens whose signature checked out, keyed by the
	// exact token string: clients reuse one token for minutes, and the
	// signature is the costly part. Expiry is still checked on every use.
	mu            sync.Mutex
	verified      map[string]*Claims
	verifiedBytes int
	cacheBytes    int // the cache's bound in bytes (maxVerifiedBytes)
}

// The verified-token cache is bounded in entries and in bytes; a token
// longer than maxCachedToken is checked each time (Wharf issues tokens of
// a few KiB at most, as scopes are bounded).
const (
	maxVerified      = 10000
	maxVerifiedBytes = 16 << 20
	maxCachedToken   = 32 << 10
)

// cost estimates what caching a token takes: the string and its claims,
// which hold about as much again.
func cost(token string) int { return 2*len(token) + 256 }

// SecretStore keeps secrets that every replica must share;
// models.SiteStore is one.
type SecretStore interface {
	Secret(ctx context.Context, name string, generate func() ([]byte, error)) ([]byte, error)
}

// LoadTokens loads the signing key from secrets, so that every replica
// signs and verifies with the same key. On first start the key is taken
// from legacyDir when an older Wharf left one there, or made anew.
func LoadTokens(ctx context.Context, secrets SecretStore, legacyDir, issuer, service string, policy *Policy) (*Tokens, error) {
	pemBytes, err := secrets.Secret(ctx, "token-signing-key", func() ([]byte, error) {
		b, err := os.ReadFile(filepath.Join(legacyDir, "token-signing-key.pem"))
		if errors.Is(err, os.ErrNotExist) {
			return newKeyPEM()
		}
		return b, err
	})
	if err != nil {
		return nil, fmt.Errorf("token signing key: %w", err)
	}
	key, err := parseKeyPEM(pemBytes)
	if err != nil {
		return nil, fmt.Errorf("token signing key: %w", err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	sum := sha256.Sum256(der)
	return &Tokens{
		key: key, kid: keyID(sum[:]), issuer: issuer, service: service, policy: policy, now: time.Now,
		cacheBytes: maxVerifiedBytes,
	}, nil
}

// keyID follows the libtrust format Docker tools print: 12 groups of
// base32 from the key's hash.
func keyID(sum []byte) string {
	s := base32.StdEncoding.EncodeToString(sum[:30])
	var parts []string
	for i := 0; i < 48; i += 4 {
		parts = append(parts, s[i:i+4])
	}
	return strings.Join(parts, ":")
}

func parseKeyPEM(b []byte) (*ecdsa.PrivateKey, error) {
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	return x509.ParseECPrivateKey(block.Bytes)
}

func newKeyPEM() ([]byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), nil
}

// Service is the token audience ("service" in challenges).
func (t *Tokens) Service() string { return t.service }

// Scope is one requested scope: "repository:NAME:ACTIONS" or
// "registry:catalog:*".
type Scope struct {
	Type, Name string
	Actions    []string
}

// MaxScopes bounds the distinct scopes of one token request: docker asks
// for one or two, a push with mounts for a few more.
const MaxScopes = 64

// ErrTooManyScopes refuses a token request for more than MaxScopes
// scopes.
var ErrTooManyScopes = fmt.Errorf("A token request may ask for at most %d scopes.", MaxScopes)

// ParseScopes parses scope parameters; one parameter may hold several
// scopes separated by spaces. Malformed scopes are skipped, and repeats of
// a type and name are merged into one scope with the union of their
// actions. More than MaxScopes distinct scopes (or actions) fail with
// ErrTooManyScopes before anything else is done with them.
func ParseScopes(params []string) ([]Scope, error) {
	var out []Scope
	at := map[[2]string]int{}
	for _, p := range params {
		for s := range strings.FieldsSeq(p) {
			i, j := strings.Index(s, ":"), strings.LastIndex(s, ":")
			if i <= 0 || j <= i {
				continue
			}
			key := [2]string{s[:i], s[i+1 : j]}
			k, seen := at[key]
			if !seen {
				if len(out) == MaxScopes {
					return nil, ErrTooManyScopes
				}
				k = len(out)
				at[key] = k
				out = append(out, Scope{Type: key[0], Name: key[1]})
			}
			for a := range strings.SplitSeq(s[j+1:], ",") {
				if slices.Contains(out[k].Actions, a) {
					continue
				}
				if len(out[k].Actions) == 8 {
					return nil, ErrTooManyScopes
				}
				out[k].Actions = append(out[k].Actions, a)
			}
		}
	}
	return out, nil
}

// Issue signs a token for id with, for each requested scope, the actions
// the policy allows. A denied scope is listed with no actions, so /v2/ can
// tell "asked and refused" from "never asked".
func (t *Tokens) Issue(ctx context.Context, id *Identity, scopes []Scope) (string, time.Time, error) {
	var access []Access
	asked := map[string][]string{}
	for _, s := range scopes {
		switch s.Type {
		case "repository":
			granted := []string{}
			want := s.Actions
			if slices.Contains(want, "*") {
				want = []string{"pull", "push", "delete"}
			}
			level, err := t.policy.Level(ctx, id, s.Name)
			if err != nil {
				return "", time.Time{}, err
			}
			for _, a := range []Action{ActionPull, ActionPush, ActionDelete} {
				if slices.Contains(want, string(a)) && t.policy.Decide(id, s.Name, level, a) == nil {
					granted = append(granted, string(a))
				}
			}
			access = append(access, Access{Type: "repository", Name: s.Name, Actions: granted})
			for _, a := range want {
				if !slices.Contains(granted, a) && !slices.Contains(asked[s.Name], a) {
					asked[s.Name] = append(asked[s.Name], a)
				}
			}
		case "registry":
			if s.Name == "catalog" {
				// Everyone may ask; the catalog lists only what they may pull.
				access = append(access, Access{Type: "registry", Name: "catalog", Actions: []string{"*"}})
			}
		}
	}
	now := t.now()
	exp := now.Add(TokenTTL)
	if id != nil && id.TokenExpires != nil && id.TokenExpires.Before(exp) {
		exp = *id.TokenExpires // never outlive the access token it was issued for
	}
	claims := Claims{RegisteredClaims: t.registered(now, exp), Access: access}
	if id != nil {
		claims.Subject = id.Username
		claims.Wharf = &TokenUser{UserID: id.UserID, Admin: id.IsAdmin, TokenID: id.TokenID, Scopes: id.Scopes, Repos: id.Repos}
		if id.Robot != nil {
			claims.Wharf.Robot = id.Robot.ID
		}
	}
	if len(asked) > 0 {
		if claims.Wharf == nil {
			claims.Wharf = &TokenUser{}
		}
		claims.Wharf.Asked = asked
	}
	s, err := t.sign(claims)
	return s, now, err
}

// registered are the claims every token carries: ours, for our service,
// from now (with leeway for clocks) to exp, with a unique id.
func (t *Tokens) registered(now, exp time.Time) jwt.RegisteredClaims {
	var jti [12]byte
	_, _ = rand.Read(jti[:])
	return jwt.RegisteredClaims{
		Issuer:    t.issuer,
		Audience:  jwt.ClaimStrings{t.service},
		ExpiresAt: jwt.NewNumericDate(exp),
		NotBefore: jwt.NewNumericDate(now.Add(-10 * time.Second)),
		IssuedAt:  jwt.NewNumericDate(now),
		ID:        hex.EncodeToString(jti[:]),
	}
}

func (t *Tokens) sign(claims Claims) (string, error) {
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	tok.Header["kid"] = t.kid
	return tok.SignedString(t.key)
}

// IssueScanner signs a token for the scanner Wharf runs against itself:
// it may pull repository name, and nothing else, for ttl (at most
// TokenTTL). Policies let it through, so that what they refuse can be
// scanned.
func (t *Tokens) IssueScanner(name string, ttl time.Duration) (string, error) {
	now := t.now()
	return t.sign(Claims{
		RegisteredClaims: t.registered(now, now.Add(min(ttl, TokenTTL))),
		Access:           []Access{{Type: "repository", Name: name, Actions: []string{string(ActionPull)}}},
		Wharf:            &TokenUser{Scanner: true},
	})
}

// Verify checks a registry token: our key and algorithm only (no "none",
// no HMAC, no key from the header), our issuer and audience, and its
// lifetime with a small leeway. It needs no database.
func (t *Tokens) Verify(token string) (*Claims, error) {
	now := t.now()
	t.mu.Lock()
	if c, ok := t.verified[token]; ok {
		t.mu.Unlock()
		if c.ExpiresAt != nil && now.Before(c.ExpiresAt.Add(30*time.Second)) {
			return c, nil
		}
		return nil, jwt.ErrTokenExpired
	}
	t.mu.Unlock()
	c, err := t.verify(token)
	if err != nil {
		return nil, err
	}
	if len(token) > maxCachedToken {
		return c, nil // verified, but too big to be worth its memory
	}
	t.mu.Lock()
	if t.verified == nil || len(t.verified) >= maxVerified || t.verifiedBytes+cost(token) > t.cacheBytes {
		// A cache: dropping it costs only signature checks.
		t.verified, t.verifiedBytes = map[string]*Claims{}, 0
	}
	t.verified[token] = c
	t.verifiedBytes += cost(token)
	t.mu.Unlock()
	return c, nil
}

func (t *Tokens) verify(token string) (*Claims, error) {
	var c Claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return &t.key.PublicKey, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodES256.Alg()}),
		jwt.WithIssuer(t.issuer),
		jwt.WithAudience(t.service),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(30*time.Second),
		jwt.WithTimeFunc(t.now),
	)
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// JWKS is the public signing key as a JSON Web Key Set, so that other
// registries (or replicas) can verify Wharf's tokens.
func (t *Tokens) JWKS() map[string]any {
	size := (t.key.Curve.Params().BitSize + 7) / 8
	pad := func(b []byte) string {
		out := make([]byte, size)
		copy(out[size-len(b):], b)
		return base64.RawURLEncoding.EncodeToString(out)
	}
	pub := t.key.PublicKey
	x, y := pub.X.Bytes(), pub.Y.Bytes()
	return map[string]any{"keys": []map[string]string{{
		"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": t.kid,
		"x": pad(x), "y": pad(y),
	}}}
}
