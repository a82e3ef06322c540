package peoplesoft

import (
	"fmt"
	"math"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/feebridge/feebridge/fees"
)

var pow10 = [...]int64{1, 10, 100, 1000, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18}

// minorOf returns m in minor units of c. It fails if m is in another
// currency or does not fit in an int64.
func minorOf(m fees.Money, c fees.Currency) (int64, error) {
	if m.Currency() != c {
		return 0, fmt.Errorf("%w: %s: the layout's currency is %s", ErrAmount, m, c)
	}
	minor, _ := c.MinorUnits()
	d := m.Decimal()
	if d.NumDigits() <= 17 {
		e := int(d.Exponent()) + minor
		if e >= 0 && e <= 17-d.NumDigits() {
			return d.CoefficientInt64() * pow10[e], nil
		}
	}
	u, ok := m.MinorUnits()
	if !ok {
		return 0, fmt.Errorf("%w: %s is too large", ErrAmount, m)
	}
	return u, nil
}

// appendAmount writes units (minor units) as the field's format asks,
// without padding or sign: digits, point and decimals.
func appendAmount(dst []byte, units int64, f *cfield, minor int) []byte {
	if units < 0 {
		units = -units
	}
	var buf [24]byte
	i := len(buf)
	for k := 0; k < f.scale; k++ {
		i--
		buf[i] = '0'
	}
	for k := 0; k < minor; k++ {
		i--
		buf[i] = byte('0' + units%10)
		units /= 10
	}
	if f.decimals > 0 && !f.implied {
		i--
		buf[i] = '.'
	}
	for {
		i--
		buf[i] = byte('0' + units%10)
		units /= 10
		if units == 0 {
			break
		}
	}
	return append(dst, buf[i:]...)
}

// parseAmount reads an amount field's content (padding already removed)
// and returns it in minor units. sep is the sign from a separate sign
// field (0 when there is none).
func parseAmount(s string, f *cfield, minor int, sep byte) (int64, error) {
	raw := s
	neg, s, err := amountSign(s, f.sign, sep)
	if err != nil {
		return 0, err
	}
	var whole, frac int64
	var fracDigits int
	if f.implied {
		whole, frac, fracDigits, err = impliedDigits(s, raw, f.decimals)
	} else {
		whole, frac, fracDigits, err = pointedDigits(s, raw, f.decimals)
	}
	if err != nil {
		return 0, err
	}
	return minorUnits(whole, frac, fracDigits, minor, neg, raw)
}

// amountSign reads the sign of an amount as the field's sign rule says:
// from s, or from sep, the separate sign field. It returns s without its
// sign.
func amountSign(s string, rule string, sep byte) (neg bool, rest string, err error) {
	switch rule {
	case SignMinus:
		if len(s) > 0 && s[0] == '-' {
			return true, s[1:], nil
		}
	case SignAlways:
		if len(s) == 0 || (s[0] != '+' && s[0] != '-') {
			return false, s, fmt.Errorf("%w: %q: want a leading + or -", ErrAmount, s)
		}
		return s[0] == '-', s[1:], nil
	case SignSeparate:
		switch sep {
		case '+':
		case '-':
			return true, s, nil
		default:
			return false, s, fmt.Errorf("%w: sign %q: want + or -", ErrAmount, sep)
		}
	}
	return false, s, nil
}

// impliedDigits reads digits with an implied decimal point: "1250" with 2
// decimals is 12.50; "50" is 0.50. raw is the field as written, for
// errors.
func impliedDigits(s, raw string, decimals int) (whole, frac int64, fracDigits int, err error) {
	if max := min(18, 15+decimals); len(s) == 0 || len(s) > max {
		return 0, 0, 0, fmt.Errorf("%w: %q: want 1 to %d digits", ErrAmount, raw, max)
	}
	var v int64
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, 0, 0, fmt.Errorf("%w: %q: want digits only", ErrAmount, raw)
		}
		v = v*10 + int64(s[i]-'0')
	}
	return v / pow10[decimals], v % pow10[decimals], decimals, nil
}

// pointedDigits reads digits with an optional decimal point and at most
// decimals digits after it. raw is the field as written, for errors.
func pointedDigits(s, raw string, decimals int) (whole, frac int64, fracDigits int, err error) {
	i := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		whole = whole*10 + int64(s[i]-'0')
	}
	if i == 0 {
		return 0, 0, 0, fmt.Errorf("%w: %q: want digits", ErrAmount, raw)
	}
	if i > 15 {
		return 0, 0, 0, fmt.Errorf("%w: %q: too many digits", ErrAmount, raw)
	}
	if i == len(s) {
		return whole, 0, 0, nil
	}
	if s[i] != '.' {
		return 0, 0, 0, fmt.Errorf("%w: %q: unexpected %q", ErrAmount, raw, s[i])
	}
	i++
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		frac = frac*10 + int64(s[i]-'0')
		fracDigits++
	}
	switch {
	case i < len(s):
		return 0, 0, 0, fmt.Errorf("%w: %q: unexpected %q", ErrAmount, raw, s[i])
	case fracDigits == 0:
		return 0, 0, 0, fmt.Errorf("%w: %q: no digits after the point", ErrAmount, raw)
	case fracDigits > decimals:
		return 0, 0, 0, fmt.Errorf("%w: %q: more than %d decimals", ErrAmount, raw, decimals)
	}
	return whole, frac, fracDigits, nil
}

