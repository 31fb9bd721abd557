// Package errcode registers every OCI distribution error code once, with its
// HTTP status, and writes the OCI error JSON. Handlers return *Error values
// and one place renders them.
//
// A Code is a spec code with its default message and status; Code.New and
// Code.WithMessage make an *Error of it, WithDetail and WithStatus adjust
// it. Internal wraps an unexpected failure: its Cause is logged, never
// sent, and the client sees UNKNOWN. Write answers any error, one that is
// not an *Error as UNKNOWN with status 500.
package errcode
