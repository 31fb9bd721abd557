package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/wharfhub/wharf/models"
)

// Notices mail an account what was done to it that it should know of:
// its password changed or reset, a token made.
type Notices struct {
	mail Mailer
	base string
}

// NewNotices mails notices through mail, with links to base.
func NewNotices(mail Mailer, base string) *Notices { return &Notices{mail: mail, base: base} }

// notify mails the account userID subject and body (a format, and what
// follows), if notices are on (n is not nil).
func (n *Notices) notify(ctx context.Context, db *models.DB, userID int64, subject, format string, args ...any) {
	if n == nil {
		return
	}
	u, err := db.Users.Get(ctx, userID)
	if err != nil || u.Email == "" || !u.EmailVerified {
		return // mail goes only to an address known to be the owner's
	}
	body := fmt.Sprintf("Hello %s,\n\n", u.Username) + fmt.Sprintf(format, args...) +
		fmt.Sprintf("\n\nAt %s, %s.\nIf it was not you, reset your password at once (%s/signin) and revoke your access tokens in Settings.\n",
			n.base, time.Now().UTC().Format("2006-01-02 15:04 UTC"), n.base)
	n.mail(u.Email, subject, body)
}
