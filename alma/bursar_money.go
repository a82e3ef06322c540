package alma

import "github.com/feebridge/feebridge/fees"

// plainMoney returns the amount s in currency c without the decimal
// parser, for the amounts of nearly every fee: an optional minus sign, 1
// to 15 digits, and optionally a point and 1 to as many digits as c has
// minor units, not zero. It returns false for anything else, which
// [fees.ParseMoney] then reads (or refuses, in its words); for what it
// takes it gives the amount ParseMoney gives.
func plainMoney(s string, c fees.Currency) (fees.Money, bool) {
	places, ok := c.MinorUnits()
	if !ok || s == "" {
		return fees.Money{}, false
	}
	i, neg := 0, s[0] == '-'
	if neg {
		i = 1
	}
	var units int64
	digits := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		units = units*10 + int64(s[i]-'0')
		digits++
	}
	if digits == 0 || digits > 15 {
		return fees.Money{}, false
	}
	frac := 0
	if i < len(s) {
		if s[i] != '.' {
			return fees.Money{}, false
		}
		for i++; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			units = units*10 + int64(s[i]-'0')
			frac++
		}
		if i != len(s) || frac == 0 || frac > places {
			return fees.Money{}, false
		}
	}
	for ; frac < places; frac++ {
		units *= 10
	}
	if units == 0 {
		return fees.Money{}, false
	}
	if neg {
		units = -units
	}
	return fees.FromMinor(units, c), true
}
