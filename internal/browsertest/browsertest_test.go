package browsertest_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/feebridge/feebridge/internal/browsertest"
)

// recorder keeps the errors Check reports instead of failing the test.
type recorder struct {
	*testing.T
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestCheck(t *testing.T) {
	page := []byte(`<!DOCTYPE html><html><head><meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><h1>Fees</h1><p>a long reason that wraps</p></body></html>`)
	pages := browsertest.Check(t, "plain page", page, 1280, 400)
	if len(pages) != 2 || pages[1].Width != 400 || !strings.Contains(pages[0].Text, "a long reason that wraps") {
		t.Fatalf("pages = %+v", pages)
	}
	for _, p := range pages {
		if fi, err := os.Stat(p.Screenshot); err != nil || fi.Size() == 0 {
			t.Errorf("screenshot %s: %v", p.Screenshot, err)
		}
	}
}

// TestCheckFindsOverflow: a table with a fixed width, and a word that
// does not wrap, pass the edge of a phone's screen.
func TestCheckFindsOverflow(t *testing.T) {
	page := []byte(`<!DOCTYPE html><html><head><meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><table style="width:900px"><tr><td>wide</td></tr></table><p>` + strings.Repeat("x", 200) + `</p></body></html>`)
	r := &recorder{T: t}
	browsertest.Check(r, "overflowing page", page, 400)
	if len(r.errs) != 1 || !strings.Contains(r.errs[0], "overflows at 400 px") || !strings.Contains(r.errs[0], "table") {
		t.Errorf("errors = %q, want one naming the table", r.errs)
	}
}

func ExampleFileName() {
	fmt.Println(browsertest.FileName("daily report/phone", 400))
	// Output: daily-report-phone-400.png
}

// stopper records how Browser ends a test without Chromium.
type stopper struct {
	*testing.T
	how string
}

type stopped struct{}

func (s *stopper) Fatalf(format string, args ...any) {
	s.how = "fatal: " + fmt.Sprintf(format, args...)
	panic(stopped{})
}
func (s *stopper) Skipf(format string, args ...any) {
	s.how = "skip: " + fmt.Sprintf(format, args...)
	panic(stopped{})
}

// TestWithoutChromium: no Chromium on the PATH skips the test, unless
// FEEBRIDGE_REQUIRE_CHROMIUM=1 (CI), which fails it.
func TestWithoutChromium(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	for _, require := range []string{"", "1"} {
		t.Setenv("FEEBRIDGE_REQUIRE_CHROMIUM", require)
		s := &stopper{T: t}
		func() {
			defer func() {
				if r := recover(); r != nil && r != (stopped{}) {
					panic(r)
				}
			}()
			browsertest.Browser(s)
		}()
		want := "skip: "
		if require == "1" {
			want = "fatal: "
		}
		if !strings.HasPrefix(s.how, want) || !strings.Contains(s.how, "no Chromium on the PATH") {
			t.Errorf("FEEBRIDGE_REQUIRE_CHROMIUM=%q: %q, want %s", require, s.how, want)
		}
	}
}
