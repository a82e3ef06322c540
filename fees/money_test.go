package fees_test

import (
	"encoding/json"
	"testing"

	"github.com/feebridge/feebridge/fees"
)

func TestParseMoney(t *testing.T) {
	tests := []struct {
		in   string
		cur  fees.Currency
		want string // formatted, "" when an error is expected
	}{
		{"300", fees.USD, "300.00 USD"},
		{"14", fees.USD, "14.00 USD"},
		{"0.82", fees.USD, "0.82 USD"},
		{"123.45", fees.USD, "123.45 USD"},
		{"12.5", fees.USD, "12.50 USD"},
		{"-5.00", fees.USD, "-5.00 USD"},
		{"0", fees.USD, "0.00 USD"},
		{"007.10", fees.USD, "7.10 USD"},
		{"1500", "JPY", "1500 JPY"},
		{"1.234", "KWD", "1.234 KWD"},
		{"999999999999999.99", fees.USD, "999999999999999.99 USD"},

		{"12.345", fees.USD, ""},
		{"12.340", fees.USD, ""},
		{"1.5", "JPY", ""},
		{"-0", fees.USD, ""},
		{"-0.00", fees.USD, ""},
		{"1e3", fees.USD, ""},
		{"NaN", fees.USD, ""},
		{"Inf", fees.USD, ""},
		{"", fees.USD, ""},
		{" 1", fees.USD, ""},
		{"1 ", fees.USD, ""},
		{"+1", fees.USD, ""},
		{"1.", fees.USD, ""},
		{".5", fees.USD, ""},
		{"-", fees.USD, ""},
		{"1,000", fees.USD, ""},
		{"1.2.3", fees.USD, ""},
		{"--1", fees.USD, ""},
		{"0x10", fees.USD, ""},
		{"1000000000000000", fees.USD, ""},
		{"10", "XXX", ""},
		{"10", "", ""},
	}
	for _, tt := range tests {
		got, err := fees.ParseMoney(tt.in, tt.cur)
		if tt.want == "" {
			if err == nil {
				t.Errorf("ParseMoney(%q, %q) = %v, want an error", tt.in, tt.cur, got)
			} else if fees.ErrorCode(err) != fees.EINVALID {
				t.Errorf("ParseMoney(%q, %q) error code = %q, want %q", tt.in, tt.cur, fees.ErrorCode(err), fees.EINVALID)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseMoney(%q, %q) error: %v", tt.in, tt.cur, err)
			continue
		}
		if got.String() != tt.want {
			t.Errorf("ParseMoney(%q, %q) = %s, want %s", tt.in, tt.cur, got, tt.want)
		}
	}
}

func TestParseMoneyErrorNamesTheInput(t *testing.T) {
	_, err := fees.ParseMoney("12.345", fees.USD)
	if err == nil || err.Error() != `amount "12.345": more than 2 decimal places` {
		t.Fatalf("error = %v", err)
	}
}

func TestMoneyArithmeticIsExact(t *testing.T) {
	// 0.10 added ten thousand times is exactly 1000.00: no float drift.
	total := fees.Zero(fees.USD)
	dime := fees.MustParseMoney("0.10", fees.USD)
	for range 10000 {
		var err error
		if total, err = total.Add(dime); err != nil {
			t.Fatal(err)
		}
	}
	if got := total.Amount(); got != "1000.00" {
		t.Fatalf("sum = %s, want 1000.00", got)
	}
	diff, err := fees.MustParseMoney("0.30", fees.USD).Sub(fees.MustParseMoney("0.10", fees.USD))
	if err != nil {
		t.Fatal(err)
	}
	if diff.Amount() != "0.20" {
		t.Fatalf("0.30 - 0.10 = %s", diff.Amount())
	}
}

func TestMoneyCurrencyMismatch(t *testing.T) {
	usd := fees.MustParseMoney("1.00", fees.USD)
	eur := fees.MustParseMoney("1.00", "EUR")
	if _, err := usd.Add(eur); fees.ErrorCode(err) != fees.ECURRENCY {
		t.Errorf("Add error = %v, want %s", err, fees.ECURRENCY)
	}
	if _, err := usd.Sub(eur); fees.ErrorCode(err) != fees.ECURRENCY {
		t.Errorf("Sub error = %v, want %s", err, fees.ECURRENCY)
	}
	if _, err := usd.Cmp(eur); fees.ErrorCode(err) != fees.ECURRENCY {
		t.Errorf("Cmp error = %v, want %s", err, fees.ECURRENCY)
	}
	if _, err := fees.Sum(fees.USD, usd, eur); fees.ErrorCode(err) != fees.ECURRENCY {
		t.Errorf("Sum error = %v, want %s", err, fees.ECURRENCY)
	}
	if usd.Equal(eur) {
		t.Error("1.00 USD equals 1.00 EUR")
	}
}

func TestMoneyMinorUnits(t *testing.T) {
	m := fees.FromMinor(1250, fees.USD)
	if m.String() != "12.50 USD" {
		t.Fatalf("FromMinor(1250) = %s", m)
	}
	if n, ok := m.MinorUnits(); !ok || n != 1250 {
		t.Fatalf("MinorUnits = %d, %v", n, ok)
	}
	if n, ok := fees.MustParseMoney("-0.07", fees.USD).MinorUnits(); !ok || n != -7 {
		t.Fatalf("MinorUnits(-0.07) = %d, %v", n, ok)
	}
}

func TestNewMoneyRejectsExtraPlaces(t *testing.T) {
	d := fees.MustParseMoney("1.23", fees.USD).Decimal().Div(fees.MustParseMoney("10", fees.USD).Decimal())
	if _, err := fees.NewMoney(d, fees.USD); fees.ErrorCode(err) != fees.EINVALID {
		t.Fatalf("NewMoney(0.123) error = %v, want %s", err, fees.EINVALID)
	}
}

func TestMoneyJSON(t *testing.T) {
	type doc struct {
		Amount fees.Money `json:"amount"`
	}
	b, err := json.Marshal(doc{fees.MustParseMoney("12.5", fees.USD)})
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"amount":"12.50 USD"}` {
		t.Fatalf("Marshal = %s", b)
	}
	var d doc
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	if !d.Amount.Equal(fees.MustParseMoney("12.50", fees.USD)) {
		t.Fatalf("Unmarshal = %s", d.Amount)
	}
	for _, bad := range []string{`{"amount":"12.345 USD"}`, `{"amount":"12.34"}`, `{"amount":"12.34 XYZ"}`, `{"amount":12.34}`} {
		if err := json.Unmarshal([]byte(bad), &d); err == nil {
			t.Errorf("Unmarshal(%s) succeeded", bad)
		}
	}
	if _, err := json.Marshal(doc{}); err == nil {
		t.Error("Marshal of money without a currency succeeded")
	}
}

func FuzzParseMoney(f *testing.F) {
	for _, s := range []string{"300", "0.82", "123.45", "-5.00", "12.345", "1e3", "NaN", "", " 1", "-0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := fees.ParseMoney(s, fees.USD)
		if err != nil {
			return
		}
		// Whatever is accepted formats back to the same value and parses
		// again to an equal amount.
		again, err := fees.ParseMoney(m.Amount(), fees.USD)
		if err != nil {
			t.Fatalf("ParseMoney(%q) = %s, whose Amount %q does not parse: %v", s, m, m.Amount(), err)
		}
		if !again.Equal(m) {
			t.Fatalf("round trip of %q: %s != %s", s, again, m)
		}
		if !m.Decimal().Equal(m.Decimal().Truncate(2)) {
			t.Fatalf("ParseMoney(%q) kept more than 2 places: %s", s, m.Decimal())
		}
	})
}
