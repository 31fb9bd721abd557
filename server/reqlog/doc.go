// Package reqlog carries the request's logger, which names the request id,
// in its context: every line a request causes can be found by that id.
// It imports nothing of ours, so every handler package may use it.
package reqlog
