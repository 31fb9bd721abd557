package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/gorilla/sessions"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/auth"
)

const (
	sessionCookie = "wharf_session"
	sessionTTL    = 30 * 24 * time.Hour
)

// sessionStore signs and encrypts the session cookie (gorilla/sessions)
// and keeps the session itself in the database, so that logging out or
// changing the password ends it for good.
type sessionStore struct {
	cookies  *sessions.CookieStore
	db       *models.DB
	accounts *auth.Accounts
	secure   bool
	// sso seals a single sign-on under way (ssoCookie), with the same keys.
	sso *sessions.CookieStore
}

// loadKeys reads the cookie keys from the database, which every replica
// shares, so a cookie set by one is read by all. On first start they are
// taken from dir when an older Wharf left them there, or made anew.
func loadKeys(ctx context.Context, db *models.DB, dir string) (hashKey, blockKey []byte, err error) {
	b, err := db.Site.Secret(ctx, "session-keys", func() ([]byte, error) {
		b, err := os.ReadFile(filepath.Join(dir, "session-keys"))
		if errors.Is(err, os.ErrNotExist) {
			b = make([]byte, 96)
			_, err = rand.Read(b)
		}
		return b, err
	})
	if err != nil {
		return nil, nil, err
	}
	if len(b) != 96 {
		return nil, nil, fmt.Errorf("want 96 bytes of keys, found %d", len(b))
	}
	return b[:64], b[64:], nil
}

func newSessionStore(dir string, secure bool, db *models.DB, accounts *auth.Accounts) (*sessionStore, error) {
	hashKey, blockKey, err := loadKeys(context.Background(), db, dir)
	if err != nil {
		return nil, fmt.Errorf("session keys: %w", err)
	}
	cs := sessions.NewCookieStore(hashKey, blockKey)
	cs.Options = &sessions.Options{
		Path:     "/",
		MaxAge:   int(sessionTTL.Seconds()),
		HttpOnly: true,
		Secure:   secure,
		SameSite: http.SameSiteLaxMode,
	}
	sso := sessions.NewCookieStore(hashKey, blockKey)
	sso.Options = &sessions.Options{Path: "/signin/sso", MaxAge: 600, HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode}
	return &sessionStore{cookies: cs, db: db, accounts: accounts, secure: secure, sso: sso}, nil
}

func hashID(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// current finds the signed-in user of a request, if any.
func (s *sessionStore) current(r *http.Request) (*auth.Identity, *models.Session) {
	sess, err := s.cookies.Get(r, sessionCookie)
	if err != nil {
		return nil, nil
	}
	sid, _ := sess.Values["sid"].(string)
	if sid == "" {
		return nil, nil
	}
	row, err := s.db.Sessions.Get(r.Context(), hashID(sid), time.Now().UTC())
	if err != nil {
		return nil, nil
	}
	id, err := s.accounts.Lookup(r.Context(), row.UserID)
	if err != nil {
		return nil, nil
	}
	return id, row
}

// login starts a new session for id: a fresh session id every time, and
// the session the browser had before is ended.
func (s *sessionStore) login(w http.ResponseWriter, r *http.Request, id *auth.Identity) error {
	if _, old := s.current(r); old != nil {
		_ = s.db.Sessions.Delete(r.Context(), old.IDHash)
	}
	// The session's row and the sign-in's audit entry go together.
	models.Note(r.Context(), models.AuditNote{Action: "signin", Target: id.Username, Namespace: id.Username, Detail: "web session"})
	sid := randomToken()
	now := time.Now().UTC()
	if err := s.db.Sessions.Create(r.Context(), &models.Session{
		IDHash: hashID(sid), UserID: id.UserID, CSRFToken: randomToken(), CreatedAt: now, ExpiresAt: now.Add(sessionTTL),
	}); err != nil {
		return err
	}
	sess, _ := s.cookies.New(r, sessionCookie)
	sess.Values["sid"] = sid
	return sess.Save(r, w)
}

// logout ends the session on the server and clears the cookie.
func (s *sessionStore) logout(w http.ResponseWriter, r *http.Request) {
	if id, row := s.current(r); row != nil {
		models.Note(r.Context(), models.AuditNote{Action: "signout", Target: id.Username, Namespace: id.Username})
		_ = s.db.Sessions.Delete(r.Context(), row.IDHash)
	}
	sess, _ := s.cookies.New(r, sessionCookie)
	sess.Options = &sessions.Options{Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode}
	_ = sess.Save(r, w)
}

// sweep removes expired sessions now and then.
func (s *sessionStore) sweep(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		_ = s.db.Sessions.DeleteExpired(ctx, time.Now().UTC())
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
