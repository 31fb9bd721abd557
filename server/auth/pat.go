package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wharfhub/wharf/models"
)

// TokenPrefix starts every personal access token, so that secret scanners
// and Basic auth can tell a token from a password.
const TokenPrefix = "wharf_pat_"

// Errors for token requests.
var (
	ErrInvalidScope    = errors.New("Scopes must be among read, write, delete and admin.")
	ErrBroaderToken    = errors.New("A token cannot create a token with more scopes or repositories than its own, or one that expires after it.")
	ErrTokenName       = errors.New("A token name must be 1 to 100 characters, on one line, without control characters.")
	ErrTokenExpiresAt  = errors.New("The expiry time (expires_at) must be in the future.")
	ErrTokenRepository = errors.New("A token's repositories must be repository names, such as alice/app.")
)

// NewToken is a token as created: the secret is shown once.
type NewToken struct {
	models.AccessToken
	Secret string
}

func hashToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// CreateToken creates a personal access token for the caller. A caller
// authenticated by a token can only create tokens within its own scopes
// and repositories.
func (a *Accounts) CreateToken(ctx context.Context, id *Identity, name string, scopes, repos []string, expires *time.Time) (*NewToken, error) {
	noteAccount(ctx, "token.create", id.Username, "token "+name)
	name = strings.TrimSpace(name)
	if name == "" || !tokenNameText.Valid(name) {
		return nil, ErrTokenName
	}
	if len(scopes) == 0 {
		scopes = []string{ScopeRead, ScopeWrite, ScopeDelete}
	}
	for _, s := range scopes {
		if !slices.Contains(AllScopes, s) {
			return nil, ErrInvalidScope
		}
	}
	for _, r := range repos {
		if r == "" || !repositoryText.Valid(r) {
			return nil, ErrTokenRepository
		}
	}
	if id.Scopes != nil {
		for _, s := range scopes {
			if !slices.Contains(id.Scopes, s) {
				return nil, ErrBroaderToken
			}
		}
		if len(id.Repos) > 0 {
			if len(repos) == 0 {
				return nil, ErrBroaderToken
			}
			for _, r := range repos {
				if !slices.Contains(id.Repos, r) {
					return nil, ErrBroaderToken
				}
			}
		}
	}
	if expires != nil && !expires.After(time.Now()) {
		return nil, ErrTokenExpiresAt
	}
	if parent := id.TokenExpires; parent != nil {
		// A child token expires no later than the token that made it; one
		// that does not say when expires with its parent.
		if expires == nil {
			expires = parent
		} else if expires.After(*parent) {
			return nil, ErrBroaderToken
		}
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, err
	}
	secret := TokenPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	t := models.AccessToken{
		UserID: id.UserID, Name: name, TokenHash: hashToken(secret),
		Scopes: strings.Join(scopes, " "), Repositories: strings.Join(repos, " "), ExpiresAt: expires,
	}
	if err := a.db.Tokens.Create(ctx, &t); err != nil {
		return nil, fmt.Errorf("create token: %w", err)
	}
	a.Notices.notify(ctx, a.db, id.UserID, "A new Wharf access token: "+name, "An access token named %q (scopes %s) was made for your Wharf account.",
		name, strings.Join(scopes, ", "))
	return &NewToken{AccessToken: t, Secret: secret}, nil
}

// AuthenticateToken checks a personal access token. Revoked, expired and
// disabled owners' tokens fail at once: nothing about them is cached.
func (a *Accounts) AuthenticateToken(ctx context.Context, ip, secret string) (*Identity, error) {
	id, err := a.authenticateToken(ctx, ip, secret)
	if err != nil {
		a.auditFailure(ctx, ip, "", models.ActorToken, err)
		return nil, err
	}
	Acting(ctx, id)
	return id, nil
}

func (a *Accounts) authenticateToken(ctx context.Context, ip, secret string) (*Identity, error) {
	if err := a.throttle.CheckToken(ip); err != nil {
		return nil, err
	}
	t, err := a.db.Tokens.GetByHash(ctx, hashToken(secret))
	if errors.Is(err, models.ErrNotFound) {
		a.throttle.FailToken(ip)
		return nil, ErrBadCredentials
	}
	if err != nil {
		return nil, err
	}
	now := time.Now()
	if t.ExpiresAt != nil && now.After(*t.ExpiresAt) {
		return nil, ErrBadCredentials
	}
	u, err := a.db.Users.Get(ctx, t.UserID)
	if err != nil || u.Disabled {
		return nil, ErrBadCredentials
	}
	a.touch(auditUse(ctx, ip, u.Username, models.ActorToken, "token.use", tokenTarget(t)), t.ID, now)
	id := &Identity{UserID: u.ID, Username: u.Username, IsAdmin: u.IsAdmin, TokenID: t.ID, Scopes: strings.Fields(t.Scopes),
		TokenExpires: t.ExpiresAt}
	if t.Repositories != "" {
		id.Repos = strings.Fields(t.Repositories)
	}
	return id, nil
}

// touch records a token's last use, at most once a minute per token.
func (a *Accounts) touch(ctx context.Context, id int64, now time.Time) {
	a.mu.Lock()
	last := a.touched[id]
	if now.Sub(last) < time.Minute {
		a.mu.Unlock()
		return
	}
	if len(a.touched) >= 10000 {
		// Bounded: forget writes older than the minute they throttle.
		for k, t := range a.touched {
			if now.Sub(t) >= time.Minute {
				delete(a.touched, k)
			}
		}
	}
	a.touched[id] = now
	a.mu.Unlock()
	_ = a.db.Tokens.Touch(ctx, id, now.UTC())
}

// ListTokens lists the caller's tokens (never their secrets).
func (a *Accounts) ListTokens(ctx context.Context, id *Identity) ([]models.AccessToken, error) {
	return a.db.Tokens.List(ctx, id.UserID)
}

// RevokeToken deletes one of the caller's tokens; another user's token is
// not found.
func (a *Accounts) RevokeToken(ctx context.Context, id *Identity, tokenID int64) error {
	noteAccount(ctx, "token.delete", id.Username, fmt.Sprintf("token %d", tokenID))
	return a.db.Tokens.Delete(ctx, id.UserID, tokenID)
}

// RevokeAllTokens deletes every token of the caller's account (after a
// leak, or with a password change) and returns how many there were. Only
// a caller that may manage the account gets here.
func (a *Accounts) RevokeAllTokens(ctx context.Context, id *Identity) (int64, error) {
	noteAccount(ctx, "token.delete_all", id.Username, "")
	return a.db.Tokens.DeleteAll(ctx, id.UserID)
}
