package alma

import (
	"errors"
	"fmt"
	"time"
)

// bursarZones are the zone suffixes the decoder knows without being told.
// IST is Israel Standard Time, as on Ex Libris' own servers; an institution
// in India passes its own meaning in DecoderOptions.Zones.
var bursarZones = map[string]*time.Location{
	"UTC":  time.UTC,
	"GMT":  time.UTC,
	"Z":    time.UTC,
	"EST":  time.FixedZone("EST", -5*3600),
	"EDT":  time.FixedZone("EDT", -4*3600),
	"CST":  time.FixedZone("CST", -6*3600),
	"CDT":  time.FixedZone("CDT", -5*3600),
	"MST":  time.FixedZone("MST", -7*3600),
	"MDT":  time.FixedZone("MDT", -6*3600),
	"PST":  time.FixedZone("PST", -8*3600),
	"PDT":  time.FixedZone("PDT", -7*3600),
	"AKST": time.FixedZone("AKST", -9*3600),
	"AKDT": time.FixedZone("AKDT", -8*3600),
	"HST":  time.FixedZone("HST", -10*3600),
	"BST":  time.FixedZone("BST", 1*3600),
	"CET":  time.FixedZone("CET", 1*3600),
	"CEST": time.FixedZone("CEST", 2*3600),
	"IST":  time.FixedZone("IST", 2*3600),
	"IDT":  time.FixedZone("IDT", 3*3600),
	"AEST": time.FixedZone("AEST", 10*3600),
	"AEDT": time.FixedZone("AEDT", 11*3600),
}

// bursarDateLayout is how the encoders write dates, and the fullest form
// the decoder reads: MM/DD/YYYY HH:MM:SS, without a zone suffix.
const bursarDateLayout = "01/02/2006 15:04:05"

var errBadDate = errors.New("want MM/DD/YYYY HH:MM:SS with an optional zone suffix")

// parseBursarDate reads Alma's dates: "MM/DD/YYYY", "MM/DD/YYYY HH:MM" or
// "MM/DD/YYYY HH:MM:SS", each with an optional zone suffix after a space
// (an abbreviation such as "IST", or a numeric offset such as "+0200").
// Without a suffix the date is in loc. The empty string is the zero time.
func parseBursarDate(s string, loc *time.Location, zones map[string]*time.Location) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	num := func(i, n int) (int, bool) {
		if i+n > len(s) {
			return 0, false
		}
		v := 0
		for _, c := range []byte(s[i : i+n]) {
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		return v, true
	}
	month, ok1 := num(0, 2)
	day, ok2 := num(3, 2)
	year, ok3 := num(6, 4)
	if !ok1 || !ok2 || !ok3 || s[2] != '/' || s[5] != '/' {
		return time.Time{}, errBadDate
	}
	i := 10
	var hour, minute, sec int
	if i+6 <= len(s) && s[i] == ' ' && s[i+3] == ':' {
		var okh, okm bool
		hour, okh = num(i+1, 2)
		minute, okm = num(i+4, 2)
		if !okh || !okm {
			return time.Time{}, errBadDate
		}
		i += 6
		if i+3 <= len(s) && s[i] == ':' {
			var oks bool
			if sec, oks = num(i+1, 2); !oks {
				return time.Time{}, errBadDate
			}
			i += 3
		}
	}
	if i < len(s) {
		if s[i] != ' ' || i+1 == len(s) {
			return time.Time{}, errBadDate
		}
		z, err := bursarZone(s[i+1:], zones)
		if err != nil {
			return time.Time{}, err
		}
		loc = z
	}
	if year < 1000 {
		return time.Time{}, fmt.Errorf("year %d is out of range", year)
	}
	if month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, fmt.Errorf("%q is not a valid date and time", s)
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, 0, loc)
	if t.Day() != day {
		return time.Time{}, fmt.Errorf("%q is not a valid date", s)
	}
	// Keep the instant a year away from the ends of the four-digit years,
	// so that it can be written back in any time zone.
	if y := t.UTC().Year(); y < 1001 || y > 9998 {
		return time.Time{}, fmt.Errorf("year %d is out of range", year)
	}
	return t, nil
}

// bursarZone resolves a zone suffix.
func bursarZone(z string, zones map[string]*time.Location) (*time.Location, error) {
	if l, ok := zones[z]; ok && l != nil {
		return l, nil
	}
	if l, ok := bursarZones[z]; ok {
		return l, nil
	}
	if len(z) == 5 || len(z) == 6 {
		// +hhmm or +hh:mm
		sign := 0
		switch z[0] {
		case '+':
			sign = 1
		case '-':
			sign = -1
		}
		hm := z[1:]
		if len(hm) == 5 && hm[2] == ':' {
			hm = hm[:2] + hm[3:]
		}
		if sign != 0 && len(hm) == 4 {
			v := 0
			for _, c := range []byte(hm) {
				if c < '0' || c > '9' {
					v = -1
					break
				}
				v = v*10 + int(c-'0')
			}
			if v >= 0 && v/100 <= 14 && v%100 < 60 {
				off := sign * ((v/100)*3600 + (v%100)*60)
				return time.FixedZone(z, off), nil
			}
		}
	}
	return nil, fmt.Errorf("unknown time zone %q", z)
}
