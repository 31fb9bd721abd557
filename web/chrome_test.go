package web_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// browserE2E skips t unless WHARF_BROWSER_E2E is set (make test sets it,
// with Chromium installed), and returns the directory screenshots go to:
// WHARF_SCREENSHOTS, else def, else a temporary one.
func browserE2E(t *testing.T, def string) string {
	t.Helper()
	if os.Getenv("WHARF_BROWSER_E2E") == "" {
		t.Skip("set WHARF_BROWSER_E2E=1 with Chromium installed (make test does)")
	}
	dir := os.Getenv("WHARF_SCREENSHOTS")
	if dir == "" {
		dir = def
	}
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// chrome starts headless Debian Chromium, 1280 wide, with a profile of its
// own and nothing that calls home, with extra options; its context ends
// after timeout, or with the test.
func chrome(t *testing.T, timeout time.Duration, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath()), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("no-first-run", true), chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(opts, extra...)...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	return ctx
}

// runner runs a step's actions in ctx, failing t with the step's name.
func runner(t *testing.T, ctx context.Context) func(step string, actions ...chromedp.Action[chromedp.Void]) {
	return func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
}

// shooter saves screenshots as dir/NAME.png: of the whole page, or with
// viewport only of what the window shows.
func shooter(dir string, viewport bool) func(name string) chromedp.Action[chromedp.Void] {
	return func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			capture := chromedp.FullScreenshot(100)
			if viewport {
				capture = chromedp.CaptureScreenshot()
			}
			buf, err := capture(ctx, tg)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644)
		})
	}
}
