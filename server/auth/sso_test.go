package auth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/wharfhub/wharf/models"
)

// fakeIdP is an OpenID Connect provider on loopback whose answers a test
// can bend: each code remembers the nonce and the PKCE challenge it was
// issued for, works once, and its ID token carries what the test says.
type fakeIdP struct {
	t      *testing.T
	srv    *httptest.Server
	key    *rsa.PrivateKey
	mu     sync.Mutex
	codes  map[string]*grant
	issuer string // what tokens say (the server's URL unless bent)
}

type grant struct {
	nonce, challenge string
	claims           map[string]any
	used             bool
	audience         string
	key              *rsa.PrivateKey
}

func newFakeIdP(t *testing.T) *fakeIdP {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeIdP{t: t, key: key, codes: map[string]*grant{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"issuer": f.srv.URL, "authorization_endpoint": f.srv.URL + "/authorize",
			"token_endpoint": f.srv.URL + "/token", "userinfo_endpoint": f.srv.URL + "/userinfo", "jwks_uri": f.srv.URL + "/jwks",
			"id_token_signing_alg_values_supported": []string{"RS256"}})
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"keys": []any{map[string]any{"kty": "RSA", "alg": "RS256", "use": "sig", "kid": "k1",
			"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes())}}})
	})
	mux.HandleFunc("/token", f.token)
	mux.HandleFunc("/userinfo", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		for code, g := range f.codes {
			if r.Header.Get("Authorization") == "Bearer at-"+code {
				json.NewEncoder(w).Encode(map[string]any{"sub": g.claims["sub"], "groups": g.claims["groups"]})
				return
			}
		}
		w.WriteHeader(http.StatusUnauthorized)
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	f.issuer = f.srv.URL
	return f
}

func (f *fakeIdP) token(w http.ResponseWriter, r *http.Request) {
	id, secret, _ := r.BasicAuth()
	code, verifier := r.PostFormValue("code"), r.PostFormValue("code_verifier")
	f.mu.Lock()
	g := f.codes[code]
	ok := g != nil && !g.used && id == "wharf" && secret == "wharf-secret"
	if ok {
		sum := sha256.Sum256([]byte(verifier))
		ok = base64.RawURLEncoding.EncodeToString(sum[:]) == g.challenge
		g.used = true
	}
	f.mu.Unlock()
	if !ok {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"error":"invalid_grant"}`))
		return
	}
	now := time.Now()
	c := jwt.MapClaims{"iss": f.issuer, "aud": g.audience, "exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "nonce": g.nonce}
	for k, v := range g.claims {
		if k != "groups" {
			c[k] = v
		}
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	tok.Header["kid"] = "k1"
	signed, err := tok.SignedString(g.key)
	if err != nil {
		f.t.Fatal(err)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"access_token": "at-" + code, "token_type": "Bearer", "expires_in": 3600, "id_token": signed})
}

// authorize does what the provider does once the person signed in: a
// code for the request in authURL, with these claims.
func (f *fakeIdP) authorize(authURL string, claims map[string]any, bend func(*grant)) (state, code string) {
	u, err := url.Parse(authURL)
	if err != nil {
		f.t.Fatal(err)
	}
	q := u.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("client_id") != "wharf" || q.Get("redirect_uri") != "https://wharf.test/signin/sso/callback" {
		f.t.Fatalf("authorize request %s", authURL)
	}
	g := &grant{nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), claims: claims, audience: "wharf", key: f.key}
	if bend != nil {
		bend(g)
	}
	code = random()
	f.mu.Lock()
	f.codes[code] = g
	f.mu.Unlock()
	return q.Get("state"), code
}

func TestSSO(t *testing.T) {
	db := testDB(t)
	ctx := t.Context()
	a := NewAccounts(db, nil, nil)
	if _, err := a.CreateUser(ctx, "alice", "alice@example.com", "alice-password", false); err != nil {
		t.Fatal(err)
	}
	idp := newFakeIdP(t)
	s := NewSSO(a, SSOConfig{Issuer: idp.srv.URL, ClientID: "wharf", ClientSecret: "wharf-secret",
		RedirectURL: "https://wharf.test/signin/sso/callback", Scopes: []string{"openid", "profile", "email"},
		UsernameClaim: "preferred_username", GroupsClaim: "groups", RequireVerifiedEmail: true})
	// An organization with a team a group names.
	var root models.User
	if _, err := a.CreateUser(ctx, "root", "root@example.com", "root-password", true); err != nil {
		t.Fatal(err)
	}
	db.Writer().Where("username = ?", "root").Take(&root)
	org := &models.Organization{Name: "acme"}
	if err := db.Orgs.Create(ctx, org, root.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.Teams.Create(ctx, &models.Team{OrgID: org.ID, Name: "devs", Permission: "write", AllRepositories: true}, "acme"); err != nil {
		t.Fatal(err)
	}

	person := func(sub, name, email string, verified bool, groups ...string) map[string]any {
		return map[string]any{"sub": sub, "preferred_username": name, "email": email, "email_verified": verified, "groups": groups}
	}
	signIn := func(claims map[string]any, bend func(*grant), tamper func(p *Pending, state, code *string)) (*Identity, error) {
		t.Helper()
		u, pend, err := s.Begin(ctx, "/after")
		if err != nil {
			t.Fatal(err)
		}
		state, code := idp.authorize(u, claims, bend)
		if tamper != nil {
			tamper(pend, &state, &code)
		}
		return s.Finish(ctx, "192.0.2.1", pend, state, code)
	}

	// The first sign-in makes the account; a taken name gets a number.
	id, err := signIn(person("sub-1", "Alice.Smith@corp.example", "asmith@corp.example", true, "acme/devs", "acme/nope", "junk"), nil, nil)
	if err != nil || id.Username != "alice-smith" {
		t.Fatalf("first sign-in = %+v, %v", id, err)
	}
	if teams, _ := db.Teams.SyncGroups(ctx, id.UserID, []string{"acme/devs"}); len(teams) != 1 {
		t.Errorf("not in acme/devs: %v", teams)
	}
	for _, action := range []string{"user.create", "team.sync"} {
		es, err := db.Audit.List(ctx, models.AuditFilter{Action: action, Target: "alice-smith"}, 10)
		if err != nil || len(es) != 1 {
			t.Errorf("audit %s: %+v %v", action, es, err)
		}
	}
	id2, err := signIn(person("sub-2", "alice", "alice2@corp.example", true), nil, nil)
	if err != nil || id2.Username != "alice-2" {
		t.Fatalf("a taken name = %+v, %v", id2, err)
	}
	// The same person again is the same account, whatever its name says
	// now; a group gone takes its team away.
	again, err := signIn(person("sub-1", "renamed", "asmith@corp.example", true), nil, nil)
	if err != nil || again.UserID != id.UserID {
		t.Fatalf("second sign-in = %+v, %v", again, err)
	}
	var n int64
	db.Writer().Model(&models.TeamMember{}).Where("user_id = ?", id.UserID).Count(&n)
	if n != 0 {
		t.Errorf("still in %d teams after the group went", n)
	}
	// A password does not sign an SSO account in.
	if _, err := a.Authenticate(ctx, "192.0.2.1", "alice-smith", "!sso"); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("password sign-in of an SSO account: %v", err)
	}

	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	for _, tc := range []struct {
		name   string
		claims map[string]any
		bend   func(*grant)
		tamper func(p *Pending, state, code *string)
		want   error
	}{
		{"forged state", person("sub-3", "bob", "bob@corp.example", true), nil,
			func(p *Pending, state, code *string) { *state = "forged" }, ErrSSOState},
		{"no sign-in under way", person("sub-3", "bob", "bob@corp.example", true), nil,
			func(p *Pending, state, code *string) { *p = Pending{} }, ErrSSOState},
		{"expired", person("sub-3", "bob", "bob@corp.example", true), nil,
			func(p *Pending, state, code *string) { p.Expires = time.Now().Add(-time.Second).Unix() }, ErrSSOState},
		{"wrong PKCE verifier", person("sub-3", "bob", "bob@corp.example", true), nil,
			func(p *Pending, state, code *string) { p.Verifier = "not-the-verifier-not-the-verifier-not-the-ver" }, ErrSSOToken},
		{"wrong nonce", person("sub-3", "bob", "bob@corp.example", true), func(g *grant) { g.nonce = "other" }, nil, ErrSSOToken},
		{"wrong issuer", person("sub-3", "bob", "bob@corp.example", true), func(g *grant) {}, func(p *Pending, state, code *string) {
			idp.mu.Lock()
			idp.issuer = "https://evil.example"
			idp.mu.Unlock()
		}, ErrSSOToken},
		{"wrong audience", person("sub-3", "bob", "bob@corp.example", true), func(g *grant) { g.audience = "someone-else" }, nil, ErrSSOToken},
		{"wrong key", person("sub-3", "bob", "bob@corp.example", true), func(g *grant) { g.key = other }, nil, ErrSSOToken},
		{"unverified address", person("sub-3", "bob", "bob@corp.example", false), nil, nil, ErrSSOUnverified},
		{"no address", person("sub-3", "bob", "", true), nil, nil, ErrSSONoEmail},
		{"a password account's address", person("sub-3", "bob", "ALICE@example.com", true), nil, nil, ErrSSOEmailTaken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() { idp.mu.Lock(); idp.issuer = idp.srv.URL; idp.mu.Unlock() }()
			if _, err := signIn(tc.claims, tc.bend, tc.tamper); !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := db.Users.GetByName(ctx, "bob"); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("a refused sign-in made an account: %v", err)
	}

	// A code works once: replaying the callback signs nobody in.
	u, pend, _ := s.Begin(ctx, "/")
	state, code := idp.authorize(u, person("sub-4", "carol", "carol@corp.example", true), nil)
	if _, err := s.Finish(ctx, "192.0.2.1", pend, state, code); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Finish(ctx, "192.0.2.1", pend, state, code); !errors.Is(err, ErrSSOToken) {
		t.Errorf("a replayed code: %v", err)
	}

	// A disabled account stays out.
	if err := a.SetDisabled(ctx, id2.UserID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := signIn(person("sub-2", "alice", "alice2@corp.example", true), nil, nil); !errors.Is(err, ErrSSODisabled) {
		t.Errorf("a disabled account: %v", err)
	}
	_ = context.Background
}

// With passwords off, only site administrators sign in with one, and the
// rest are told how to sign in.
func TestPasswordsForAdminsOnly(t *testing.T) {
	db := testDB(t)
	ctx := t.Context()
	a := NewAccounts(db, nil, nil)
	a.PasswordsForAdminsOnly = true
	for _, u := range []struct {
		name  string
		admin bool
	}{{"root", true}, {"alice", false}} {
		if _, err := a.CreateUser(ctx, u.name, u.name+"@example.com", u.name+"-password", u.admin); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Authenticate(ctx, "192.0.2.1", "root", "root-password"); err != nil {
		t.Errorf("the break-glass admin: %v", err)
	}
	if _, err := a.Authenticate(ctx, "192.0.2.1", "alice", "alice-password"); !errors.Is(err, ErrPasswordsOff) {
		t.Errorf("alice's password: %v", err)
	}
	if _, err := a.Authenticate(ctx, "192.0.2.1", "alice", "wrong-password"); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("a wrong password says only that: %v", err)
	}
}

func TestUsernameFrom(t *testing.T) {
	for in, want := range map[string]string{
		"Alice.Smith@corp.example": "alice-smith", "bob": "bob", "x": "", "  Ünïcode  Name ": "n-code-name",
		"___": "", "a_b-c": "a_b-c", "": "",
	} {
		if got := usernameFrom(in); got != want {
			t.Errorf("usernameFrom(%q) = %q, want %q", in, got, want)
		}
	}
}
