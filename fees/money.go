package fees

import (
	"fmt"
	"strings"

	"github.com/shopspring/decimal"
)

// Currency is an ISO 4217 currency code such as "USD".
type Currency string

// minorUnits lists the currencies feebridge knows and how many decimal
// places an amount in each may carry.
var minorUnits = map[Currency]int32{
	"USD": 2, "CAD": 2, "EUR": 2, "GBP": 2, "AUD": 2, "NZD": 2, "CHF": 2,
	"ILS": 2, "SEK": 2, "NOK": 2, "DKK": 2, "SGD": 2, "HKD": 2, "ZAR": 2,
	"MXN": 2, "INR": 2, "CNY": 2, "PLN": 2, "CZK": 2, "BRL": 2,
	"JPY": 0, "KRW": 0, "ISK": 0,
	"KWD": 3, "BHD": 3, "OMR": 3, "JOD": 3,
}

// USD is the United States dollar, the currency of the reference layouts.
const USD Currency = "USD"

// MinorUnits reports how many decimal places amounts in c may carry, and
// whether c is a currency feebridge knows.
func (c Currency) MinorUnits() (int, bool) {
	n, ok := minorUnits[c]
	return int(n), ok
}

// Valid reports whether c is a known currency.
func (c Currency) Valid() bool {
	_, ok := minorUnits[c]
	return ok
}

// ParseCurrency returns the known currency named by code, or an error with
// code [EINVALID].
func ParseCurrency(code string) (Currency, error) {
	c := Currency(code)
	if !c.Valid() {
		return "", Errorf(EINVALID, "unknown currency %q", code)
	}
	return c, nil
}

// Money is an exact amount in a currency. The zero Money has no currency
// and is not valid for arithmetic; build one with [ParseMoney], [NewMoney],
// [FromMinor] or [Zero].
//
// Money never holds more decimal places than its currency has, so every
// sum and difference of two Money values is exact.
type Money struct {
	amount   decimal.Decimal
	currency Currency
}

// Zero returns no money in currency c.
func Zero(c Currency) Money { return Money{currency: c} }

// FromMinor returns units minor units (cents for USD) of currency c. It
// panics if c is not a known currency, since that is a programming error.
func FromMinor(units int64, c Currency) Money {
	n, ok := c.MinorUnits()
	if !ok {
		panic(fmt.Sprintf("fees.FromMinor: unknown currency %q", c))
	}
	return Money{amount: decimal.New(units, -int32(n)), currency: c}
}

// NewMoney returns d in currency c. It fails with [EINVALID] if c is not
// known or d has more decimal places than c allows.
func NewMoney(d decimal.Decimal, c Currency) (Money, error) {
	n, ok := c.MinorUnits()
	if !ok {
		return Money{}, Errorf(EINVALID, "unknown currency %q", c)
	}
	if !d.Equal(d.Truncate(int32(n))) {
		return Money{}, Errorf(EINVALID, "amount %s has more than %d decimal places for %s", d.String(), n, c)
	}
	return Money{amount: d, currency: c}, nil
}

// ParseMoney parses an amount written as Alma and PeopleSoft write them:
// an optional minus sign, one or more digits, and optionally a point
// followed by one to as many digits as the currency has minor units
// ("300", "0.82", "12.50", "-5.00").
//
// Everything else is an error with code [EINVALID], never a rounding:
// "12.345" for USD, "1e3", "NaN", "", " 1", "+1", "1.", ".5", "1,000" and
// negative zero ("-0", "-0.00").
func ParseMoney(s string, c Currency) (Money, error) {
	n, ok := c.MinorUnits()
	if !ok {
		return Money{}, Errorf(EINVALID, "amount %q: unknown currency %q", s, c)
	}
	if err := checkAmountSyntax(s, n); err != nil {
		return Money{}, Errorf(EINVALID, "amount %q: %s", s, err)
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return Money{}, Errorf(EINVALID, "amount %q: %v", s, err)
	}
	if d.IsZero() && strings.HasPrefix(s, "-") {
		return Money{}, Errorf(EINVALID, "amount %q: negative zero", s)
	}
	return Money{amount: d, currency: c}, nil
}

func checkAmountSyntax(s string, places int) error {
	if s == "" {
		return fmt.Errorf("empty")
	}
	i := 0
	if s[0] == '-' {
		i = 1
	}
	digits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		digits++
	}
	if digits == 0 {
		return fmt.Errorf("want digits, an optional minus sign and point")
	}
	if digits > 15 {
		return fmt.Errorf("more than 15 integer digits")
	}
	if i == len(s) {
		return nil
	}
	if s[i] != '.' {
		return fmt.Errorf("unexpected character %q", s[i])
	}
	i++
	frac := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		frac++
	}
	if i != len(s) {
		return fmt.Errorf("unexpected character %q", s[i])
	}
	if frac == 0 {
		return fmt.Errorf("no digits after the point")
	}
	if frac > places {
		return fmt.Errorf("more than %d decimal places", places)
	}
	return nil
}

