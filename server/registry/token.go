package registry

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/wharfhub/wharf/server/auth"
	"github.com/wharfhub/wharf/server/registry/errcode"
)

// maxTokenForm bounds a POST to the token realm: a few credentials and
// at most auth.MaxScopes scopes.
const maxTokenForm = 64 << 10

// token serves the Docker token realm, /v2/token: GET with optional Basic
// credentials (password or personal access token), or POST with a
// password grant. The token grants what was asked, as far as the policy
// allows.
func (h *Handler) token(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	var user, secret string
	var hasCreds bool
	switch r.Method {
	case http.MethodGet:
		user, secret, hasCreds = r.BasicAuth()
	case http.MethodPost:
		r.Body = http.MaxBytesReader(w, r.Body, maxTokenForm)
		if err := r.ParseForm(); err != nil {
			errcode.Write(w, errcode.Unsupported.WithMessage("invalid form").WithStatus(http.StatusBadRequest))
			return
		}
		if gt := r.PostForm.Get("grant_type"); gt != "password" {
			errcode.Write(w, errcode.Unsupported.WithMessage("grant_type %q is not supported; use password", gt).WithStatus(http.StatusBadRequest))
			return
		}
		user, secret, hasCreds = r.PostForm.Get("username"), r.PostForm.Get("password"), true
	default:
		w.Header().Set("Allow", "GET, POST")
		errcode.Write(w, errcode.Unsupported.New())
		return
	}
	var id *auth.Identity
	if hasCreds {
		var err error
		id, err = h.accounts.Authenticate(r.Context(), h.clientAddr.IP(r), user, secret)
		var th *auth.ErrThrottled
		switch {
		case errors.As(err, &th):
			w.Header().Set("Retry-After", fmt.Sprint(int(th.RetryAfter.Seconds())+1))
			errcode.Write(w, errcode.TooManyRequests.WithMessage("%s", th.Error()))
			return
		case errors.Is(err, auth.ErrBadCredentials), errors.Is(err, auth.ErrPasswordsOff):
			w.Header().Set("WWW-Authenticate", `Basic realm="Wharf"`)
			errcode.Write(w, errcode.Unauthorized.WithMessage("%s", err.Error()))
			return
		case err != nil:
			h.fail(w, r, err)
			return
		}
	}
	if !hasCreds {
		// No credentials: a verified client certificate may name the
		// caller (docker sends none until it has logged in).
		var err error
		if id, err = h.accounts.CertificateIdentity(r.Context()); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	q := r.URL.Query()
	if r.Method == http.MethodPost {
		q = r.PostForm
	}
	scopes, err := auth.ParseScopes(q["scope"])
	if err != nil {
		errcode.Write(w, errcode.Denied.WithMessage("%s", err.Error()).WithStatus(http.StatusBadRequest))
		return
	}
	tok, issued, err := h.tokens.Issue(r.Context(), id, scopes)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if hasCreds {
		if err := h.accounts.SignedIn(r.Context(), id, "registry token"); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	body, _ := json.Marshal(map[string]any{
		"token":        tok,
		"access_token": tok,
		"expires_in":   int(auth.TokenTTL.Seconds()),
		"issued_at":    issued.UTC().Format(time.RFC3339),
	})
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}
