package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/wharfhub/wharf/models"
)

// Identity is an authenticated caller; nil means anonymous.
type Identity struct {
	UserID   int64
	Username string
	IsAdmin  bool
}

// ErrBadCredentials is the one answer for a wrong user or password, so
// that no message tells which was wrong.
var ErrBadCredentials = errors.New("invalid username or password")

// ErrInvalidUsername and friends reject account input.
var (
	ErrInvalidUsername = errors.New("username must be 2-64 characters of lowercase letters, digits, '-' or '_', starting with a letter or digit")
	ErrInvalidPassword = errors.New("password must be at least 8 characters")
	ErrInvalidEmail    = errors.New("email address is invalid")
	ErrUsernameTaken   = errors.New("username is taken")
)

var (
	usernameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{1,63}$`)
	emailRE    = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
)

// bcryptCost is the work factor for password hashes.
const bcryptCost = 11

// Accounts creates and authenticates accounts.
type Accounts struct {
	db *models.DB
	// verified caches recent successful password checks by a hash of the
	// credentials, so Basic auth on every request does not pay bcrypt.
	mu       sync.Mutex
	verified map[[32]byte]cachedLogin
	dummy    []byte
}

type cachedLogin struct {
	id      Identity
	expires time.Time
}

// verifiedTTL bounds how long a password change can lag behind the cache.
const verifiedTTL = time.Minute

// NewAccounts makes the account service.
func NewAccounts(db *models.DB) *Accounts {
	dummy, _ := bcrypt.GenerateFromPassword([]byte("wharf-dummy-password"), bcryptCost)
	return &Accounts{db: db, verified: map[[32]byte]cachedLogin{}, dummy: dummy}
}

// CreateUser validates and creates an account.
func (a *Accounts) CreateUser(ctx context.Context, username, email, password string, admin bool) (*models.User, error) {
	if !usernameRE.MatchString(username) {
		return nil, ErrInvalidUsername
	}
	if !emailRE.MatchString(email) || len(email) > 254 {
		return nil, ErrInvalidEmail
	}
	if len(password) < 8 || len(password) > 72 {
		return nil, ErrInvalidPassword
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcryptCost)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	u := &models.User{Username: username, Email: email, PasswordHash: string(hash), IsAdmin: admin}
	if err := a.db.CreateUser(ctx, u); err != nil {
		if errors.Is(err, models.ErrConflict) {
			return nil, ErrUsernameTaken
		}
		return nil, fmt.Errorf("create user: %w", err)
	}
	return u, nil
}

// CheckPassword authenticates username and password. Unknown users cost a
// bcrypt comparison too, so timing does not reveal which accounts exist.
func (a *Accounts) CheckPassword(ctx context.Context, username, password string) (*Identity, error) {
	key := sha256.Sum256([]byte(username + "\x00" + password))
	a.mu.Lock()
	c, ok := a.verified[key]
	a.mu.Unlock()
	if ok && time.Now().Before(c.expires) {
		id := c.id
		return &id, nil
	}
	u, err := a.db.GetUserByName(ctx, username)
	if err != nil && !errors.Is(err, models.ErrNotFound) {
		return nil, err
	}
	hash := a.dummy
	if u != nil {
		hash = []byte(u.PasswordHash)
	}
	match := bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil
	if u == nil || !match {
		return nil, ErrBadCredentials
	}
	id := Identity{UserID: u.ID, Username: u.Username, IsAdmin: u.IsAdmin}
	a.mu.Lock()
	if len(a.verified) > 10000 {
		a.verified = map[[32]byte]cachedLogin{}
	}
	a.verified[key] = cachedLogin{id: id, expires: time.Now().Add(verifiedTTL)}
	a.mu.Unlock()
	return &id, nil
}

// ConstantTimeEqual compares secrets without leaking where they differ.
func ConstantTimeEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
