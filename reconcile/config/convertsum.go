package config

import (
	"math"

	"github.com/feebridge/feebridge/fees"
)

// plainSum adds up the amounts of a plain conversion: in whole minor
// units in an int64 while the currency's minor unit is known and the sum
// fits, in exact decimals for the rest, so the running total costs no
// allocation per fee. The first amount sets the currency; another
// currency is refused, as [fees.Money.Add] refuses it.
type plainSum struct {
	started bool
	cur     fees.Currency
	places  int32
	known   bool
	minor   int64      // the amounts added in minor units
	rest    fees.Money // the amounts that did not fit in minor
}

// pow10 holds the powers of ten a coefficient may be scaled by.
var pow10 = [...]int64{1, 10, 100, 1000}

// add adds m, or fails when m's currency is not the first amount's.
func (s *plainSum) add(m fees.Money) error {
	if !s.started {
		s.started, s.cur = true, m.Currency()
		n, ok := s.cur.MinorUnits()
		s.places, s.known = int32(n), ok
		s.rest = fees.Zero(s.cur)
	}
	if m.Currency() != s.cur {
		t, err := s.total()
		if err == nil {
			_, err = t.Add(m) // the currency error, in Money's words
		}
		return err
	}
	if u, ok := s.minorOf(m); ok && !(u > 0 && s.minor > math.MaxInt64-u) && !(u < 0 && s.minor < math.MinInt64-u) {
		s.minor += u
		return nil
	}
	var err error
	s.rest, err = s.rest.Add(m)
	return err
}

// minorOf returns m in whole minor units when that is cheap and exact:
// a coefficient of at most 15 digits scaled by at most 1000.
func (s *plainSum) minorOf(m fees.Money) (int64, bool) {
	if !s.known {
		return 0, false
	}
	d := m.Decimal()
	if d.Sign() == 0 {
		return 0, true
	}
	e := d.Exponent() + s.places
	if e < 0 || int(e) >= len(pow10) || d.NumDigits() > 15 {
		return 0, false
	}
	return d.CoefficientInt64() * pow10[e], true
}

// total returns the sum of the amounts added, or the zero Money when none
// was.
func (s *plainSum) total() (fees.Money, error) {
	if !s.started {
		return fees.Money{}, nil
	}
	if !s.known || s.minor == 0 {
		return s.rest, nil
	}
	return fees.FromMinor(s.minor, s.cur).Add(s.rest)
}
