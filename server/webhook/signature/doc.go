// Package signature signs and verifies Wharf's webhook deliveries, for the
// sender (server/webhook) and receivers (cmd/wharf/deployhook) alike; it is a
// leaf that imports only the standard library.
package signature
