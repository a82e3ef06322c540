// Package browsertest renders HTML in a real headless Chromium from a Go
// test, driven by github.com/chromedp/chromedp: at each viewport width it
// checks that nothing overflows horizontally, returns the page's text for
// assertions and saves a full-page PNG screenshot as a test artifact.
//
// Chromium is found on the PATH (chromium, chromium-browser,
// google-chrome, google-chrome-stable). Without it the test is skipped,
// unless FEEBRIDGE_REQUIRE_CHROMIUM=1, as CI sets it: then it fails.
// Screenshots go to $FEEBRIDGE_ARTIFACTS when set, else to the test's
// temporary folder (the path is logged).
//
// It is test support: production code never imports it.
package browsertest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Page is what Check saw of the HTML at one viewport width.
type Page struct {
	Width       int      // the viewport's width, CSS pixels
	Text        string   // the page's visible text (document.body.innerText)
	ScrollWidth int      // document.documentElement.scrollWidth
	Overflowing []string // elements whose right edge passes the viewport, described
	Screenshot  string   // the full-page PNG's path
}

// Browsers are the program names Chromium is looked for under, in order.
var Browsers = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// FindChromium returns the path of the first of Browsers on the PATH, or
// "" when there is none.
func FindChromium() string {
	for _, name := range Browsers {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// FileName is the screenshot file of name at width: name with anything
// but letters, digits, '.', '_' and '-' made '-', then the width.
func FileName(name string, width int) string {
	return fmt.Sprintf("%s-%d.png", unsafeChars.ReplaceAllString(name, "-"), width)
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// ArtifactsDir is the folder for the test's artifacts: $FEEBRIDGE_ARTIFACTS
// (created when missing), else a temporary folder of t, whose path it
// logs.
func ArtifactsDir(t testing.TB) string {
	t.Helper()
	if dir := os.Getenv("FEEBRIDGE_ARTIFACTS"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatalf("browsertest: artifacts folder: %v", err)
		}
		return dir
	}
	dir := t.TempDir()
	t.Logf("browsertest: screenshots in %s (set FEEBRIDGE_ARTIFACTS to keep them)", dir)
	return dir
}

// pageHeight is the viewport's height; the screenshots take the full page.
const pageHeight = 900

// Check loads html in headless Chromium at each of widths (1280 and 400
// when none is given), reports as test errors anything that overflows
// the viewport horizontally, saves a full-page screenshot per width named
// after name (see FileName) in ArtifactsDir, and returns what it saw.
func Check(t testing.TB, name string, html []byte, widths ...int) []Page {
	t.Helper()
	if len(widths) == 0 {
		widths = []int{1280, 400}
	}
	ctx := Browser(t)
	srv := serve(t, html)
	dir := ArtifactsDir(t)
	pages := make([]Page, 0, len(widths))
	for _, w := range widths {
		p, err := load(ctx, srv, w)
		if err != nil {
			t.Fatalf("browsertest: %s at %d px: %v", name, w, err)
		}
		p.Screenshot = filepath.Join(dir, FileName(name, w))
		if err := os.WriteFile(p.Screenshot, p.png, 0o644); err != nil {
			t.Fatalf("browsertest: %v", err)
		}
		if p.ScrollWidth > w || len(p.Overflowing) > 0 {
			t.Errorf("browsertest: %s overflows at %d px (scroll width %d): %s; see %s", name, w, p.ScrollWidth,
				strings.Join(p.Overflowing, "; "), p.Screenshot)
		}
		pages = append(pages, p.Page)
	}
	return pages
}

// Browser starts headless Chromium for the test and returns its chromedp
// context, closed when the test ends. It skips the test when Chromium is
// missing, and fails it then when FEEBRIDGE_REQUIRE_CHROMIUM=1.
func Browser(t testing.TB) context.Context {
	t.Helper()
	exe := FindChromium()
	if exe == "" {
		if os.Getenv("FEEBRIDGE_REQUIRE_CHROMIUM") == "1" {
			t.Fatalf("browsertest: no Chromium on the PATH (looked for %s) and FEEBRIDGE_REQUIRE_CHROMIUM=1",
				strings.Join(Browsers, ", "))
		}
		t.Skipf("browsertest: no Chromium on the PATH (looked for %s)", strings.Join(Browsers, ", "))
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.DisableGPU,
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("font-render-hinting", "none"),
	)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium refuses its sandbox to root
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("browsertest: starting %s: %v", exe, err)
	}
	return ctx
}

// serve serves html on 127.0.0.1 for the test.
func serve(t testing.TB, html []byte) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("browsertest: %v", err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(html)
	}))
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL + "/"
}

// measure is the script that measures the page: its scroll width, the
// elements whose right edge passes the viewport, and its text.
const measure = `(() => {
  const w = window.innerWidth, over = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if ((r.width === 0 && r.height === 0) || r.right <= w + 0.5) continue;
    let d = el.tagName.toLowerCase();
    if (el.className) d += '.' + String(el.className).trim().split(/\s+/).join('.');
    over.push(d + ' (right edge ' + Math.round(r.right) + ' px: "' + (el.textContent || '').trim().slice(0, 40) + '")');
    if (over.length >= 10) break;
  }
  return {scrollWidth: document.documentElement.scrollWidth, over: over, text: document.body.innerText};
})()`

type seen struct {
	Page
	png []byte
}

// load opens url at width and measures it.
func load(ctx context.Context, url string, width int) (seen, error) {
	// A guard against a browser that hangs, not a timed assertion.
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	var s seen
	s.Width = width
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(width), pageHeight), chromedp.Navigate(url),
		chromedp.WaitReady("body")); err != nil {
		return s, err
	}
	m, err := chromedp.Run(ctx, chromedp.Evaluate[struct {
		ScrollWidth int      `json:"scrollWidth"`
		Over        []string `json:"over"`
		Text        string   `json:"text"`
	}](measure))
	if err != nil {
		return s, err
	}
	s.ScrollWidth, s.Overflowing, s.Text = m.ScrollWidth, m.Over, m.Text
	s.png, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
	return s, err
}
