package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/events"
	"github.com/wharfhub/wharf/server/textcheck"
)

// The texts of the errors below are the messages people read, on the
// pages, in the API and in docker's output: whole sentences.

// ErrBadCredentials is the one answer for a wrong user, password or token,
// so that no message tells which was wrong.
var ErrBadCredentials = errors.New("Incorrect username or password.")

// Errors for account input.
var (
	ErrInvalidUsername = errors.New("A username must be 2 to 64 characters: lowercase letters, digits, '-' or '_', starting with a letter or digit.")
	ErrInvalidPassword = errors.New("A password must be 8 to 72 characters, without control characters.")
	ErrInvalidEmail    = errors.New("That is not a valid e-mail address.")
	ErrUsernameTaken   = errors.New("That name is taken.")
	ErrEmailTaken      = errors.New("An account with that e-mail address exists.")
	// ErrPasswordsOff refuses a right password where passwords are off.
	ErrPasswordsOff = errors.New("Password sign-in is off on this server: sign in with single sign-on, and give docker and the API an access token.")
)

var (
	emailRE = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
)

// The kinds of account text, as the one text validator checks them.
// Usernames need no kind: their pattern admits nothing else.
var (
	emailText     = textcheck.Kind{Name: "email address", Max: 254}
	passwordText  = textcheck.Kind{Name: "password", Max: 72}
	tokenNameText = textcheck.Kind{Name: "token name", Max: 100}
	// repositoryText bounds the repositories a token is limited to; they
	// are only ever compared with valid names, so no pattern is needed.
	repositoryText = textcheck.Kind{Name: "repository", Max: 255}
)

// validEmail reports whether s is an email address Wharf stores.
func validEmail(s string) bool { return emailText.Valid(s) && emailRE.MatchString(s) }

// ValidNamespaceName reports whether s is a valid user or organization
// name (Docker Hub's rules).
func ValidNamespaceName(s string) bool { return textcheck.NamespaceName(s) }

// bcryptCost is the work factor for password hashes.
const bcryptCost = 11

// Accounts creates and authenticates accounts.
type Accounts struct {
	db       *models.DB
	throttle *Throttle
	// events, if set, learns of created and deleted accounts.
	events *events.Bus
	// verified caches recent successful password checks by a hash of the
	// credentials, so Basic auth on every request does not pay bcrypt.
	// Entries die with verifiedTTL, and count only while the account's
	// password hash is unchanged.
	mu       sync.Mutex
	verified map[[32]byte]cachedLogin
	dummy    []byte
	touched  map[int64]time.Time // token last-use writes, at most one a minute

	// PasswordsForAdminsOnly turns password sign-in off for everyone but
	// site administrators (--oidc-only): people sign in through single
	// sign-on, and docker and the API take their access tokens. Set it
	// before serving.
	PasswordsForAdminsOnly bool

	// Notices, if set, mail accounts what was done to them. Set it
	// before serving.
	Notices *Notices
}

type cachedLogin struct {
	hash    string // the password hash the check was made against
	expires time.Time
}

const verifiedTTL = time.Minute

// NewAccounts makes the account service; bus, which may be nil, learns of
// created and deleted accounts.
func NewAccounts(db *models.DB, throttle *Throttle, bus *events.Bus) *Accounts {
	dummy, _ := bcrypt.GenerateFromPassword([]byte("wharf-dummy-password"), bcryptCost)
	return &Accounts{db: db, throttle: throttle, events: bus, verified: map[[32]byte]cachedLogin{}, dummy: dummy, touched: map[int64]time.Time{}}
}

// CreateUser validates and creates an account. Its email address, without
// surrounding space, must be one no other account has, in any case
// (ErrEmailTaken).
func (a *Accounts) CreateUser(ctx context.Context, username, email, password string, admin bool) (*models.User, error) {
	noteAccount(ctx, "user.create", username, fmt.Sprintf("admin %t", admin))
	if !ValidNamespaceName(username) {
		return nil, ErrInvalidUsername
	}
	email = strings.TrimSpace(email)
	if !validEmail(email) {
		return nil, ErrInvalidEmail
	}
	hash, err := hashPassword(password)
	if err != nil {
		return nil, err
	}
	// An address an admin (or a command) gives counts as verified; a
	// sign-up's is sent a link (Recovery.StartVerification).
	u := &models.User{Username: username, Email: email, PasswordHash: hash, IsAdmin: admin, EmailVerified: true}
	if err := a.db.Users.Create(ctx, u); err != nil {
		switch {
		case errors.Is(err, models.ErrConflict):
			return nil, ErrUsernameTaken
		case errors.Is(err, models.ErrEmailTaken):
			return nil, ErrEmailTaken
		}
		return nil, fmt.Errorf("create user: %w", err)
	}
	a.events.Publish(events.Event{Kind: events.NamespaceCreated, Namespace: u.Username, Actor: "user"})
	return u, nil
}

