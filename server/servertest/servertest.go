package servertest

import (
	"context"
	"net/http"
	"testing"

	"github.com/wharfhub/wharf/server"
)

// Handler is app's handler; an error fails the test.
func Handler(t testing.TB, app *server.App) http.Handler {
	t.Helper()
	h, err := app.Handler()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// Run runs app's workers until the test ends; its cleanup waits for them
// to stop. Call it after registering the cleanup that closes app, so that
// the workers stop first.
func Run(t testing.TB, app *server.App) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("workers: %v", err)
		}
	})
}
