package peoplesoft

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// termCodes keeps the term codes that seasons made, so that the charges
// of a file, all in the same term, share one string instead of formatting
// it again for each (a charge file names a handful of terms).
var termCodes struct {
	sync.Mutex
	m map[termKey]string
}

type termKey struct {
	format string
	year   int
	suffix string
}

// maxTermCodes bounds termCodes; codes past it are formatted each time.
const maxTermCodes = 256

// termCode returns the code of the season with suffix in year y, spelled
// by format (see [Calendar.CodeFormat]): by default the century after
// 1800, the year in it and the suffix ("2268" for fall 2026).
func termCode(format string, y int, suffix string) string {
	k := termKey{format, y, suffix}
	termCodes.Lock()
	code, ok := termCodes.m[k]
	termCodes.Unlock()
	if ok {
		return code
	}
	code = strings.NewReplacer(
		"{C}", strconv.Itoa(y/100-18),
		"{YYYY}", fmt.Sprintf("%04d", y),
		"{YY}", fmt.Sprintf("%02d", y%100),
		"{SUFFIX}", suffix,
	).Replace(format)
	termCodes.Lock()
	if termCodes.m == nil {
		termCodes.m = make(map[termKey]string)
	}
	if len(termCodes.m) < maxTermCodes {
		termCodes.m[k] = code
	}
	termCodes.Unlock()
	return code
}

// daysInMonth holds the days of each month of a leap year, as time.Parse
// reads a date without a year (in year 0, a leap year).
var daysInMonth = [13]int{0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
