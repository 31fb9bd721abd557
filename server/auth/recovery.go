package auth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/wharfhub/wharf/models"
)

// ErrResetLink is a reset link that does not work: spent, expired,
// replaced by a newer one, or never issued. One answer for all of them.
var ErrResetLink = errors.New("This reset link does not work: it was used, it expired, or a newer one replaced it. Ask for a new one.")

// Refusals of a link for an account.
var (
	ErrNoAccount       = errors.New("There is no account by that name.")
	ErrAccountDisabled = errors.New("That account is disabled: enable it first.")
)

// DefaultResetTTL is how long a reset link works.
const DefaultResetTTL = time.Hour

// resetPrefix starts every reset secret, so that one pasted by mistake
// is recognisable.
const resetPrefix = "wrr_"

// Recovery issues and redeems password reset links: a secret shown
// once, stored hashed, that works once and for a short while, and that
// ends every session of its account when used.
type Recovery struct {
	accounts *Accounts
	db       *models.DB
	ttl      time.Duration
	// base is the server's base URL, which links start with.
	base string
	now  func() time.Time
	// mails, if set, mails links to whoever asks (WithMail).
	mails *mailResets
}

// NewRecovery makes the recovery service over accounts; links start with
// baseURL and work for ttl (DefaultResetTTL if 0).
func NewRecovery(accounts *Accounts, baseURL string, ttl time.Duration) *Recovery {
	if ttl <= 0 {
		ttl = DefaultResetTTL
	}
	return &Recovery{accounts: accounts, db: accounts.db, ttl: ttl, base: strings.TrimSuffix(baseURL, "/"), now: time.Now}
}

// ResetLink is a link just issued: its URL holds the secret, shown once.
type ResetLink struct {
	URL       string
	User      string
	ExpiresAt time.Time
}

// ResetPath is the page a link opens; the secret is its token parameter
// (a query, which the request log leaves out).
const ResetPath = "/reset-password"

// IssueLink makes a new reset link for the account named user, in place
// of any it had; by says who asked ("" for the account itself). A
// disabled account gets none.
func (r *Recovery) IssueLink(ctx context.Context, user, by string) (*ResetLink, error) {
	name := foldName(user)
	noteAccount(ctx, "user.reset_link", name, "by "+orSelf(by))
	// A name no account can have is no account, without asking the
	// database (which may refuse such text).
	u, err := r.accounts.UserByName(ctx, name)
	if errors.Is(err, models.ErrNotFound) {
		return nil, ErrNoAccount
	}
	if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, ErrAccountDisabled
	}
	secret := resetPrefix + random()
	now := r.now().UTC()
	reset := &models.PasswordReset{UserID: u.ID, TokenHash: resetHash(secret), CreatedBy: by, CreatedAt: now, ExpiresAt: now.Add(r.ttl)}
	if err := r.db.Resets.Create(ctx, reset); err != nil {
		return nil, err
	}
	return &ResetLink{URL: r.base + ResetPath + "?token=" + url.QueryEscape(secret), User: u.Username, ExpiresAt: reset.ExpiresAt}, nil
}

func orSelf(by string) string {
	if by == "" {
		return "the account (e-mail)"
	}
	return by
}

// Check finds the account of a link that works now (ErrResetLink if it
// does not), for the page that asks for the new password.
func (r *Recovery) Check(ctx context.Context, secret string) (*models.User, error) {
	if !plausibleReset(secret) {
		return nil, ErrResetLink
	}
	u, err := r.db.Resets.Live(ctx, resetHash(secret), r.now())
	if errors.Is(err, models.ErrNotFound) {
		return nil, ErrResetLink
	}
	return u, err
}

// Reset spends a link: the account's password becomes password, every
// session of the account ends, and cached password checks are
// forgotten, so the old password stops working everywhere at once.
func (r *Recovery) Reset(ctx context.Context, secret, password string) (*models.User, error) {
	hash, err := hashPassword(password)
	if err != nil {
		return nil, err
	}
	if !plausibleReset(secret) {
		return nil, ErrResetLink
	}
	if u, err := r.db.Resets.Live(ctx, resetHash(secret), r.now()); err == nil {
		noteAccount(ctx, "user.password_reset", u.Username, "")
	}
	u, err := r.db.Resets.Redeem(ctx, resetHash(secret), r.now(), hash)
	if errors.Is(err, models.ErrNotFound) {
		return nil, ErrResetLink
	}
	if err != nil {
		return nil, err
	}
	r.accounts.forget()
	r.accounts.Notices.notify(ctx, r.db, u.ID, "Your Wharf password was reset", "The password of your Wharf account was set with a reset link, and every session of it ended.")
	return u, nil
}

func resetHash(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// plausibleReset reports whether secret could be a reset secret at all,
// so that junk never reaches the database.
func plausibleReset(secret string) bool {
	rest, ok := strings.CutPrefix(secret, resetPrefix)
	if !ok || len(rest) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(rest)
	return err == nil
}
