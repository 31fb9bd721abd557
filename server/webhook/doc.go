// Package webhook delivers Wharf's webhooks: the Docker Hub push payload signed
// by package signature, and an HTTP client whose dialer refuses loopback, link-local
// and private targets (checked on the resolved address) unless they are allowed.
package webhook
