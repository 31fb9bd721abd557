// Command oidcprovider is the OpenID Connect provider of Wharf's
// single sign-on tests: zitadel/oidc's example provider (its storage,
// login page and endpoints, pinned in go.mod), on a loopback port, with
// the users of USERS_FILE and, from GROUPS_FILE, a groups claim in the
// userinfo of those who have groups.
//
//	PORT=9998 REDIRECT_URI=http://127.0.0.1:5000/signin/sso/callback \
//	USERS_FILE=users.json GROUPS_FILE=groups.json oidcprovider
//
// Its issuer is http://127.0.0.1:PORT/; its client is "web" with the
// secret "secret".
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// withGroups adds the groups claim to what the example storage says of a
// user.
type withGroups struct {
	*storage.Storage
	groups map[string][]string // user id → groups
}

func (s *withGroups) add(userinfo *oidc.UserInfo) {
	if g, ok := s.groups[userinfo.Subject]; ok {
		userinfo.AppendClaims("groups", g)
	}
}

func (s *withGroups) SetUserinfoFromRequest(ctx context.Context, userinfo *oidc.UserInfo, token op.IDTokenRequest, scopes []string) error {
	if err := s.Storage.SetUserinfoFromRequest(ctx, userinfo, token, scopes); err != nil {
		return err
	}
	s.add(userinfo)
	return nil
}

func (s *withGroups) SetUserinfoFromToken(ctx context.Context, userinfo *oidc.UserInfo, tokenID, subject, origin string) error {
	if err := s.Storage.SetUserinfoFromToken(ctx, userinfo, tokenID, subject, origin); err != nil {
		return err
	}
	s.add(userinfo)
	return nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "oidcprovider:", err)
		os.Exit(1)
	}
}

func run() error {
	port := os.Getenv("PORT")
	if port == "" {
		return fmt.Errorf("set PORT")
	}
	issuer := "http://127.0.0.1:" + port + "/"
	users, err := storage.StoreFromFile(os.Getenv("USERS_FILE"))
	if err != nil {
		return fmt.Errorf("USERS_FILE: %w", err)
	}
	groups := map[string][]string{}
	if f := os.Getenv("GROUPS_FILE"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, &groups); err != nil {
			return fmt.Errorf("GROUPS_FILE: %w", err)
		}
	}
	storage.RegisterClients(storage.WebClient("web", "secret", strings.Split(os.Getenv("REDIRECT_URI"), ",")...))
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	router := exampleop.SetupServer(issuer, &withGroups{Storage: storage.NewStorage(users), groups: groups}, log, false)
	srv := &http.Server{Addr: "127.0.0.1:" + port, Handler: router}
	fmt.Fprintln(os.Stderr, "oidcprovider: issuer", issuer)
	return srv.ListenAndServe()
}
