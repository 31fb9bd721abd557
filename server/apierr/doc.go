// Package apierr is the one registry of the hub's error codes, shared by
// the JSON API (/api/v1) and the web pages, and the one mapping from the
// services' errors to them, as server/registry/errcode is for /v2/.
//
// A Code is a name the API writes in its error JSON
// ({"error":{"code":"not_found","message":"..."}}), the HTTP status it
// goes with, and the sentence a web page shows. Of turns any error a
// service returns into an *Error carrying its Code: a repository the
// caller may not see is NotFound, exactly like a missing one, so that no
// door tells the two apart. An error Of does not know is Internal, and
// the HTTP layer logs it; its text never reaches the client.
package apierr
