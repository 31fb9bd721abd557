package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/wharfhub/wharf/models"
)

// SSOConfig is how Wharf signs people in through an OpenID Connect
// provider.
type SSOConfig struct {
	Issuer, ClientID, ClientSecret string
	// RedirectURL is Wharf's callback, as registered at the provider.
	RedirectURL string
	Scopes      []string
	// UsernameClaim names the claim new accounts take their name from;
	// GroupsClaim, if set, the claim of ORG/TEAM groups to sync.
	UsernameClaim, GroupsClaim string
	RequireVerifiedEmail       bool
}

// The refusals of a single sign-on, as the sign-in page says them.
var (
	ErrSSOState      = errors.New("That sign-in expired or did not start here: sign in again.")
	ErrSSOProvider   = errors.New("The sign-in provider did not answer as it should: try again, or ask a site administrator.")
	ErrSSOToken      = errors.New("The sign-in provider's answer did not check out, so nobody was signed in.")
	ErrSSOUnverified = errors.New("Your e-mail address is not verified at the sign-in provider: verify it there first.")
	ErrSSONoEmail    = errors.New("The sign-in provider gave no e-mail address for you; Wharf needs one.")
	ErrSSOEmailTaken = errors.New("An account with your e-mail address exists already, signed up with a password: sign in with it, or ask a site administrator.")
	ErrSSODisabled   = errors.New("Your account is disabled.")
)

// ssoTTL is how long a sign-in may take at the provider.
const ssoTTL = 10 * time.Minute

// SSO signs people in through an OpenID Connect provider: the
// authorization code flow with PKCE, state and nonce; accounts are made
// at the first sign-in and found by the provider's subject after.
type SSO struct {
	accounts *Accounts
	db       *models.DB
	cfg      SSOConfig
	now      func() time.Time

	// The provider is discovered at the first sign-in (and again after a
	// failure), so that Wharf starts while the provider is down.
	mu       sync.Mutex
	provider *oidc.Provider
}

// NewSSO makes the single sign-on service.
func NewSSO(accounts *Accounts, cfg SSOConfig) *SSO {
	return &SSO{accounts: accounts, db: accounts.db, cfg: cfg, now: time.Now}
}

// Pending is a sign-in under way, which the browser keeps (in a sealed
// cookie) until the provider sends it back.
type Pending struct {
	State, Nonce, Verifier, Next string
	Expires                      int64 // Unix seconds
}

