package auth

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/wharfhub/wharf/models"
)

// ErrVerifyLink is a verification link that does not work.
var ErrVerifyLink = errors.New("This verification link does not work: it was used, it expired, or a newer one replaced it. Ask for a new one in Settings.")

// verifyTTL is how long a verification link works.
const verifyTTL = 48 * time.Hour

// VerifyPath is the page a verification link opens.
const VerifyPath = "/verify-email"

// StartVerification mails email a link that verifies it for the account
// userID: the address of a sign-up, or a new address, which replaces the
// account's only once verified. The account's other verification links
// stop working. Without mail, it does nothing.
func (r *Recovery) StartVerification(ctx context.Context, userID int64, email string) error {
	if r.mails == nil {
		return nil
	}
	email = strings.TrimSpace(email)
	if !validEmail(email) {
		return ErrInvalidEmail
	}
	if other, err := r.db.Users.GetByEmail(ctx, email); err == nil && other.ID != userID {
		return ErrEmailTaken
	}
	u, err := r.db.Users.Get(ctx, userID)
	if err != nil {
		return err
	}
	noteAccount(ctx, "user.email", u.Username, "verification mailed to "+email)
	secret := resetPrefix + random()
	now := r.now().UTC()
	if err := r.db.Resets.StartVerification(ctx, &models.EmailVerification{UserID: userID, Email: email,
		TokenHash: resetHash(secret), CreatedAt: now, ExpiresAt: now.Add(verifyTTL)}); err != nil {
		return err
	}
	link := r.base + VerifyPath + "?token=" + url.QueryEscape(secret)
	r.mails.mail(email, "Verify your address for Wharf", fmt.Sprintf(`Hello %s,

To verify that this address is yours, for the Wharf account %s at %s, open this link within two days:

%s

If you did not ask for this, ignore this mail.
`, u.Username, u.Username, r.base, link))
	if u.Email != email && u.EmailVerified {
		r.accounts.Notices.notify(ctx, r.db, userID, "Your Wharf address is being changed",
			"The address of your Wharf account is being changed to %s: it takes effect once that address is verified.", email)
	}
	return nil
}

// VerifyEmail spends a verification link: the account's address is the
// one verified from now on.
func (r *Recovery) VerifyEmail(ctx context.Context, secret string) (*models.User, error) {
	if !plausibleReset(secret) {
		return nil, ErrVerifyLink
	}
	noteAccount(ctx, "user.email_verify", "email verification", "")
	u, err := r.db.Resets.Verify(ctx, resetHash(secret), r.now())
	switch {
	case errors.Is(err, models.ErrNotFound):
		return nil, ErrVerifyLink
	case errors.Is(err, models.ErrEmailTaken):
		return nil, ErrEmailTaken
	}
	r.accounts.forget()
	return u, err
}

// PendingEmail is the address waiting for verification for the account.
func (r *Recovery) PendingEmail(ctx context.Context, userID int64) string {
	e, _ := r.db.Resets.PendingEmail(ctx, userID, r.now())
	return e
}
