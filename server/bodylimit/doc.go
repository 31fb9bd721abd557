// Package bodylimit bounds request bodies before anything reads them: the
// one body limit of every /api/v1 route and every UI form, so that no
// caller, signed in or not, can make the server hold more than it allows.
package bodylimit