// MustParseMoney is like [ParseMoney] but panics on error. It is meant for
// constants in tests and examples.
func MustParseMoney(s string, c Currency) Money {
	m, err := ParseMoney(s, c)
	if err != nil {
		panic(err)
	}
	return m
}

// Currency returns m's currency.
func (m Money) Currency() Currency { return m.currency }

// Decimal returns m's amount as an exact decimal.
func (m Money) Decimal() decimal.Decimal { return m.amount }

// Valid reports whether m has a known currency.
func (m Money) Valid() bool { return m.currency.Valid() }

// Amount formats m's amount with exactly its currency's decimal places,
// such as "12.50" or "-3.00", and no currency code.
func (m Money) Amount() string {
	n, _ := m.currency.MinorUnits()
	return m.amount.StringFixed(int32(n))
}

// String formats m as its amount followed by its currency: "12.50 USD".
func (m Money) String() string {
	if m.currency == "" {
		return m.Amount()
	}
	return m.Amount() + " " + string(m.currency)
}

// MinorUnits returns m as a whole number of minor units (cents for USD)
// and whether it fits in an int64.
func (m Money) MinorUnits() (int64, bool) {
	n, _ := m.currency.MinorUnits()
	d := m.amount.Shift(int32(n))
	if !d.IsInteger() || d.Cmp(decimal.NewFromInt(int64(^uint64(0)>>1))) > 0 ||
		d.Cmp(decimal.NewFromInt(-int64(^uint64(0)>>1))) < 0 {
		return 0, false
	}
	return d.IntPart(), true
}

// IsZero reports whether m is zero.
func (m Money) IsZero() bool { return m.amount.IsZero() }

// IsPositive reports whether m is above zero.
func (m Money) IsPositive() bool { return m.amount.IsPositive() }

// IsNegative reports whether m is below zero.
func (m Money) IsNegative() bool { return m.amount.IsNegative() }

// Neg returns -m.
func (m Money) Neg() Money { return Money{amount: m.amount.Neg(), currency: m.currency} }

// Abs returns |m|.
func (m Money) Abs() Money { return Money{amount: m.amount.Abs(), currency: m.currency} }

func (m Money) sameCurrency(op string, o Money) error {
	if m.currency != o.currency {
		return &Error{Code: ECURRENCY, Message: fmt.Sprintf("cannot %s %s and %s: currencies differ", op, m, o)}
	}
	return nil
}

// Add returns m+o, or an error with code [ECURRENCY] if their currencies
// differ.
func (m Money) Add(o Money) (Money, error) {
	if err := m.sameCurrency("add", o); err != nil {
		return Money{}, err
	}
	return Money{amount: m.amount.Add(o.amount), currency: m.currency}, nil
}

// Sub returns m-o, or an error with code [ECURRENCY] if their currencies
// differ.
func (m Money) Sub(o Money) (Money, error) {
	if err := m.sameCurrency("subtract", o); err != nil {
		return Money{}, err
	}
	return Money{amount: m.amount.Sub(o.amount), currency: m.currency}, nil
}

// Cmp compares m and o: -1 if m < o, 0 if equal, +1 if m > o. It fails
// with [ECURRENCY] if their currencies differ.
func (m Money) Cmp(o Money) (int, error) {
	if err := m.sameCurrency("compare", o); err != nil {
		return 0, err
	}
	return m.amount.Cmp(o.amount), nil
}

// Equal reports whether m and o have the same currency and amount.
func (m Money) Equal(o Money) bool {
	return m.currency == o.currency && m.amount.Equal(o.amount)
}

// Sum adds ms, which must all be in currency c. An empty list sums to
// Zero(c).
func Sum(c Currency, ms ...Money) (Money, error) {
	total := Zero(c)
	for _, m := range ms {
		var err error
		if total, err = total.Add(m); err != nil {
			return Money{}, err
		}
	}
	return total, nil
}

// MarshalText encodes m as "12.50 USD".
func (m Money) MarshalText() ([]byte, error) {
	if !m.Valid() {
		return nil, Errorf(EINVALID, "cannot encode money without a known currency")
	}
	return []byte(m.String()), nil
}

// UnmarshalText decodes "12.50 USD" strictly, as [ParseMoney] does.
func (m *Money) UnmarshalText(b []byte) error {
	amount, code, ok := strings.Cut(string(b), " ")
	if !ok {
		return Errorf(EINVALID, "money %q: want \"<amount> <currency>\"", b)
	}
	c, err := ParseCurrency(code)
	if err != nil {
		return err
	}
	v, err := ParseMoney(amount, c)
	if err != nil {
		return err
	}
	*m = v
	return nil
}
