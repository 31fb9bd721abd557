package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/auth"
	"github.com/wharfhub/wharf/server/textcheck"
)

type authForm struct {
	Next     string
	Username string
	Email    string
	Error    string
	Signup   bool
}

// safeNext keeps post-login redirects on this site.
func safeNext(s string) string {
	if !localPath(s) {
		return "/"
	}
	return s
}

// localPath reports whether s is a path on this site and nothing else: it
// is parsed, not pattern-matched, and refused if the raw or the decoded
// form holds a control character or a backslash, which browsers drop or
// read as "/" (so "/%09/evil.example" would leave the site).
func localPath(s string) bool {
	if len(s) > 2048 || !strings.HasPrefix(s, "/") {
		return false
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return false
	}
	query, err := url.QueryUnescape(u.RawQuery)
	if err != nil {
		return false
	}
	for _, v := range []string{s, u.Path, query, u.Fragment} {
		if strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }) {
			return false
		}
	}
	return strings.HasPrefix(u.Path, "/") && !strings.HasPrefix(u.Path, "//")
}

func (w *accountPages) signupForm(c *gin.Context) {
	if !w.cfg.AllowSignup {
		w.renderError(c, http.StatusForbidden, "Sign-up is turned off on this server. Ask an administrator for an account.")
		return
	}
	w.render(c, http.StatusOK, "signup.html", "Sign up", authForm{Signup: true, Next: safeNext(c.Query("next"))})
}

// signup creates an account from the form. Only username, email and
// password are read: nothing else in the form can set a field.
func (w *accountPages) signup(c *gin.Context) {
	if !w.cfg.AllowSignup {
		w.renderError(c, http.StatusForbidden, "Sign-up is turned off on this server.")
		return
	}
	f := authForm{Signup: true, Username: strings.TrimSpace(c.PostForm("username")), Email: strings.TrimSpace(c.PostForm("email")), Next: safeNext(c.PostForm("next"))}
	if c.PostForm("password") != c.PostForm("password2") {
		f.Error = "The two passwords differ."
		w.render(c, http.StatusBadRequest, "signup.html", "Sign up", f)
		return
	}
	u, err := w.accounts.CreateUser(c.Request.Context(), f.Username, f.Email, c.PostForm("password"), false)
	if err != nil {
		switch {
		case errors.Is(err, auth.ErrInvalidUsername), errors.Is(err, auth.ErrInvalidEmail),
			errors.Is(err, auth.ErrInvalidPassword), errors.Is(err, auth.ErrUsernameTaken), errors.Is(err, auth.ErrEmailTaken):
			f.Error = textcheck.Sentence(err.Error())
			w.render(c, http.StatusBadRequest, "signup.html", "Sign up", f)
		default:
			w.fail(c, err)
		}
		return
	}
	id := &auth.Identity{UserID: u.ID, Username: u.Username}
	if err := w.sessions.login(c.Writer, c.Request, id); err != nil {
		w.fail(c, err)
		return
	}
	welcome := "Welcome to Wharf, " + u.Username + "!"
	if w.recovery != nil && w.recovery.MailEnabled() {
		if err := w.recovery.StartVerification(c.Request.Context(), u.ID, u.Email); err != nil {
			w.fail(c, err)
			return
		}
		welcome += " We mailed " + u.Email + " a link that verifies it."
	}
	w.addFlash(c, "ok", welcome)
	redirectTo(c, f.Next)
}

func (w *accountPages) signinForm(c *gin.Context) {
	w.render(c, http.StatusOK, "signin.html", "Sign in", authForm{Next: safeNext(c.Query("next"))})
}

func (w *accountPages) signin(c *gin.Context) {
	f := authForm{Username: strings.TrimSpace(c.PostForm("username")), Next: safeNext(c.PostForm("next"))}
	id, err := w.accounts.Authenticate(c.Request.Context(), w.cfg.ClientAddr.IP(c.Request), f.Username, c.PostForm("password"))
	var th *auth.ErrThrottled
	switch {
	case errors.As(err, &th):
		c.Header("Retry-After", strconv.Itoa(int(th.RetryAfter.Seconds())+1))
		f.Error = textcheck.Sentence(th.Error())
		w.render(c, http.StatusTooManyRequests, "signin.html", "Sign in", f)
		return
	case errors.Is(err, auth.ErrBadCredentials):
		f.Error = "Incorrect username or password."
		w.render(c, http.StatusUnauthorized, "signin.html", "Sign in", f)
		return
	case errors.Is(err, auth.ErrPasswordsOff):
		f.Error = err.Error()
		w.render(c, http.StatusUnauthorized, "signin.html", "Sign in", f)
		return
	case err != nil:
		w.fail(c, err)
		return
	}
	if id.TokenID != 0 || id.IsRobot() {
		f.Error = "Sign in with your password; access tokens and robot accounts are for docker and the API."
		w.render(c, http.StatusUnauthorized, "signin.html", "Sign in", f)
		return
	}
	if err := w.sessions.login(c.Writer, c.Request, id); err != nil {
		w.fail(c, err)
		return
	}
	redirectTo(c, f.Next)
}

