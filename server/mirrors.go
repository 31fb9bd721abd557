package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/mirror"
	"github.com/wharfhub/wharf/server/mirror/upstream"
)

// openMirrors claims each mirror's namespace and makes its upstream
// client; a mirror named like a local account or organization is refused,
// so that a mirror never answers for a local name.
func (a *App) openMirrors(ctx context.Context) error {
	var ms []mirror.Mirror
	for _, m := range a.Config.Mirrors {
		if err := a.DB.Namespaces.ClaimMirror(ctx, m.Name); errors.Is(err, models.ErrConflict) {
			return fmt.Errorf("mirror %s: %s is a local account or organization; give the mirror another name", m.Name, m.Name)
		} else if err != nil {
			return fmt.Errorf("mirror %s: %w", m.Name, err)
		}
		c, err := upstream.New(upstream.Options{URL: m.URL, Username: m.Username, Password: m.Password, UserAgent: "wharf"})
		if err != nil {
			return fmt.Errorf("mirror %s: %w", m.Name, err)
		}
		ms = append(ms, mirror.Mirror{Name: m.Name, URL: m.URL, Upstream: c})
	}
	a.Mirrors = mirror.New(a.DB, a.Content, ms, mirror.Options{TTL: a.Config.MirrorTTL, Log: a.Log, Root: a.Config.RegistryMirror, Events: a.Events})
	return nil
}
