package errcode

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// Code is one registered error code of the distribution spec.
type Code struct {
	Value   string
	Message string
	Status  int
}

// The codes of the OCI distribution spec, plus the few Distribution adds
// that clients already understand (UNAVAILABLE, TOOMANYREQUESTS).
var (
	BlobUnknown         = Code{"BLOB_UNKNOWN", "blob unknown to registry", http.StatusNotFound}
	BlobUploadInvalid   = Code{"BLOB_UPLOAD_INVALID", "blob upload invalid", http.StatusBadRequest}
	BlobUploadUnknown   = Code{"BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry", http.StatusNotFound}
	DigestInvalid       = Code{"DIGEST_INVALID", "provided digest did not match uploaded content", http.StatusBadRequest}
	ManifestBlobUnknown = Code{"MANIFEST_BLOB_UNKNOWN", "manifest references a manifest or blob unknown to registry", http.StatusBadRequest}
	ManifestInvalid     = Code{"MANIFEST_INVALID", "manifest invalid", http.StatusBadRequest}
	ManifestUnknown     = Code{"MANIFEST_UNKNOWN", "manifest unknown to registry", http.StatusNotFound}
	NameInvalid         = Code{"NAME_INVALID", "invalid repository name", http.StatusBadRequest}
	NameUnknown         = Code{"NAME_UNKNOWN", "repository name not known to registry", http.StatusNotFound}
	SizeInvalid         = Code{"SIZE_INVALID", "provided length did not match content length", http.StatusBadRequest}
	Unauthorized        = Code{"UNAUTHORIZED", "authentication required", http.StatusUnauthorized}
	Denied              = Code{"DENIED", "requested access to the resource is denied", http.StatusForbidden}
	Unsupported         = Code{"UNSUPPORTED", "the operation is unsupported", http.StatusMethodNotAllowed}
	TooManyRequests     = Code{"TOOMANYREQUESTS", "too many requests", http.StatusTooManyRequests}
	PaginationInvalid   = Code{"PAGINATION_NUMBER_INVALID", "invalid number of results requested", http.StatusBadRequest}
	RangeInvalid        = Code{"RANGE_INVALID", "invalid content range", http.StatusRequestedRangeNotSatisfiable}
	TagInvalid          = Code{"TAG_INVALID", "manifest tag did not match URI", http.StatusBadRequest}
	ManifestTooLarge    = Code{"SIZE_INVALID", "manifest exceeds the size limit", http.StatusRequestEntityTooLarge}
	NotFound            = Code{"NOT_FOUND", "not found", http.StatusNotFound}
	Unavailable         = Code{"UNAVAILABLE", "service unavailable", http.StatusServiceUnavailable}
	Unknown             = Code{"UNKNOWN", "unknown error", http.StatusInternalServerError}
)

// Error is one OCI error: a code, a message and an optional detail.
type Error struct {
	Code    Code
	Message string
	Detail  any
	// Status overrides the code's status when non-zero.
	Status int
	// Cause is logged, never sent to the client.
	Cause error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code.Value, e.Message, e.Cause)
	}
	return e.Code.Value + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Cause }

// HTTPStatus is the status the error is answered with.
func (e *Error) HTTPStatus() int {
	if e.Status != 0 {
		return e.Status
	}
	return e.Code.Status
}

// New makes an error of code with its default message.
func (c Code) New() *Error { return &Error{Code: c, Message: c.Message} }

// WithMessage makes an error of code with a specific message.
func (c Code) WithMessage(format string, args ...any) *Error {
	return &Error{Code: c, Message: fmt.Sprintf(format, args...)}
}

// WithDetail attaches client-visible detail.
func (e *Error) WithDetail(d any) *Error { e.Detail = d; return e }

// WithStatus overrides the HTTP status.
func (e *Error) WithStatus(s int) *Error { e.Status = s; return e }

// Internal wraps an unexpected failure: the client sees UNKNOWN, the log
// sees the cause.
func Internal(cause error) *Error {
	return &Error{Code: Unknown, Message: Unknown.Message, Cause: cause}
}

type wireError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Detail  any    `json:"detail,omitempty"`
}

// Write renders err as OCI error JSON. Any error that is not an *Error is
// answered as UNKNOWN with status 500.
func Write(w http.ResponseWriter, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = Internal(err)
	}
	body, _ := json.Marshal(struct {
		Errors []wireError `json:"errors"`
	}{[]wireError{{Code: e.Code.Value, Message: e.Message, Detail: e.Detail}}})
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", fmt.Sprint(len(body)))
	h.Del("Docker-Content-Digest")
	w.WriteHeader(e.HTTPStatus())
	_, _ = w.Write(body)
}
