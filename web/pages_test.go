package web_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/wharfhub/wharf/server/auth"
)

// A cross-site form post is refused: without the form token, with a
// token of another session, and by the browser's Fetch metadata.
func TestCSRF(t *testing.T) {
	e := newEnv(t, "alice")
	b := e.browser()
	b.signin("alice")
	form := url.Values{"namespace": {"alice"}, "name": {"app"}, "visibility": {"public"}}
	b.must(b.do("POST", "/new", form, nil), http.StatusForbidden, "post without a token")

	other := e.browser()
	other.signin("alice")
	m := csrfRE.FindStringSubmatch(other.get("/new").body)
	form.Set("csrf_token", m[1])
	b.must(b.do("POST", "/new", form, nil), http.StatusForbidden, "post with another session's token")

	m = csrfRE.FindStringSubmatch(b.get("/new").body)
	form.Set("csrf_token", m[1])
	b.must(b.do("POST", "/new", form, map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}), http.StatusForbidden, "cross-site post")
	b.must(b.do("POST", "/new", form, nil), http.StatusSeeOther, "same-site post with the token")
	b.must(b.get("/r/alice/app"), http.StatusOK, "created repository")

	anon := e.browser()
	anon.must(anon.do("POST", "/signin", url.Values{"username": {"alice"}, "password": {pw}}, nil), http.StatusForbidden, "sign-in without a token")
	anon.must(anon.do("GET", "/signout", nil, nil), http.StatusNotFound, "sign-out by GET")
}

// Sign-in makes a new session id; after sign-out the old cookie is dead.
func TestSessionRotationAndLogout(t *testing.T) {
	e := newEnv(t, "alice")
	b := e.browser()
	b.get("/signin")
	u, _ := url.Parse(e.srv.URL)
	before := b.client.Jar.Cookies(u)
	b.signin("alice")
	first := cookieValue(b, "wharf_session")
	b.signin("alice")
	second := cookieValue(b, "wharf_session")
	if first == "" || first == second {
		t.Fatalf("session id not rotated at sign-in: %q %q (before %v)", first, second, before)
	}
	b.must(b.get("/settings"), http.StatusOK, "settings while signed in")
	b.must(b.post("/settings", "/signout", nil), http.StatusSeeOther, "sign out")

	replay := e.browser()
	replay.client.Jar.SetCookies(u, []*http.Cookie{{Name: "wharf_session", Value: second}})
	p := replay.get("/settings")
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/signin") {
		t.Fatalf("replayed cookie after sign-out: %d %s", p.status, p.location)
	}
}