func (w *accountPages) signout(c *gin.Context) {
	w.sessions.logout(c.Writer, c.Request)
	w.addFlash(c, "ok", "You are signed out.")
	redirectTo(c, "/")
}

type settingsData struct {
	Email    string
	Tokens   []models.AccessToken
	NewToken string
	Orgs     []models.Member
	Scopes   []string
	// EmailVerified says whether Email is verified; with Verification
	// (mail is set up), PendingEmail is an address waiting for its link.
	EmailVerified, Verification bool
	PendingEmail                string
}

func (w *accountPages) accountSettings(c *gin.Context) {
	id := w.requireUser(c)
	if id == nil {
		return
	}
	ctx := c.Request.Context()
	u, err := w.users.Get(ctx, id.UserID)
	if err != nil {
		w.fail(c, err)
		return
	}
	toks, err := w.accounts.ListTokens(ctx, id)
	if err != nil {
		w.fail(c, err)
		return
	}
	orgs, err := w.orgs.OfUser(ctx, id.UserID)
	if err != nil {
		w.fail(c, err)
		return
	}
	d := settingsData{Email: u.Email, Tokens: toks, Orgs: orgs, Scopes: auth.AllScopes, EmailVerified: u.EmailVerified}
	if w.recovery != nil && w.recovery.MailEnabled() {
		d.Verification, d.PendingEmail = true, w.recovery.PendingEmail(ctx, u.ID)
	}
	// A token's secret is shown once, right after it is made.
	if sess, err := w.sessions.cookies.Get(c.Request, "wharf_newtoken"); err == nil {
		if s, ok := sess.Values["t"].(string); ok {
			d.NewToken = s
			sess.Options.MaxAge = -1
			sess.Options.Path = "/settings"
			_ = sess.Save(c.Request, c.Writer)
		}
	}
	c.Header("Cache-Control", "no-store")
	w.render(c, http.StatusOK, "settings.html", "Settings", d)
}

func (w *accountPages) changePassword(c *gin.Context) {
	id := w.requireUser(c)
	if id == nil {
		return
	}
	if c.PostForm("new_password") != c.PostForm("new_password2") {
		w.addFlash(c, "error", "The two new passwords differ.")
		redirectTo(c, "/settings")
		return
	}
	// Other browsers signed in as this user are signed out; this one stays.
	err := w.accounts.ChangePassword(c.Request.Context(), id, w.cfg.ClientAddr.IP(c.Request), c.PostForm("old_password"), c.PostForm("new_password"),
		pc(c).session.IDHash)
	switch {
	case errors.Is(err, auth.ErrBadCredentials):
		w.addFlash(c, "error", "Your current password is not right.")
	case errors.Is(err, auth.ErrPasswordsOff):
		w.addFlash(c, "error", err.Error())
	case errors.Is(err, auth.ErrInvalidPassword):
		w.addFlash(c, "error", textcheck.Sentence(err.Error()))
	case err != nil:
		w.fail(c, err)
		return
	default:
		w.addFlash(c, "ok", "Your password is changed.")
	}
	redirectTo(c, "/settings")
}

