package apierr

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/auth"
	"github.com/wharfhub/wharf/server/hub"
	"github.com/wharfhub/wharf/server/mirror"
	"github.com/wharfhub/wharf/server/scan"
	"github.com/wharfhub/wharf/server/textcheck"
)

// Code is one kind of error: its name in the API's JSON, its HTTP status,
// the API's message when the error carries none of its own, and what a
// web page says.
type Code struct {
	Name    string
	Status  int
	Message string
	Page    string
}

var registry = map[string]Code{}

func register(name string, status int, message, page string) Code {
	if _, dup := registry[name]; dup {
		panic("apierr: code " + name + " registered twice")
	}
	c := Code{Name: name, Status: status, Message: message, Page: page}
	registry[name] = c
	return c
}

// The codes. Their names and statuses are part of the API's contract.
var (
	Invalid         = register("invalid", http.StatusBadRequest, "the request is not valid", "That is not valid.")
	InvalidJSON     = register("invalid_json", http.StatusBadRequest, "the body must be a JSON object", "That is not valid.")
	Unauthorized    = register("unauthorized", http.StatusUnauthorized, "authentication required", "Please sign in.")
	Forbidden       = register("forbidden", http.StatusForbidden, "you may not do that", "You do not have permission to do that.")
	NotFound        = register("not_found", http.StatusNotFound, "not found", "There is nothing here, or it is private.")
	Conflict        = register("conflict", http.StatusConflict, "that name is taken", "That name is taken.")
	TooLarge        = register("too_large", http.StatusRequestEntityTooLarge, "the body is too large", "What you sent is too large.")
	TooManyRequests = register("too_many_requests", http.StatusTooManyRequests, "too many requests", "Too many attempts. Please wait and try again.")
	Unavailable     = register("unavailable", http.StatusServiceUnavailable, "the service is not available", "This is not available on this server.")
	Internal        = register("internal", http.StatusInternalServerError, "internal server error", "Something went wrong on our side. Please try again.")
)

// Codes lists every registered code, by name.
func Codes() []Code {
	out := make([]Code, 0, len(registry))
	for _, c := range registry {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Error is an error with its code and the message the caller sees.
type Error struct {
	Code    Code
	Message string
	// RetryAfter, for TooManyRequests, is when the caller may try again.
	RetryAfter time.Duration
	// Cause is the service's error, for the log; never shown to callers.
	Cause error
}

// New is an error of code c with a message for the caller.
func New(c Code, format string, args ...any) *Error {
	return &Error{Code: c, Message: fmt.Sprintf(format, args...)}
}

func (e *Error) Error() string { return e.Code.Name + ": " + e.Message }

// Unwrap gives the cause.
func (e *Error) Unwrap() error { return e.Cause }

// RetryAfterSeconds is the Retry-After header's value: whole seconds,
// rounded up, at least 1.
func (e *Error) RetryAfterSeconds() int { return int(e.RetryAfter.Seconds()) + 1 }

// invalidInputs are the services' refusals of a bad value; their text is
// the message.
var invalidInputs = []error{
	textcheck.ErrInvalid,
	auth.ErrInvalidPassword, auth.ErrInvalidEmail, auth.ErrInvalidUsername,
	auth.ErrInvalidScope, auth.ErrTokenName, auth.ErrTokenExpiresAt, auth.ErrTokenRepository,
	scan.ErrBundle,
	auth.ErrAccountDisabled, auth.ErrResetLink,
}

// Of is the one mapping from a service's error to its code. A repository
// the caller may not see is NotFound, never Forbidden.
func Of(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var th *auth.ErrThrottled
	var inv *hub.Invalid
	var immutable *models.ImmutableError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &th):
		return &Error{Code: TooManyRequests, Message: th.Error(), RetryAfter: th.RetryAfter, Cause: err}
	case errors.Is(err, auth.ErrBadCredentials), errors.Is(err, auth.ErrPasswordsOff):
		return &Error{Code: Unauthorized, Message: err.Error(), Cause: err}
	case errors.Is(err, auth.ErrUnauthenticated):
		return &Error{Code: Unauthorized, Message: Unauthorized.Message, Cause: err}
	case errors.Is(err, auth.ErrBroaderToken):
		return &Error{Code: Forbidden, Message: err.Error(), Cause: err}
	case errors.As(err, &immutable):
		return &Error{Code: Forbidden, Message: immutable.Error(), Cause: err}
	case errors.Is(err, auth.ErrDenied):
		return &Error{Code: Forbidden, Message: Forbidden.Message, Cause: err}
	case errors.Is(err, auth.ErrNoAccount):
		return &Error{Code: NotFound, Message: err.Error(), Cause: err}
	case errors.Is(err, models.ErrNotFound): // auth.ErrNotFound (and so hub's) wraps it
		return &Error{Code: NotFound, Message: NotFound.Message, Cause: err}
	case errors.Is(err, models.ErrLastAdmin):
		return &Error{Code: Conflict, Message: err.Error(), Cause: err}
	case errors.Is(err, models.ErrLastOwner):
		return &Error{Code: Conflict, Message: err.Error(), Cause: err}
	case errors.Is(err, auth.ErrEmailTaken), errors.Is(err, models.ErrEmailTaken):
		return &Error{Code: Conflict, Message: err.Error(), Cause: err}
	case errors.Is(err, models.ErrConflict), errors.Is(err, auth.ErrUsernameTaken):
		return &Error{Code: Conflict, Message: Conflict.Message, Cause: err}
	case errors.Is(err, hub.ErrSearchUnavailable):
		return &Error{Code: Unavailable, Message: "search is not available on this server", Cause: err}
	case errors.As(err, &inv):
		return &Error{Code: Invalid, Message: inv.Msg, Cause: err}
	case errors.Is(err, mirror.ErrInvalid):
		return &Error{Code: Invalid, Message: err.Error(), Cause: err}
	case errors.Is(err, mirror.ErrFromFlags):
		return &Error{Code: Conflict, Message: err.Error(), Cause: err}
	}
	for _, bad := range invalidInputs {
		if errors.Is(err, bad) {
			return &Error{Code: Invalid, Message: err.Error(), Cause: err}
		}
	}
	return &Error{Code: Internal, Message: Internal.Message, Cause: err}
}
