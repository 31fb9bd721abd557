package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/wharfhub/wharf/server/apierr"
	"github.com/wharfhub/wharf/server/hub"
	"github.com/wharfhub/wharf/server/reqlog"
	"github.com/wharfhub/wharf/server/textcheck"
)

// Pages map a service's error by the one mapping the JSON API uses too
// (apierr.Of): a form shows what the user can fix next to it, and
// anything else becomes a page.

// asInvalid reports whether err is a refusal of what the user typed, with
// its message as a sentence.
func asInvalid(err error, inv **hub.Invalid) bool {
	e := apierr.Of(err)
	if e == nil || e.Code != apierr.Invalid {
		return false
	}
	*inv = &hub.Invalid{Msg: textcheck.Sentence(e.Message)}
	return true
}

func isConflict(err error) bool { return code(err) == apierr.Conflict }
func isDenied(err error) bool   { return code(err) == apierr.Forbidden }

func code(err error) apierr.Code {
	if e := apierr.Of(err); e != nil {
		return e.Code
	}
	return apierr.Code{}
}

// fail turns a service error into a page: a repository the caller may not
// see is the same 404 as a missing one.
func (w *renderer) fail(c *gin.Context, err error) {
	e := apierr.Of(err)
	switch e.Code {
	case apierr.Unauthorized:
		c.Redirect(http.StatusSeeOther, "/signin?next="+url.QueryEscape(c.Request.URL.RequestURI()))
	case apierr.Invalid:
		w.renderError(c, e.Code.Status, textcheck.Sentence(e.Message))
	case apierr.TooManyRequests:
		c.Header("Retry-After", strconv.Itoa(e.RetryAfterSeconds()))
		w.renderError(c, e.Code.Status, textcheck.Sentence(e.Message))
	case apierr.Internal:
		reqlog.From(c.Request.Context(), w.log).Error("page failed", "method", c.Request.Method, "path", c.Request.URL.Path, "err", err)
		w.renderError(c, e.Code.Status, e.Code.Page)
	default:
		w.renderError(c, e.Code.Status, e.Code.Page)
	}
}
