package server

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/mirror"
)

// openMirrors claims the namespace of each mirror the flags define (a
// mirror named like a local account or organization is refused, so that a
// mirror never answers for a local name), and loads those site admins
// defined through the API.
func (a *App) openMirrors(ctx context.Context) error {
	flags := make([]mirror.Def, 0, len(a.Config.Mirrors))
	for _, m := range a.Config.Mirrors {
		if err := a.DB.Namespaces.ClaimMirror(ctx, m.Name); errors.Is(err, models.ErrConflict) {
			return fmt.Errorf("mirror %s: %s is a local account or organization; give the mirror another name", m.Name, m.Name)
		} else if err != nil {
			return fmt.Errorf("mirror %s: %w", m.Name, err)
		}
		flags = append(flags, mirror.Def{Name: m.Name, URL: m.URL, Username: m.Username, Password: m.Password})
	}
	key, err := a.DB.Site.Secret(ctx, "mirror-credentials", func() ([]byte, error) {
		k := make([]byte, 32)
		_, err := rand.Read(k)
		return k, err
	})
	if err != nil {
		return fmt.Errorf("mirror credentials key: %w", err)
	}
	a.Mirrors = mirror.New(a.DB, a.Content, nil, mirror.Options{TTL: a.Config.MirrorTTL, Log: a.Log,
		Root: a.Config.RegistryMirror, Events: a.Events})
	if a.MirrorCatalog, err = mirror.NewCatalog(a.Mirrors, a.DB, flags, key, a.Log, a.Events); err != nil {
		return err
	}
	return a.MirrorCatalog.Load(ctx)
}
