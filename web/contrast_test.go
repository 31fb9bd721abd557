package web_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// colorScheme makes the page render as prefers-color-scheme: scheme.
func colorScheme(scheme string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}})
		return err
	})
}

// lowContrastJS lists the visible buttons and links of sel whose text is
// below WCAG AA against the background they sit on (4.5:1; 3:1 for large
// text), as "text: ratio" lines.
const lowContrastJS = `(() => {
  const rgb = s => (s.match(/[\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
    .reduce((a, v, i) => a + v * [0.2126, 0.7152, 0.0722][i], 0);
  const bg = el => { for (; el; el = el.parentElement) { const c = rgb(getComputedStyle(el).backgroundColor); if (c.length === 3 || c[3] > 0) return c; } return [255, 255, 255]; };
  const out = [];
  for (const el of document.querySelectorAll(%q)) {
    if (!el.offsetParent || !el.textContent.trim()) continue;
    const s = getComputedStyle(el), a = lum(rgb(s.color)), b = lum(bg(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const large = parseFloat(s.fontSize) >= 24 || (parseFloat(s.fontSize) >= 18.66 && s.fontWeight >= 700);
    if (ratio < (large ? 3 : 4.5)) out.push(el.textContent.trim() + ": " + ratio.toFixed(2));
  }
  return out;
})()`

// checkContrast fails t for any element of sel on the current page, in
// light and dark, below WCAG AA.
func checkContrast(t *testing.T, ctx context.Context, page, sel string) {
	t.Helper()
	for _, scheme := range []string{"light", "dark"} {
		if err := chromedp.Do(ctx, colorScheme(scheme)); err != nil {
			t.Fatal(err)
		}
		low, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](fmt.Sprintf(lowContrastJS, sel)))
		if err != nil {
			t.Fatalf("contrast on %s: %v", page, err)
		}
		if len(low) > 0 {
			t.Errorf("%s, %s: below WCAG AA contrast: %q", page, scheme, low)
		}
	}
	if err := chromedp.Do(ctx, colorScheme("")); err != nil {
		t.Fatal(err)
	}
}
