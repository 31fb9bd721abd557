package web

import (
	"net/http"

	"github.com/gorilla/sessions"

	"github.com/wharfhub/wharf/server/auth"
)

// CSRF protection has three layers: Go's CrossOriginProtection refuses
// cross-site requests by their Fetch metadata and Origin (wired around the
// whole server), cookies are SameSite=Lax, and every form carries a token
// that must match the session's (or, before sign-in, a cookie's).
const csrfCookie = "wharf_csrf"

const csrfField = "csrf_token"

// csrfToken returns the form token for this request, setting the
// anonymous cookie when there is no session.
func (w *renderer) csrfToken(rw http.ResponseWriter, r *http.Request, pc *pageCtx) string {
	if pc.session != nil {
		return pc.session.CSRFToken
	}
	sess, _ := w.sessions.cookies.Get(r, csrfCookie)
	tok, _ := sess.Values["t"].(string)
	if tok == "" {
		tok = randomToken()
		sess.Values["t"] = tok
		sess.Options = &sessions.Options{Path: "/", MaxAge: 86400, HttpOnly: true, Secure: w.sessions.secure, SameSite: http.SameSiteLaxMode}
		_ = sess.Save(r, rw)
	}
	return tok
}

// checkCSRF reports whether a state-changing request carries the right
// form token.
func (w *renderer) checkCSRF(r *http.Request, pc *pageCtx) bool {
	return w.checkCSRFToken(r, pc, r.PostFormValue(csrfField))
}

// checkCSRFToken checks the token got that a form sent.
func (w *renderer) checkCSRFToken(r *http.Request, pc *pageCtx, got string) bool {
	if got == "" {
		return false
	}
	if pc.session != nil {
		return auth.ConstantTimeEqual(got, pc.session.CSRFToken)
	}
	sess, err := w.sessions.cookies.Get(r, csrfCookie)
	if err != nil {
		return false
	}
	want, _ := sess.Values["t"].(string)
	return want != "" && auth.ConstantTimeEqual(got, want)
}