func hashPassword(password string) (string, error) {
	if len(password) < 8 || !passwordText.Valid(password) {
		return "", ErrInvalidPassword
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcryptCost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(hash), nil
}

// ChangePassword checks the old password and sets a new one. It ends every
// web session of the account but keepSession (the id hash of the session
// that asked, or "" for none) and forgets cached password checks, so the
// old password stops working everywhere at once. Personal access tokens
// are kept: they are revoked one by one or all at once (RevokeAllTokens).
func (a *Accounts) ChangePassword(ctx context.Context, id *Identity, ip, old, new, keepSession string) error {
	noteAccount(ctx, "user.password", id.Username, "")
	if _, err := a.checkPassword(ctx, ip, id.Username, old); err != nil {
		return err
	}
	hash, err := hashPassword(new)
	if err != nil {
		return err
	}
	if err := a.db.Users.SetPassword(ctx, id.UserID, hash); err != nil {
		return err
	}
	a.forget()
	if err := a.db.Sessions.DeleteForUser(ctx, id.UserID, keepSession); err != nil {
		return fmt.Errorf("end sessions: %w", err)
	}
	a.Notices.notify(ctx, a.db, id.UserID, "Your Wharf password was changed", "The password of your Wharf account was changed, and your other browsers were signed out.")
	return nil
}

// forget drops every cached login, after any account change that could
// invalidate one.
func (a *Accounts) forget() {
	a.mu.Lock()
	a.verified = map[[32]byte]cachedLogin{}
	a.mu.Unlock()
}

// SetDisabled disables or enables an account; a disabled account cannot
// log in or use its tokens.
func (a *Accounts) SetDisabled(ctx context.Context, userID int64, disabled bool) error {
	a.noteUser(ctx, "user.disable", userID, fmt.Sprintf("disabled %t", disabled))
	err := a.db.Users.SetDisabled(ctx, userID, disabled)
	a.forget()
	return err
}

// SetAdmin makes an account a site administrator, or not; the last one
// stays (models.ErrLastAdmin).
func (a *Accounts) SetAdmin(ctx context.Context, userID int64, admin bool) error {
	a.noteUser(ctx, "user.admin", userID, fmt.Sprintf("admin %t", admin))
	err := a.db.Users.SetAdmin(ctx, userID, admin)
	a.forget()
	return err
}

// DeleteUser deletes an account with its repositories.
func (a *Accounts) DeleteUser(ctx context.Context, userID int64) error {
	a.noteUser(ctx, "user.delete", userID, "")
	u, err := a.db.Users.Get(ctx, userID)
	if err != nil {
		return err
	}
	err = a.db.Users.Delete(ctx, userID)
	a.forget()
	if err == nil {
		a.events.Publish(events.Event{Kind: events.NamespaceDeleted, Namespace: u.Username})
	}
	return err
}

// Authenticate checks a username with a password or a personal access
// token, as Basic auth carries them. The username is compared without
// case, as names are stored lowercase: "Alice" signs in as alice, on the
// web, with docker login and in the API alike. Repeated failures for one
// name from one address, or from one address altogether, are throttled
// (ErrThrottled; see Throttle), by the name in lowercase.
func (a *Accounts) Authenticate(ctx context.Context, ip, username, secret string) (*Identity, error) {
	id, err := a.authenticate(ctx, ip, username, secret)
	if err != nil {
		kind := models.ActorUser
		if IsRobotName(username) {
			kind = models.ActorRobot
		}
		a.auditFailure(ctx, ip, foldName(username), kind, err)
		return nil, err
	}
	Acting(ctx, id)
	return id, nil
}

func (a *Accounts) authenticate(ctx context.Context, ip, username, secret string) (*Identity, error) {
	username = foldName(username)
	// A verified client certificate of this account is its credential:
	// the password given beside it (docker login asks for one) is not
	// looked at.
	if id, err := a.CertificateIdentity(ctx); err != nil {
		return nil, err
	} else if id != nil && ConstantTimeEqual(id.Username, username) {
		return id, nil
	}
	if IsRobotName(username) {
		return a.authenticateRobot(ctx, ip, username, secret)
	}
	if strings.HasPrefix(secret, TokenPrefix) {
		id, err := a.authenticateToken(ctx, ip, secret)
		if err != nil {
			return nil, err
		}
		if !ConstantTimeEqual(id.Username, username) {
			// A good token under another name guesses no password: it
			// counts with the token failures.
			a.throttle.FailToken(ip)
			return nil, ErrBadCredentials
		}
		return id, nil
	}
	return a.checkPassword(ctx, ip, username, secret)
}

// checkPassword authenticates username and password. Unknown users cost a
// bcrypt comparison too, so timing does not reveal which accounts exist.
func (a *Accounts) checkPassword(ctx context.Context, ip, username, password string) (*Identity, error) {
	username = foldName(username)
	if err := a.throttle.Check(ip, username); err != nil {
		return nil, err
	}
	key := sha256.Sum256([]byte(username + "\x00" + password))
	u, err := a.UserByName(ctx, username)
	if err != nil && !errors.Is(err, models.ErrNotFound) {
		return nil, err
	}
	// A cached check counts only while the account still has the hash it
	// was made against: another replica may have changed the password or
	// disabled the account since, without this one hearing of it.
	a.mu.Lock()
	c, ok := a.verified[key]
	a.mu.Unlock()
	if ok && time.Now().Before(c.expires) && u != nil && !u.Disabled && u.PasswordHash == c.hash {
		if a.PasswordsForAdminsOnly && !u.IsAdmin {
			return nil, ErrPasswordsOff
		}
		return &Identity{UserID: u.ID, Username: u.Username, IsAdmin: u.IsAdmin}, nil
	}
	// An account made by single sign-on has no password: it costs the
	// same comparison, and matches nothing.
	hash, usable := a.dummy, u != nil && strings.HasPrefix(u.PasswordHash, "$2")
	if usable {
		hash = []byte(u.PasswordHash)
	}
	match := bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil && usable
	if u == nil || !match || u.Disabled {
		a.throttle.Fail(ip, username)
		return nil, ErrBadCredentials
	}
	if a.PasswordsForAdminsOnly && !u.IsAdmin {
		return nil, ErrPasswordsOff
	}
	id := Identity{UserID: u.ID, Username: u.Username, IsAdmin: u.IsAdmin}
	a.mu.Lock()
	if len(a.verified) > 10000 {
		a.verified = map[[32]byte]cachedLogin{}
	}
	a.verified[key] = cachedLogin{hash: u.PasswordHash, expires: time.Now().Add(verifiedTTL)}
	a.mu.Unlock()
	return &id, nil
}

// Lookup returns the identity of an account by id (for sessions: it acts
// in the request's audit entries), or
// ErrBadCredentials if it is gone or disabled.
func (a *Accounts) Lookup(ctx context.Context, userID int64) (*Identity, error) {
	u, err := a.db.Users.Get(ctx, userID)
	if errors.Is(err, models.ErrNotFound) || (err == nil && u.Disabled) {
		return nil, ErrBadCredentials
	}
	if err != nil {
		return nil, err
	}
	id := &Identity{UserID: u.ID, Username: u.Username, IsAdmin: u.IsAdmin}
	Acting(ctx, id)
	return id, nil
}

// UserByName finds an account by name. A name no account can have (with
// NUL or invalid UTF-8, say) is not found without asking the database,
// which might refuse it with an error of its own.
func (a *Accounts) UserByName(ctx context.Context, name string) (*models.User, error) {
	if !ValidNamespaceName(name) {
		return nil, models.ErrNotFound
	}
	return a.db.Users.GetByName(ctx, name)
}

// foldName is a username as accounts have it: its ASCII letters in
// lowercase (valid names are ASCII; other text is left as it is, and so
// names no account).
func foldName(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, s)
}

// ConstantTimeEqual compares secrets without leaking where they differ.
func ConstantTimeEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// SetEmail changes an account's email address, which, as for CreateUser,
// no other account may have.
func (a *Accounts) SetEmail(ctx context.Context, userID int64, email string) error {
	a.noteUser(ctx, "user.email", userID, "")
	email = strings.TrimSpace(email)
	if !validEmail(email) {
		return ErrInvalidEmail
	}
	err := a.db.Users.SetEmail(ctx, userID, email)
	if errors.Is(err, models.ErrEmailTaken) {
		return ErrEmailTaken
	}
	return err
}
