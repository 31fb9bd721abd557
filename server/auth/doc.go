// Package auth knows who is calling (accounts, credentials) and decides
// what they may do: every authorization question of /v2/, the API and the
// UI is answered by Policy.Authorize.
package auth