func (w *accountPages) createToken(c *gin.Context) {
	id := w.requireUser(c)
	if id == nil {
		return
	}
	scopes := c.PostFormArray("scopes")
	var expires *time.Time
	if days, err := strconv.Atoi(c.PostForm("expires_days")); err == nil && days > 0 {
		t := time.Now().Add(time.Duration(days) * 24 * time.Hour).UTC()
		expires = &t
	}
	t, err := w.accounts.CreateToken(c.Request.Context(), id, c.PostForm("name"), scopes, nil, expires)
	if err != nil {
		if errors.Is(err, auth.ErrTokenName) || errors.Is(err, auth.ErrInvalidScope) {
			w.addFlash(c, "error", textcheck.Sentence(err.Error()))
			redirectTo(c, "/settings")
			return
		}
		w.fail(c, err)
		return
	}
	sess, _ := w.sessions.cookies.New(c.Request, "wharf_newtoken")
	sess.Values["t"] = t.Secret
	sess.Options.MaxAge = 120
	sess.Options.Path = "/settings"
	_ = sess.Save(c.Request, c.Writer)
	w.addFlash(c, "ok", "Token "+t.Name+" created. Copy it now: it will not be shown again.")
	redirectTo(c, "/settings#tokens")
}

func (w *accountPages) revokeToken(c *gin.Context) {
	id := w.requireUser(c)
	if id == nil {
		return
	}
	tid, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	if err := w.accounts.RevokeToken(c.Request.Context(), id, tid); err != nil {
		w.fail(c, err)
		return
	}
	w.addFlash(c, "ok", "Token revoked.")
	redirectTo(c, "/settings#tokens")
}

func (w *accountPages) revokeAllTokens(c *gin.Context) {
	id := w.requireUser(c)
	if id == nil {
		return
	}
	n, err := w.accounts.RevokeAllTokens(c.Request.Context(), id)
	if err != nil {
		w.fail(c, err)
		return
	}
	w.addFlash(c, "ok", fmt.Sprintf("%d tokens revoked.", n))
	redirectTo(c, "/settings#tokens")
}

// changeEmail serves POST /settings/email: with mail set up, the new
// address is mailed a link and replaces the old once verified; without,
// it replaces it at once.
func (w *accountPages) changeEmail(c *gin.Context) {
	id := w.requireUser(c)
	if id == nil {
		return
	}
	email := strings.TrimSpace(c.PostForm("email"))
	var err error
	msg := "Your address is " + email + " now."
	if w.recovery != nil && w.recovery.MailEnabled() {
		err = w.recovery.StartVerification(c.Request.Context(), id.UserID, email)
		msg = "We mailed " + email + " a link: your address changes once you open it."
	} else {
		err = w.accounts.SetEmail(c.Request.Context(), id.UserID, email)
	}
	switch {
	case errors.Is(err, auth.ErrInvalidEmail), errors.Is(err, auth.ErrEmailTaken):
		w.addFlash(c, "error", textcheck.Sentence(err.Error()))
	case err != nil:
		w.fail(c, err)
		return
	default:
		w.addFlash(c, "ok", msg)
	}
	redirectTo(c, "/settings#email")
}

// verifyPage serves GET /verify-email?token=...: the link mailed to an
// address verifies it.
func (w *accountPages) verifyPage(c *gin.Context) {
	c.Header("Referrer-Policy", "no-referrer")
	u, err := w.recovery.VerifyEmail(c.Request.Context(), c.Query("token"))
	switch {
	case errors.Is(err, auth.ErrVerifyLink), errors.Is(err, auth.ErrEmailTaken):
		w.renderError(c, http.StatusBadRequest, textcheck.Sentence(err.Error()))
		return
	case err != nil:
		w.fail(c, err)
		return
	}
	w.addFlash(c, "ok", u.Email+" is verified: it is the address of "+u.Username+".")
	redirectTo(c, "/")
}

// deleteAccount serves POST /settings/delete: the account, with its
// repositories, once its name is typed to confirm.
func (w *accountPages) deleteAccount(c *gin.Context) {
	id := w.requireUser(c)
	if id == nil {
		return
	}
	if c.PostForm("confirm") != id.Username {
		w.addFlash(c, "error", "To delete your account, type its name, "+id.Username+", in the box.")
		redirectTo(c, "/settings#delete")
		return
	}
	err := w.accounts.DeleteUser(c.Request.Context(), id.UserID)
	var sole *models.SoleOwnerError
	switch {
	case errors.As(err, &sole):
		w.addFlash(c, "error", "Nothing was deleted: "+textcheck.Sentence(sole.Error()))
		redirectTo(c, "/settings#delete")
		return
	case err != nil:
		w.fail(c, err)
		return
	}
	w.sessions.logout(c.Writer, c.Request)
	w.addFlash(c, "ok", "Your account and its repositories are deleted.")
	redirectTo(c, "/")
}