// minorUnits brings the fraction to exactly minor digits (extra digits
// must be 0) and returns the signed amount in minor units.
func minorUnits(whole, frac int64, fracDigits, minor int, neg bool, raw string) (int64, error) {
	for fracDigits < minor {
		frac *= 10
		fracDigits++
	}
	for fracDigits > minor {
		if frac%10 != 0 {
			return 0, fmt.Errorf("%w: %q: more than %d decimal places", ErrAmount, raw, minor)
		}
		frac /= 10
		fracDigits--
	}
	units := whole*pow10[minor] + frac
	if neg {
		if units == 0 {
			return 0, fmt.Errorf("%w: %q: negative zero", ErrAmount, raw)
		}
		units = -units
	}
	return units, nil
}

// appendCount writes n in decimal.
func appendCount(dst []byte, n int64) []byte {
	var buf [20]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return append(dst, buf[i:]...)
}

func parseCount(s string) (int64, error) {
	if len(s) == 0 || len(s) > 18 {
		return 0, fmt.Errorf("%w: %q: want 1 to 18 digits", ErrTrailerCount, s)
	}
	var n int64
	for _, b := range s {
		if b < '0' || b > '9' {
			return 0, fmt.Errorf("%w: %q: want digits", ErrTrailerCount, s)
		}
		n = n*10 + int64(b-'0')
	}
	return n, nil
}

// dateCache remembers the last dates formatted or parsed, since a file's
// dates repeat (every charge of a run has the same due date, and payments
// fall on a few days).
type dateCache struct {
	t      time.Time
	layout string
	s      []byte
	ok     bool
	in     [4]string // parsed: the last few texts and their times
	out    [4]time.Time
	n      int
}

func (c *dateCache) format(dst []byte, t time.Time, layout string) []byte {
	if c.ok && t.Equal(c.t) && t.Location() == c.t.Location() && layout == c.layout {
		return append(dst, c.s...)
	}
	c.s = t.AppendFormat(c.s[:0], layout)
	c.t, c.layout, c.ok = t, layout, true
	return append(dst, c.s...)
}

func (c *dateCache) parse(s string, layout string) (time.Time, error) {
	for i := range c.in {
		if c.in[i] == s && s != "" {
			return c.out[i], nil
		}
	}
	t, err := time.Parse(layout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %q: want the layout %q", ErrDate, s, layout)
	}
	i := c.n % len(c.in)
	c.in[i], c.out[i] = s, t
	c.n++
	return t, nil
}

// cleanText applies the column-safety rule to free text (DESCR): control
// characters become spaces and, in a fixed-width file, accented letters
// lose their accents and any other non-ASCII character becomes "?".
func cleanText(s string, ascii bool) string {
	ok := true
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f || (ascii && s[i] >= 0x80) {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	if ascii {
		s = norm.NFD.String(s)
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			b.WriteByte(' ')
		case r == utf8.RuneError:
			b.WriteByte('?')
		case ascii && unicode.Is(unicode.Mn, r):
			// a combining accent: dropped, its letter stays
		case ascii && r >= 0x80:
			b.WriteByte('?')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// checkKey applies the column-safety rule to a key: a character that
// could shift a column (a control character, or non-ASCII in a
// fixed-width file) makes the record an error; keys are never altered.
func checkKey(s string, ascii bool) error {
	high := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c == 0x7f:
			return fmt.Errorf("%w: control character %q", ErrCharset, c)
		case c >= 0x80:
			high = true
		}
	}
	if high && ascii {
		return fmt.Errorf("%w: non-ASCII character in a fixed-width field", ErrCharset)
	}
	if high && !utf8.ValidString(s) {
		return fmt.Errorf("%w: invalid UTF-8", ErrCharset)
	}
	return nil
}

// addUnits adds b to a, failing rather than overflowing.
func addUnits(a, b int64) (int64, error) {
	if (b > 0 && a > math.MaxInt64-b) || (b < 0 && a < math.MinInt64-b) {
		return 0, fmt.Errorf("%w: total overflows", ErrAmount)
	}
	return a + b, nil
}

// moneyCache hands out fees.Money values by minor units. Amounts repeat
// in a file (fines are charged at a few rates), and building a Money
// allocates, so a decoder keeps the values it built in a small
// direct-mapped table. Money is immutable, so sharing one value is safe.
type moneyCache struct {
	cur    fees.Currency
	slots  []moneySlot // len is a power of two, 256 to 4096
	misses int
}

type moneySlot struct {
	units int64
	m     fees.Money
	ok    bool
}

func (c *moneyCache) get(units int64) fees.Money {
	if c.slots == nil {
		c.slots = make([]moneySlot, 256)
	}
	x := uint64(units) // mixed as in MurmurHash3's finalizer
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	s := &c.slots[x&uint64(len(c.slots)-1)]
	if s.ok && s.units == units {
		return s.m
	}
	// A small file needs a small table; a file whose amounts keep
	// missing gets a larger one, up to 4096 amounts.
	if c.misses++; c.misses > 2*len(c.slots) && len(c.slots) < 4096 {
		c.slots, c.misses = make([]moneySlot, 4*len(c.slots)), 0
		s = &c.slots[x&uint64(len(c.slots)-1)]
	}
	s.units, s.m, s.ok = units, fees.FromMinor(units, c.cur), true
	return s.m
}
