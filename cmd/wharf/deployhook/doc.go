// Package deployhook is the receiving end of Wharf's push webhooks for users
// who deploy on push: it checks a delivery's X-Wharf-Signature (its time, id,
// event and body), refuses stale and repeated deliveries, parses the Docker
// Hub push payload with github.com/go-playground/webhooks/v6/docker, runs a
// shell command for each matching push, one at a time, and reports the
// outcome to the delivery's callback_url.
//
// Handler is the http.Handler and Run serves it on Config.Listen until its
// context ends. Delivery ids are remembered for the signature tolerance, in
// bounded memory, so a repeat is refused with 409 and never run twice. An
// accepted push joins a short queue, where it replaces a push of the same
// repository that has not started yet; one worker goroutine, started by
// the first push queued and gone once the queue is empty, runs the command
// with a timeout, in its own process group, and each outcome is posted
// back in the background. Shutdown drops what is queued (reporting "error") and waits
// for the running command and the callbacks in flight.
package deployhook
