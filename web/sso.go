package web

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/wharfhub/wharf/server/auth"
	"github.com/wharfhub/wharf/server/reqlog"
)

// ssoPages sign people in through the OpenID Connect provider:
// GET /signin/sso sends the browser there, with the sign-in under way
// sealed in a cookie; GET /signin/sso/callback comes back, and signs the
// account in (made at the first sign-in).
type ssoPages struct {
	*renderer
	sso *auth.SSO
}

const ssoCookie = "wharf_sso"

// start serves GET /signin/sso.
func (w *ssoPages) start(c *gin.Context) {
	u, pend, err := w.sso.Begin(c.Request.Context(), safeNext(c.Query("next")))
	if err != nil {
		w.refuse(c, http.StatusBadGateway, err)
		return
	}
	b, _ := json.Marshal(pend)
	sess, _ := w.sessions.sso.New(c.Request, ssoCookie)
	sess.Values["pending"] = string(b)
	if err := sess.Save(c.Request, c.Writer); err != nil {
		w.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, u)
}

// callback serves GET /signin/sso/callback.
func (w *ssoPages) callback(c *gin.Context) {
	var pend *auth.Pending
	if sess, err := w.sessions.sso.Get(c.Request, ssoCookie); err == nil {
		if raw, ok := sess.Values["pending"].(string); ok {
			_ = json.Unmarshal([]byte(raw), &pend)
		}
		// One use: whatever comes next, this sign-in is spent.
		sess.Options.MaxAge = -1
		_ = sess.Save(c.Request, c.Writer)
	}
	if msg := c.Query("error"); msg != "" {
		w.refuse(c, http.StatusUnauthorized, errProviderRefused)
		return
	}
	id, err := w.sso.Finish(c.Request.Context(), w.cfg.ClientAddr.IP(c.Request), pend, c.Query("state"), c.Query("code"))
	if err != nil {
		w.refuse(c, http.StatusUnauthorized, err)
		return
	}
	if err := w.sessions.login(c.Writer, c.Request, id); err != nil {
		w.fail(c, err)
		return
	}
	w.addFlash(c, "ok", "Signed in as "+id.Username+". For docker and the API, make an access token in Settings.")
	redirectTo(c, pend.Next)
}

// refuse shows the sign-in page with why single sign-on failed; the log
// has the details.
func (w *ssoPages) refuse(c *gin.Context, status int, err error) {
	msg := "The sign-in did not work: try again, or ask a site administrator."
	for _, known := range []error{auth.ErrSSOState, auth.ErrSSOProvider, auth.ErrSSOToken, auth.ErrSSOUnverified,
		auth.ErrSSONoEmail, auth.ErrSSOEmailTaken, auth.ErrSSODisabled, errProviderRefused} {
		if errors.Is(err, known) {
			msg = known.Error()
			break
		}
	}
	reqlog.From(c.Request.Context(), w.log).Warn("single sign-on refused", "err", err)
	w.render(c, status, "signin.html", "Sign in", authForm{Error: msg})
}

var errProviderRefused = errors.New("The sign-in provider refused the sign-in.")
