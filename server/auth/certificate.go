package auth

import (
	"context"
	"errors"
	"strings"

	"github.com/wharfhub/wharf/models"
)

// Certificate is the account a verified TLS client certificate of the
// request names: by its username, or by its email address.
type Certificate struct {
	Username string
	Email    string
}

type certificateKey struct{}

// WithCertificate records the verified client certificate of the request
// in its context; the server does so for every TLS request that
// presented one its client CA signed.
func WithCertificate(ctx context.Context, c Certificate) context.Context {
	return context.WithValue(ctx, certificateKey{}, c)
}

// CertificateIdentity is the account the request's verified client
// certificate names, or nil when it has none, or names no enabled
// account. A certificate is a credential like a password: it may manage
// the account.
func (a *Accounts) CertificateIdentity(ctx context.Context) (*Identity, error) {
	c, ok := ctx.Value(certificateKey{}).(Certificate)
	if !ok {
		return nil, nil
	}
	var u *models.User
	var err error
	switch {
	case c.Username != "":
		u, err = a.UserByName(ctx, strings.ToLower(c.Username))
	case c.Email != "":
		u, err = a.db.Users.GetByEmail(ctx, c.Email)
	default:
		return nil, nil
	}
	if errors.Is(err, models.ErrNotFound) || (err == nil && u.Disabled) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	id := &Identity{UserID: u.ID, Username: u.Username, IsAdmin: u.IsAdmin}
	Acting(ctx, id)
	return id, nil
}
