package alma

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/feebridge/feebridge/fees"
)

// codeValue is Alma's code object {"value":"ACTIVE","desc":"Active"}. Some
// fields come as a plain string instead; both decode.
type codeValue struct {
	Value string `json:"value"`
	Desc  string `json:"desc"`
}

func (c *codeValue) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*c = codeValue{}
		return nil
	case len(b) > 0 && b[0] == '"':
		c.Desc = ""
		return json.Unmarshal(b, &c.Value)
	}
	type plain codeValue
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*c = codeValue(p)
	return nil
}

// flexString is an id that Alma sends as a string or a number.
type flexString string

func (s *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = flexString(v)
		return nil
	}
	if bytes.Equal(b, []byte("null")) {
		*s = ""
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*s = flexString(n)
	return nil
}

// money converts an amount as Alma writes it in JSON (a number such as
// 12.5, 300 or -5.0) exactly: the digits are read as a decimal, never a
// float, and an amount with more places than the currency has is an
// error, not a rounding. Trailing zeros ("12.500") are accepted.
func money(n json.Number, c fees.Currency) (fees.Money, error) {
	s := strings.TrimSpace(string(n))
	if s == "" {
		return fees.Money{}, fees.Errorf(fees.EINVALID, "missing amount")
	}
	if m, err := fees.ParseMoney(s, c); err == nil {
		return m, nil
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return fees.Money{}, fees.Errorf(fees.EINVALID, "amount %q is not a number", s)
	}
	return fees.NewMoney(d, c)
}

// almaTime parses Alma's timestamps ("2019-08-29T12:57:42.196Z") and dates
// ("2019-08-29Z", "2019-08-29"). Empty text is the zero time.
func almaTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02Z07:00", "2006-01-02", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("time %q is not in a form Alma uses", s)
}
