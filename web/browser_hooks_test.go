package web_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserWebhookLog opens a webhook's page with a delivered, a
// retrying and a failed delivery in Chromium, opens the retrying one's
// details, and screenshots it wide and on a phone, light and dark, into
// WHARF_SCREENSHOTS (default /tmp/hook-shots): the page never scrolls
// sideways, and the states keep WCAG AA contrast.
func TestBrowserWebhookLog(t *testing.T) {
	shots := browserE2E(t, "/tmp/hook-shots")
	e := newEnv(t, "alice")
	a := e.browser()
	a.signin("alice")
	l := seedHookLog(t, e, a)

	ctx := chrome(t, 2*time.Minute)
	run := runner(t, ctx)
	shot := shooter(shots, false)

	// A full screenshot of the page from its top (the header is sticky).
	top := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](`window.scrollTo(0, 0), true`)(ctx, tg)
		return err
	})
	base := e.srv.URL
	run("sign in", chromedp.Navigate(base+"/signin"), chromedp.WaitVisible(chromedp.CSS(`input[name=username]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), "alice"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), pw),
		chromedp.Submit(chromedp.CSS(`form[action="/signin"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/signout"]`)))
	open := `#delivery-` + l.retrying
	run("the webhook's page", chromedp.Navigate(base+l.page), chromedp.WaitVisible(chromedp.CSS(".deliveries")),
		chromedp.Click(chromedp.CSS(open+" > summary")), chromedp.WaitVisible(chromedp.CSS(open+" .delivery-body pre.payload")))
	for _, size := range []struct {
		name          string
		width, height int64
	}{{"wide", 1280, 900}, {"phone", 390, 844}} {
		for _, scheme := range []string{"light", "dark"} {
			run(size.name+" "+scheme, chromedp.EmulateViewport(size.width, size.height), colorScheme(scheme),
				top, shot("webhook-"+size.name+"-"+scheme))
			overflow, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
			if err != nil {
				t.Fatal(err)
			}
			if overflow {
				t.Errorf("%s, %s: the page scrolls sideways", size.name, scheme)
			}
		}
	}
	checkContrast(t, ctx, "the webhook's page", ".state, .delivery-meta, .delivery-body h3, .delivery-body dd")
}
