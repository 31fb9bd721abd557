package web_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server"
	"github.com/wharfhub/wharf/server/config"
	"github.com/wharfhub/wharf/server/servertest"
)

// startProvider starts WHARF_OIDC_PROVIDER (make e2e-browser builds it)
// on a free loopback port with one person, dana, in the group acme/devs,
// sending people back to redirect; it returns the issuer.
func startProvider(t *testing.T, addr, redirect string) {
	t.Helper()
	bin := os.Getenv("WHARF_OIDC_PROVIDER")
	dir := t.TempDir()
	users := `{"d1": {"ID": "d1", "Username": "Dana.Lee@corp", "Password": "dana-secret-1", "FirstName": "Dana", "LastName": "Lee",
		"Email": "dana@corp.example", "EmailVerified": true, "PreferredLanguage": "en"}}`
	groups := `{"d1": ["acme/devs", "elsewhere/none"]}`
	for name, body := range map[string]string{"users.json": users, "groups.json": groups} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	_, port, _ := strings.Cut(addr, ":")
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "PORT="+port, "REDIRECT_URI="+redirect, "USERS_FILE="+filepath.Join(dir, "users.json"),
		"GROUPS_FILE="+filepath.Join(dir, "groups.json"))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get("http://" + addr + "/.well-known/openid-configuration")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the provider did not start: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestBrowserSSO signs in through a real OpenID Connect provider (the
// zitadel/oidc example provider) in Chromium: the first sign-in makes
// dana's account, her group puts her in acme's devs team, the home page
// tells her docker needs a token, she makes one, and docker logs in and
// pushes to acme with it (with a Docker engine, as make test has).
func TestBrowserSSO(t *testing.T) {
	shots := browserE2E(t, "")
	if os.Getenv("WHARF_OIDC_PROVIDER") == "" {
		t.Skip("set WHARF_OIDC_PROVIDER to the test provider (make e2e-browser does)")
	}
	idp := freePort(t)
	e := configEnv(t, func(c *config.Config) {
		c.BaseURL = ""
		c.OIDC = config.OIDC{Issuer: "http://" + idp + "/", ClientID: "web", ClientSecret: "secret", Scopes: []string{"openid", "profile", "email"},
			UsernameClaim: "preferred_username", GroupsClaim: "groups", RequireVerifiedEmail: true, Name: "Corp SSO", Only: true}
	}, server.Options{})
	servertest.Run(t, e.app)
	startProvider(t, idp, e.app.Config.BaseURL+"/signin/sso/callback")
	ctx := context.Background()
	root, err := e.app.Accounts.CreateUser(ctx, "root", "root@example.com", pw, true)
	if err != nil {
		t.Fatal(err)
	}
	org := &models.Organization{Name: "acme"}
	if err := e.app.DB.Orgs.Create(ctx, org, root.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.app.DB.Teams.Create(ctx, &models.Team{OrgID: org.ID, Name: "devs", Permission: "write", AllRepositories: true}, "acme"); err != nil {
		t.Fatal(err)
	}

	cx := chrome(t, 2*time.Minute)
	run := runner(t, cx)
	shot := shooter(shots, false)
	base := e.app.Config.BaseURL
	run("the sign-in page", chromedp.Navigate(base+"/signin"), chromedp.WaitVisible(chromedp.CSS("#sso-signin")), shot("sso-01-signin"))
	checkAxe(t, cx, "the sign-in page with single sign-on")
	run("to the provider", chromedp.Click(chromedp.CSS("#sso-signin")), chromedp.WaitVisible(chromedp.CSS("input#username")),
		chromedp.SendKeys(chromedp.CSS("input#username"), "Dana.Lee@corp"), chromedp.SendKeys(chromedp.CSS("input#password"), "dana-secret-1"),
		chromedp.Submit(chromedp.CSS("input#password")), chromedp.WaitVisible(chromedp.CSS(`form[action="/signout"]`)),
		chromedp.WaitVisible(chromedp.CSS("#docker-token-hint")), shot("sso-02-home"))
	dana, err := e.app.DB.Users.GetByName(ctx, "dana-lee")
	if err != nil || dana.Email != "dana@corp.example" {
		t.Fatalf("the first sign-in made %+v, %v", dana, err)
	}
	teams, err := e.app.DB.Teams.List(ctx, org.ID)
	if err != nil || len(teams) != 1 || len(teams[0].Members) != 1 || teams[0].Members[0] != "dana-lee" {
		t.Fatalf("acme's teams = %+v, %v", teams, err)
	}
	run("a token for docker", chromedp.Click(chromedp.CSS(`#docker-token-hint a`)), chromedp.WaitVisible(chromedp.CSS(`form[action="/settings/tokens"] input[name=name]`)),
		chromedp.SendKeys(chromedp.CSS(`form[action="/settings/tokens"] input[name=name]`), "docker"),
		chromedp.Submit(chromedp.CSS(`form[action="/settings/tokens"] input[name=name]`)),
		chromedp.WaitVisible(chromedp.CSS("#newtoken")), shot("sso-03-token"))
	token, err := chromedp.Run(cx, chromedp.Text(chromedp.CSS("#newtoken")))
	if err != nil {
		t.Fatal(err)
	}
	token = strings.TrimSpace(token)
	if !strings.HasPrefix(token, "wharf_pat_") {
		t.Fatalf("token %q", token)
	}
	// Passwords are off: the provider's password is no Wharf password.
	if p := e.browser().post("/signin", "/signin", map[string][]string{"username": {"dana-lee"}, "password": {"dana-secret-1"}}); p.status == http.StatusSeeOther {
		t.Error("a password signs dana in")
	}
	if os.Getenv("WHARF_DOCKER_E2E") == "" {
		t.Log("no Docker engine: docker login left out")
		return
	}
	host := strings.TrimPrefix(base, "http://")
	home := t.TempDir()
	docker := func(stdin string, args ...string) (string, error) {
		cmd := exec.Command("docker", args...)
		cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+home)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := docker(token, "login", host, "-u", "dana-lee", "--password-stdin"); err != nil {
		t.Fatalf("docker login with the token: %v\n%s", err, out)
	}
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "f.txt"), []byte("sso\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tarball := filepath.Join(t.TempDir(), "rootfs.tar")
	if out, err := exec.Command("tar", "-C", src, "-cf", tarball, "f.txt").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v %s", err, out)
	}
	ref := fmt.Sprintf("%s/acme/app:sso", host)
	imp := exec.Command("docker", "import", tarball, ref)
	if out, err := imp.CombinedOutput(); err != nil {
		t.Fatalf("docker import: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("docker", "rmi", "-f", ref).Run() })
	if out, err := docker("", "push", ref); err != nil {
		t.Fatalf("docker push to acme as a member of its devs team: %v\n%s", err, out)
	}
}
