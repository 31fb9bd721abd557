package web

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/wharfhub/wharf/server/auth"
	"github.com/wharfhub/wharf/server/textcheck"
)

// recoveryPages serve the page a password reset link opens
// (GET /reset-password?token=...) and the new password it sets (POST).
// The link works once: the password is set, every session of the account
// ends, and the person signs in again.
type recoveryPages struct {
	*renderer
	recovery *auth.Recovery
}

type resetForm struct {
	Token, User, Error string
}

// resetPage serves GET /reset-password.
func (w *recoveryPages) resetPage(c *gin.Context) {
	// The secret is in the address: no other site learns it.
	c.Header("Referrer-Policy", "no-referrer")
	f := resetForm{Token: c.Query("token")}
	u, err := w.recovery.Check(c.Request.Context(), f.Token)
	if errors.Is(err, auth.ErrResetLink) {
		w.render(c, http.StatusBadRequest, "reset.html", "Set a new password", resetForm{Error: err.Error()})
		return
	}
	if err != nil {
		w.fail(c, err)
		return
	}
	f.User = u.Username
	w.render(c, http.StatusOK, "reset.html", "Set a new password", f)
}

// reset serves POST /reset-password.
func (w *recoveryPages) reset(c *gin.Context) {
	c.Header("Referrer-Policy", "no-referrer")
	f := resetForm{Token: c.PostForm("token"), User: c.PostForm("user")}
	password := c.PostForm("password")
	if password != c.PostForm("confirm") {
		f.Error = "The two passwords differ: type the same one twice."
		w.render(c, http.StatusBadRequest, "reset.html", "Set a new password", f)
		return
	}
	u, err := w.recovery.Reset(c.Request.Context(), f.Token, password)
	switch {
	case errors.Is(err, auth.ErrResetLink):
		w.render(c, http.StatusBadRequest, "reset.html", "Set a new password", resetForm{Error: err.Error()})
		return
	case errors.Is(err, auth.ErrInvalidPassword):
		f.Error = textcheck.Sentence(err.Error())
		w.render(c, http.StatusBadRequest, "reset.html", "Set a new password", f)
		return
	case err != nil:
		w.fail(c, err)
		return
	}
	// Whoever was signed in on this browser is signed out with the rest.
	w.sessions.logout(c.Writer, c.Request)
	w.addFlash(c, "ok", "Your password is set, "+u.Username+", and every session of your account has ended: sign in with the new password.")
	redirectTo(c, "/signin")
}

type forgotForm struct {
	Who, Error string
	Sent       bool
}

// forgotPage serves GET /forgot-password.
func (w *recoveryPages) forgotPage(c *gin.Context) {
	w.render(c, http.StatusOK, "forgot.html", "Forgot your password?", forgotForm{})
}

// forgot serves POST /forgot-password: the same answer whether or not an
// account goes by what was typed.
func (w *recoveryPages) forgot(c *gin.Context) {
	f := forgotForm{Who: c.PostForm("who")}
	err := w.recovery.RequestByMail(w.cfg.ClientAddr.IP(c.Request), f.Who)
	if errors.Is(err, auth.ErrTooManyResets) {
		f.Error = err.Error()
		w.render(c, http.StatusTooManyRequests, "forgot.html", "Forgot your password?", f)
		return
	}
	if err != nil {
		w.fail(c, err)
		return
	}
	w.render(c, http.StatusOK, "forgot.html", "Forgot your password?", forgotForm{Sent: true})
}
