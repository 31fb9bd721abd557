package web_test

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wharfhub/wharf/server"
	"github.com/wharfhub/wharf/server/config"
	"github.com/wharfhub/wharf/server/servertest"
)

// mailpit is a real SMTP sink on loopback, read through its HTTP API.
type mailpit struct {
	t         *testing.T
	smtp, api string
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startMailpit starts WHARF_MAILPIT (make e2e-mail builds it), or skips.
func startMailpit(t *testing.T) *mailpit {
	t.Helper()
	bin := os.Getenv("WHARF_MAILPIT")
	if bin == "" {
		t.Skip("set WHARF_MAILPIT to a mailpit binary (make e2e-mail does)")
	}
	m := &mailpit{t: t, smtp: freePort(t), api: freePort(t)}
	cmd := exec.Command(bin, "--smtp", m.smtp, "--listen", m.api, "--database", filepath.Join(t.TempDir(), "mailpit.db"),
		"--smtp-strict-rfc-headers", "--quiet")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := m.messages(); err == nil {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatal("mailpit did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type mailSummary struct {
	ID      string
	Subject string
	To      []struct{ Address string }
}

func (m *mailpit) messages() ([]mailSummary, error) {
	res, err := http.Get("http://" + m.api + "/api/v1/messages")
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var out struct{ Messages []mailSummary }
	if res.StatusCode != 200 {
		return nil, fmt.Errorf("messages: %s", res.Status)
	}
	return out.Messages, json.NewDecoder(res.Body).Decode(&out)
}

// waitFor waits until n messages arrived, and returns them.
func (m *mailpit) waitFor(n int) []mailSummary {
	m.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ms, err := m.messages()
		if err == nil && len(ms) >= n {
			return ms
		}
		if time.Now().After(deadline) {
			m.t.Fatalf("%d messages arrived, want %d (%v)", len(ms), n, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (m *mailpit) text(id string) string {
	m.t.Helper()
	res, err := http.Get("http://" + m.api + "/api/v1/message/" + id)
	if err != nil {
		m.t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct{ Text string }
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		m.t.Fatal(err)
	}
	return out.Text
}

var resetLinkRE = regexp.MustCompile(`http://\S+/reset-password\?token=\S+`)

// TestMailedResetLink: someone who forgot their password asks for a link
// with their e-mail address, and gets the same answer as someone asking
// for an account that does not exist, who gets no mail; the mailed link
// sets the password once, ends the session signed in elsewhere, and then
// fails; an address that asks too often is refused.
func TestMailedResetLink(t *testing.T) {
	mp := startMailpit(t)
	e := configEnv(t, func(c *config.Config) {
		c.SMTP = config.SMTP{Addr: mp.smtp, From: "Wharf <wharf@wharf.test>", TLS: "auto"}
	}, server.Options{}, "alice")
	servertest.Run(t, e.app)
	elsewhere := e.browser()
	elsewhere.signin("alice")

	b := e.browser()
	if body := b.get("/signin").body; !strings.Contains(body, `href="/forgot-password"`) {
		t.Fatal("the sign-in page does not offer a reset")
	}
	ask := func(who string) page {
		return b.post("/forgot-password", "/forgot-password", url.Values{"who": {who}})
	}
	unknown := ask("nobody@example.com")
	known := ask("alice@example.com")
	if unknown.status != 200 || known.status != 200 || !strings.Contains(known.body, `id="forgot-sent"`) ||
		sentText(unknown.body) != sentText(known.body) {
		t.Fatalf("the answers differ: %d %d", unknown.status, known.status)
	}
	ms := mp.waitFor(1)
	if len(ms) != 1 || ms[0].To[0].Address != "alice@example.com" || ms[0].Subject != "Reset your Wharf password" {
		t.Fatalf("messages = %+v", ms)
	}
	text := mp.text(ms[0].ID)
	link := resetLinkRE.FindString(text)
	if link == "" || !strings.Contains(text, "the Wharf account alice") {
		t.Fatalf("the mail holds no link:\n%s", text)
	}
	u, _ := url.Parse(link)
	page := u.RequestURI()
	b.must(b.post(page, "/reset-password", url.Values{"token": {u.Query().Get("token")}, "user": {"alice"},
		"password": {"mailed-password-1"}, "confirm": {"mailed-password-1"}}), http.StatusSeeOther, "reset")
	if got := elsewhere.get("/settings"); got.status != http.StatusSeeOther {
		t.Errorf("the old session lives on: %d", got.status)
	}
	if again := b.get(page); again.status != http.StatusBadRequest {
		t.Errorf("the link works twice: %d", again.status)
	}
	// The account hears of the reset, and of a token made.
	b.must(b.post("/signin", "/signin", url.Values{"username": {"alice"}, "password": {"mailed-password-1"}}), http.StatusSeeOther, "sign in")
	if p := b.post("/settings", "/settings/tokens", url.Values{"name": {"laptop"}}); p.status >= 400 {
		t.Fatalf("make a token: %d", p.status)
	}
	subjects := map[string]bool{}
	for _, m := range mp.waitFor(3) {
		subjects[m.Subject] = true
		if m.To[0].Address != "alice@example.com" {
			t.Errorf("mail to %s", m.To[0].Address)
		}
	}
	if !subjects["Your Wharf password was reset"] || !subjects["A new Wharf access token: laptop"] {
		t.Errorf("subjects = %v", subjects)
	}
	// Five asks from one address in a while; the sixth is refused.
	for i := range 3 {
		if r := ask(fmt.Sprintf("x%d@example.com", i)); r.status != 200 {
			t.Fatalf("ask %d: %d", i+3, r.status)
		}
	}
	if r := ask("alice@example.com"); r.status != http.StatusTooManyRequests || !strings.Contains(r.body, "Too many reset requests") {
		t.Errorf("the sixth ask: %d", r.status)
	}
}

// TestMailVerifiesAddresses: a sign-up's address is mailed a link and is
// unverified until it is opened; a new address replaces the old only once
// its link is opened, and the old one hears of it; reset links go only
// to verified addresses.
func TestMailVerifiesAddresses(t *testing.T) {
	mp := startMailpit(t)
	e := configEnv(t, func(c *config.Config) {
		c.SMTP = config.SMTP{Addr: mp.smtp, From: "wharf@wharf.test", TLS: "auto"}
	}, server.Options{})
	servertest.Run(t, e.app)
	b := e.browser()
	b.must(b.post("/signup", "/signup", url.Values{"username": {"erin"}, "email": {"erin@example.com"}, "password": {"erin-password"},
		"password2": {"erin-password"}}), http.StatusSeeOther, "sign up")
	if s := b.get("/settings").body; !strings.Contains(s, `id="email-unverified"`) {
		t.Error("a sign-up's address shows verified")
	}
	// Unverified: no reset link goes there.
	if r := e.browser().post("/forgot-password", "/forgot-password", url.Values{"who": {"erin"}}); r.status != 200 {
		t.Fatalf("ask: %d", r.status)
	}
	verifyLink := func(to string, n int) string {
		t.Helper()
		for _, m := range mp.waitFor(n) {
			if m.To[0].Address == to && m.Subject == "Verify your address for Wharf" {
				if l := regexp.MustCompile(`http://\S+/verify-email\?token=\S+`).FindString(mp.text(m.ID)); l != "" {
					return l
				}
			}
		}
		t.Fatalf("no verification link for %s", to)
		return ""
	}
	open := func(link string) page {
		u, _ := url.Parse(link)
		return b.get(u.RequestURI())
	}
	link := verifyLink("erin@example.com", 1)
	if p := open(link); p.status != http.StatusSeeOther {
		t.Fatalf("verify: %d", p.status)
	}
	if s := b.get("/settings").body; strings.Contains(s, `id="email-unverified"`) {
		t.Error("still unverified")
	}
	if p := open(link); p.status != http.StatusBadRequest {
		t.Errorf("the link works twice: %d", p.status)
	}
	// A new address: the old hears of it, the new gets the link, and the
	// account's address changes only once it is opened.
	b.must(b.post("/settings", "/settings/email", url.Values{"email": {"erin@new.example"}}), http.StatusSeeOther, "change")
	if s := b.get("/settings").body; !strings.Contains(s, "<b>erin@example.com</b>") || !strings.Contains(s, `id="email-pending"`) {
		t.Error("the address changed before it was verified")
	}
	link = verifyLink("erin@new.example", 3)
	subjects := map[string]string{}
	for _, m := range mp.waitFor(3) {
		subjects[m.Subject] = m.To[0].Address
	}
	if subjects["Your Wharf address is being changed"] != "erin@example.com" {
		t.Errorf("the old address was not told: %v", subjects)
	}
	if to, ok := subjects["Reset your Wharf password"]; ok {
		t.Errorf("a reset link went to the unverified %s", to)
	}
	open(link)
	if u, _ := e.app.DB.Users.GetByName(t.Context(), "erin"); u.Email != "erin@new.example" || !u.EmailVerified {
		t.Errorf("after the link: %+v", u)
	}
}

// sentText is the answer's message, without the page's per-request parts.
func sentText(body string) string {
	i := strings.Index(body, `id="forgot-sent"`)
	if i < 0 {
		return ""
	}
	return body[i : i+strings.Index(body[i:], "</p>")]
}

// TestMailPushNotices: a watcher is mailed each tag pushed to a watched
// repository; the pusher is not, and neither is a watcher who may no
// longer pull it.
func TestMailPushNotices(t *testing.T) {
	mp := startMailpit(t)
	e := configEnv(t, func(c *config.Config) {
		c.SMTP = config.SMTP{Addr: mp.smtp, From: "wharf@wharf.test", TLS: "auto"}
	}, server.Options{}, "alice", "bob", "carol")
	servertest.Run(t, e.app)
	e.pushImage("alice", "alice/app", "v1")
	for _, who := range []string{"alice", "bob", "carol"} {
		b := e.browser()
		b.signin(who)
		b.must(b.post("/r/alice/app", "/r/alice/app/watch", nil), http.StatusSeeOther, who+" watches")
	}
	a := e.browser()
	a.signin("alice")
	a.must(a.post("/r/alice/app/settings", "/r/alice/app/settings", url.Values{"visibility": {"private"}}), http.StatusSeeOther, "private")
	e.pushImage("alice", "alice/app", "v2") // nobody may read it but alice, who pushed
	a.must(a.post("/r/alice/app/settings", "/r/alice/app/collaborators", url.Values{"user": {"carol"}, "permission": {"read"}}), http.StatusSeeOther, "carol reads")
	e.pushImage("alice", "alice/app", "v3") // carol may read it again
	ms := mp.waitFor(1)
	if len(ms) != 1 || ms[0].To[0].Address != "carol@example.com" || ms[0].Subject != "alice/app:v3 was pushed" {
		for _, m := range ms {
			t.Errorf("mail to %s: %s", m.To[0].Address, m.Subject)
		}
		t.Fatal("want one mail, to carol, of v3")
	}
	if text := mp.text(ms[0].ID); !strings.Contains(text, "alice/app:v3 was pushed by alice") {
		t.Errorf("the mail says:\n%s", text)
	}
}