func cookieValue(b *browser, name string) string {
	u, _ := url.Parse(b.e.srv.URL)
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// Sign-up reads only username, email and password.
func TestSignupIgnoresExtraFields(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	p := b.post("/signup", "/signup", url.Values{"username": {"newbie"}, "email": {"n@example.com"},
		"password": {pw}, "password2": {pw}, "is_admin": {"true"}, "IsAdmin": {"1"}})
	b.must(p, http.StatusSeeOther, "sign up")
	u, err := e.app.DB.Users.GetByName(t.Context(), "newbie")
	if err != nil || u.IsAdmin {
		t.Fatalf("sign-up made an admin or failed: %+v %v", u, err)
	}
	bad := b.post("/signup", "/signup", url.Values{"username": {"Bad Name"}, "email": {"x@example.com"}, "password": {pw}, "password2": {pw}})
	if bad.status != http.StatusBadRequest || !strings.Contains(bad.body, html.EscapeString(auth.ErrInvalidUsername.Error())) ||
		!strings.HasPrefix(auth.ErrInvalidUsername.Error(), "A username must be 2 to 64 characters") {
		t.Fatalf("invalid name: %d", bad.status)
	}
}

// Sign-up refuses an email address another account has, in any case and
// with space around it, with a message on the form that keeps what was
// typed.
func TestSignupRefusesTakenEmail(t *testing.T) {
	e := newEnv(t, "alice") // alice@example.com
	for _, email := range []string{"alice@example.com", "ALICE@Example.com", " alice@example.com "} {
		t.Run(email, func(t *testing.T) {
			b := e.browser()
			p := b.post("/signup", "/signup", url.Values{"username": {"alice2"}, "email": {email}, "password": {pw}, "password2": {pw}})
			if p.status != http.StatusBadRequest || !strings.Contains(p.body, "An account with that e-mail address exists.") {
				t.Fatalf("sign-up with %q: %d %.3000s", email, p.status, p.body)
			}
			if !strings.Contains(p.body, `value="alice2"`) {
				t.Errorf("the form lost the username: %.3000s", p.body)
			}
			if _, err := e.app.DB.Users.GetByName(t.Context(), "alice2"); err == nil {
				t.Fatal("the account was created")
			}
		})
	}
}

// The sign-in form takes a username in any case (and with space around
// it): names are stored lowercase, and the session is the account's.
func TestSigninIgnoresUsernameCase(t *testing.T) {
	e := newEnv(t, "alice")
	for _, user := range []string{"Alice", "ALICE", " aLiCe "} {
		t.Run(user, func(t *testing.T) {
			b := e.browser()
			b.signin(user)
			p := b.must(b.get("/settings"), http.StatusOK, "settings")
			if !strings.Contains(p.body, `<a href="/u/alice" class="avatar" title="alice">`) {
				t.Errorf("signed in as %q, the page is not alice's: %.3000s", user, p.body)
			}
		})
	}
	b := e.browser()
	p := b.post("/signin", "/signin", url.Values{"username": {"Alice"}, "password": {"wrong-password"}})
	if p.status != http.StatusUnauthorized || !strings.Contains(p.body, "Incorrect username or password.") {
		t.Errorf("a wrong password as Alice: %d", p.status)
	}
}

// Script in a description, README or comment renders inert.
func TestXSSRendersInert(t *testing.T) {
	e := newEnv(t, "alice")
	b := e.browser()
	b.signin("alice")
	b.must(b.post("/new", "/new", url.Values{"namespace": {"alice"}, "name": {"xss"}, "visibility": {"public"},
		"description": {`<script>alert("desc")</script>`}}), http.StatusSeeOther, "create")
	payloads := []string{
		`<script>alert(1)</script>`, `[x](&#106;avascript:alert(1))`, `javascript&colon;alert(1)`,
		`<javascript:alert(1)>`, `[d](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)`,
		`<img src=x onerror=alert(1)>`, `<a href="javascript:alert(1)">x</a>`,
	}
	readme := strings.Join(payloads, "\n\n")
	b.must(b.post("/r/alice/xss/settings", "/r/alice/xss/settings", url.Values{"readme": {readme},
		"description": {`<script>alert("desc")</script>`}, "visibility": {"public"}}), http.StatusSeeOther, "save readme")
	for _, p := range payloads {
		b.must(b.post("/r/alice/xss/comments", "/r/alice/xss/comments", url.Values{"body": {p}}), http.StatusSeeOther, "comment")
	}
	for _, path := range []string{"/r/alice/xss", "/r/alice/xss/comments", "/", "/u/alice", "/explore"} {
		body := b.get(path).body
		for _, tag := range tagRE.FindAllString(body, -1) {
			lower := strings.ToLower(tag)
			switch {
			case strings.HasPrefix(lower, "<script") && lower != `<script src="/static/app.js" defer>`:
				t.Errorf("%s has a script tag: %s", path, tag)
			case eventAttrRE.MatchString(lower):
				t.Errorf("%s has an event handler: %s", path, tag)
			case badURLRE.MatchString(lower):
				t.Errorf("%s has a script URL: %s", path, tag)
			}
		}
	}
}

var (
	tagRE       = regexp.MustCompile(`<[a-zA-Z][^>]*>`)
	eventAttrRE = regexp.MustCompile(`\son[a-z]+\s*=`)
	badURLRE    = regexp.MustCompile(`(href|src|action|formaction)\s*=\s*["']?\s*(javascript|data|vbscript):`)
)

// Every page refuses to reveal a private repository to an outsider or a
// visitor: the same 404 as a missing one, and no trace in any listing.
func TestPrivateRepositoryIsInvisible(t *testing.T) {
	e := newEnv(t, "alice", "mallory")
	a := e.browser()
	a.signin("alice")
	a.must(a.post("/new", "/new", url.Values{"namespace": {"alice"}, "name": {"hidden-gem"}, "visibility": {"private"}}), http.StatusSeeOther, "create")
	a.must(a.post("/r/alice/hidden-gem", "/r/alice/hidden-gem/star", nil), http.StatusSeeOther, "star")
	a.must(a.post("/r/alice/hidden-gem", "/r/alice/hidden-gem/comments", url.Values{"body": {"secret plans"}}), http.StatusSeeOther, "comment")
	a.must(a.get("/r/alice/hidden-gem"), http.StatusOK, "owner sees it")

	missing := e.browser().get("/r/alice/never-existed")
	for _, who := range []string{"", "mallory"} {
		b := e.browser()
		if who != "" {
			b.signin(who)
		}
		for _, path := range []string{"/r/alice/hidden-gem", "/r/alice/hidden-gem/tags", "/r/alice/hidden-gem/comments",
			"/r/alice/hidden-gem/stargazers", "/r/alice/hidden-gem/settings"} {
			p := b.get(path)
			if p.status != http.StatusNotFound || p.body != strings.Replace(missing.body, "never-existed", "hidden-gem", -1) && !strings.Contains(p.body, "nothing here") {
				t.Errorf("%q GET %s: %d", who, path, p.status)
			}
		}
		for _, path := range []string{"/", "/explore", "/explore?sort=updated", "/u/alice", "/u/alice/starred"} {
			if body := b.get(path).body; strings.Contains(body, "hidden-gem") || strings.Contains(body, "secret plans") {
				t.Errorf("%q: %s shows the private repository", who, path)
			}
		}
		if who != "" {
			for _, action := range []string{"star", "comments", "settings", "delete", "collaborators"} {
				p := b.post("/", "/r/alice/hidden-gem/"+action, url.Values{"body": {"x"}, "user": {"mallory"}, "permission": {"admin"}, "confirm": {"alice/hidden-gem"}})
				if p.status != http.StatusNotFound {
					t.Errorf("mallory POST %s: %d", action, p.status)
				}
			}
		}
	}
	a.must(a.get("/r/alice/hidden-gem"), http.StatusOK, "still there for its owner")
}

// What the services refuse reads as a sentence on the page, not as a Go
// error: no quoting, a capital letter, a full stop.
func TestRefusalsReadAsSentences(t *testing.T) {
	e := newEnv(t, "alice")
	b := e.browser()
	b.signin("alice")
	b.must(b.post("/new", "/new", url.Values{"namespace": {"alice"}, "name": {"app"}, "visibility": {"public"}}), http.StatusSeeOther, "create")
	b.must(b.post("/settings", "/settings/orgs", url.Values{"name": {"acme"}}), http.StatusSeeOther, "create org")
	tests := []struct {
		name, from, action string
		form               url.Values
		page, message      string
		inline             string // the id of the message next to the form
	}{
		{"collaborator nobody is", "/r/alice/app/settings", "/r/alice/app/collaborators",
			url.Values{"user": {"ghost"}, "permission": {"read"}}, "/r/alice/app/settings", "There is no user named ghost.", "collaborators-error"},
		{"member nobody is", "/u/acme", "/u/acme/members",
			url.Values{"user": {"ghost"}, "role": {"member"}}, "/u/acme", "There is no user named ghost.", ""},
		{"organization name", "/settings", "/settings/orgs",
			url.Values{"name": {"Bad Name"}}, "/settings",
			"An organization name must be 2 to 64 characters: lowercase letters, digits, &#39;-&#39; or &#39;_&#39;, starting with a letter or digit.", ""},
		{"empty comment", "/r/alice/app/comments", "/r/alice/app/comments",
			url.Values{"body": {"  "}}, "/r/alice/app/comments", "A comment cannot be empty.", "comment-error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// A settings or comment form is shown again, refused, with the
			// message next to it; other forms flash it on the page they
			// lead to.
			if tc.inline != "" {
				p := b.must(b.post(tc.from, tc.action, tc.form), http.StatusBadRequest, "submit")
				if !strings.Contains(p.body, `role="alert" id="`+tc.inline+`">`+tc.message+"</p>") {
					t.Errorf("no %q next to the form: %.4000s", tc.message, p.body)
				}
				return
			}
			b.must(b.post(tc.from, tc.action, tc.form), http.StatusSeeOther, "submit")
			p := b.must(b.get(tc.page), http.StatusOK, "page")
			if !strings.Contains(p.body, `<div class="flash flash-error" role="status">`+tc.message+"</div>") {
				t.Errorf("no %q on %s: %.4000s", tc.message, tc.page, p.body)
			}
		})
	}
}