func (s *SSO) discover(ctx context.Context) (*oidc.Provider, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.provider != nil {
		return s.provider, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	p, err := oidc.NewProvider(ctx, s.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("%w (%v)", ErrSSOProvider, err)
	}
	s.provider = p
	return p, nil
}

func (s *SSO) oauth(p *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{ClientID: s.cfg.ClientID, ClientSecret: s.cfg.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: s.cfg.RedirectURL, Scopes: s.cfg.Scopes}
}

func random() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Begin starts a sign-in that returns to next: the provider's URL to send
// the browser to, and what the browser keeps until it comes back.
func (s *SSO) Begin(ctx context.Context, next string) (string, *Pending, error) {
	p, err := s.discover(ctx)
	if err != nil {
		return "", nil, err
	}
	pend := &Pending{State: random(), Nonce: random(), Verifier: oauth2.GenerateVerifier(), Next: next,
		Expires: s.now().Add(ssoTTL).Unix()}
	u := s.oauth(p).AuthCodeURL(pend.State, oidc.Nonce(pend.Nonce), oauth2.S256ChallengeOption(pend.Verifier))
	return u, pend, nil
}

// claims are what Wharf reads of the person.
type claims map[string]any

func (c claims) str(name string) string { s, _ := c[name].(string); return s }

func (c claims) strings(name string) []string {
	switch v := c[name].(type) {
	case []any:
		var out []string
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	case string:
		return strings.Fields(strings.ReplaceAll(v, ",", " "))
	}
	return nil
}

// Finish completes a sign-in the provider sent back with state and code
// (pend is what Begin gave the browser): it checks the state, trades the
// code (with the PKCE verifier), verifies the ID token (signature,
// issuer, audience, expiry, nonce) and signs in the account linked to
// the person, making it at the first sign-in. ip is the person's address.
func (s *SSO) Finish(ctx context.Context, ip string, pend *Pending, state, code string) (*Identity, error) {
	if pend == nil || pend.State == "" || subtle.ConstantTimeCompare([]byte(pend.State), []byte(state)) != 1 ||
		s.now().Unix() > pend.Expires || code == "" {
		return nil, ErrSSOState
	}
	p, err := s.discover(ctx)
	if err != nil {
		return nil, err
	}
	conf := s.oauth(p)
	ectx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	tok, err := conf.Exchange(ectx, code, oauth2.VerifierOption(pend.Verifier))
	if err != nil {
		return nil, fmt.Errorf("%w (%v)", ErrSSOToken, err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, fmt.Errorf("%w (no id_token)", ErrSSOToken)
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: s.cfg.ClientID, Now: s.now}).Verify(ectx, raw)
	if err != nil {
		return nil, fmt.Errorf("%w (%v)", ErrSSOToken, err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(pend.Nonce)) != 1 {
		return nil, fmt.Errorf("%w (nonce)", ErrSSOToken)
	}
	if !textOK(idt.Issuer) || !textOK(idt.Subject) {
		return nil, fmt.Errorf("%w (issuer or subject is no text)", ErrSSOToken)
	}
	c := claims{}
	if err := idt.Claims(&c); err != nil {
		return nil, fmt.Errorf("%w (%v)", ErrSSOToken, err)
	}
	// The userinfo endpoint may say more (profile, groups); it must be of
	// the same person.
	if info, err := p.UserInfo(ectx, oauth2.StaticTokenSource(tok)); err == nil && info.Subject == idt.Subject {
		more := claims{}
		if info.Claims(&more) == nil {
			for k, v := range more {
				if _, ok := c[k]; !ok {
					c[k] = v
				}
			}
		}
	}
	return s.signIn(ctx, ip, idt.Issuer, idt.Subject, c)
}

// signIn finds or makes the account of subject at issuer.
func (s *SSO) signIn(ctx context.Context, ip, issuer, subject string, c claims) (*Identity, error) {
	u, err := s.db.Users.ByIdentity(ctx, issuer, subject)
	switch {
	case errors.Is(err, models.ErrNotFound):
		// The account's making is an audit entry of its own, as is a
		// change of teams below: the request's is its sign-in.
		actx, _ := models.WithAuditing(ctx, models.AuditingOf(ctx).Actor())
		if u, err = s.provision(actx, issuer, subject, c); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	}
	if u.Disabled {
		return nil, ErrSSODisabled
	}
	if s.cfg.GroupsClaim != "" {
		groups := c.strings(s.cfg.GroupsClaim)
		actx, _ := models.WithAuditing(ctx, models.Actor{Name: u.Username, Kind: models.ActorUser, Address: ip})
		noteAccount(actx, "team.sync", u.Username, "groups "+strings.Join(groups, " "))
		if _, err := s.db.Teams.SyncGroups(actx, u.ID, groups); err != nil {
			return nil, err
		}
	}
	return s.accounts.Lookup(ctx, u.ID)
}

// provision makes the account of a person signing in for the first time:
// its name from the username claim (made a valid name, and unique with a
// number), its address from the email claim.
func (s *SSO) provision(ctx context.Context, issuer, subject string, c claims) (*models.User, error) {
	email := strings.TrimSpace(c.str("email"))
	if email == "" || !validEmail(email) {
		return nil, ErrSSONoEmail
	}
	if verified, _ := c["email_verified"].(bool); s.cfg.RequireVerifiedEmail && !verified {
		return nil, ErrSSOUnverified
	}
	base := usernameFrom(c.str(s.cfg.UsernameClaim))
	if base == "" {
		base = usernameFrom(strings.SplitN(email, "@", 2)[0])
	}
	if base == "" {
		base = "user"
	}
	noteAccount(ctx, "user.create", base, "single sign-on")
	for n := 1; n <= 50; n++ {
		name := base
		if n > 1 {
			suffix := fmt.Sprintf("-%d", n)
			name = strings.TrimRight(base[:min(len(base), 64-len(suffix))], "-_") + suffix
		}
		if !ValidNamespaceName(name) {
			continue
		}
		verified, _ := c["email_verified"].(bool)
		u := &models.User{Username: name, Email: email, PasswordHash: "!sso", EmailVerified: verified}
		err := s.db.Users.CreateLinked(ctx, u, issuer, subject)
		switch {
		case err == nil:
			return u, nil
		case errors.Is(err, models.ErrEmailTaken):
			return nil, ErrSSOEmailTaken
		case errors.Is(err, models.ErrConflict):
			// The name is taken (or the person signed in twice at once:
			// then the identity is linked now).
			if u, err := s.db.Users.ByIdentity(ctx, issuer, subject); err == nil {
				return u, nil
			}
			continue
		default:
			return nil, err
		}
	}
	return nil, fmt.Errorf("no free name for %q", base)
}

var notName = regexp.MustCompile(`[^a-z0-9_-]+`)

// usernameFrom makes a claim a name Wharf accepts: lowercase letters,
// digits, - and _, starting with a letter or digit, 2 to 64 of them.
func usernameFrom(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if at := strings.IndexByte(s, '@'); at > 0 {
		s = s[:at]
	}
	s = strings.Trim(notName.ReplaceAllString(s, "-"), "-_")
	if len(s) > 64 {
		s = strings.TrimRight(s[:64], "-_")
	}
	if len(s) < 2 {
		return ""
	}
	return s
}

// textOK reports whether s is text a database stores: valid UTF-8
// without NUL, and not empty.
func textOK(s string) bool {
	return s != "" && len(s) <= 1024 && utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}
