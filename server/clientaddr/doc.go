// Package clientaddr finds the address of the client behind a request, the
// one answer that login throttling, the API, the UI and the access log use.
// X-Forwarded-For counts only when it comes from a configured proxy.
package clientaddr
