package config

import (
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/feebridge/feebridge/fees"
	"github.com/shopspring/decimal"
)

// TestPlainSumIsMoneyAdd adds the same amounts with plainSum and with
// fees.Money.Add: the totals are equal, in currencies of 0, 2 and 3
// places, with amounts near and past what an int64 of minor units holds,
// and another currency is refused as Money.Add refuses it.
func TestPlainSumIsMoneyAdd(t *testing.T) {
	big := func(s string, c fees.Currency) fees.Money {
		d := decimal.RequireFromString(s)
		m, err := fees.NewMoney(d, c)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	cases := map[string][]fees.Money{
		"usd":       {fees.MustParseMoney("0.01", fees.USD), fees.MustParseMoney("12.5", fees.USD), fees.MustParseMoney("99.99", fees.USD), fees.MustParseMoney("-3.00", fees.USD)},
		"jpy":       {fees.MustParseMoney("100", "JPY"), fees.MustParseMoney("1", "JPY")},
		"kwd":       {fees.MustParseMoney("1.005", "KWD"), fees.MustParseMoney("2", "KWD")},
		"near-max":  {fees.FromMinor(math.MaxInt64-5, fees.USD), fees.FromMinor(3, fees.USD), fees.FromMinor(7, fees.USD), fees.FromMinor(math.MaxInt64, fees.USD)},
		"near-min":  {fees.FromMinor(math.MinInt64+5, fees.USD), fees.FromMinor(-9, fees.USD), fees.FromMinor(2, fees.USD)},
		"huge":      {big("123456789012345678901234.5", fees.USD), fees.FromMinor(1, fees.USD)},
		"whole-e3":  {big("5e3", fees.USD), big("1e20", fees.USD)},
		"only-zero": {fees.Zero(fees.USD)},
	}
	for name, amounts := range cases {
		var s plainSum
		want := amounts[0]
		for i, m := range amounts {
			if err := s.add(m); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if i > 0 {
				want, _ = want.Add(m)
			}
		}
		got, err := s.total()
		if err != nil || !got.Equal(want) || got.String() != want.String() {
			t.Errorf("%s: plainSum %v (%v), Money.Add %v", name, got, err, want)
		}
	}
	var s plainSum
	_ = s.add(fees.FromMinor(1, fees.USD))
	_, want := fees.FromMinor(1, fees.USD).Add(fees.FromMinor(1, "EUR"))
	if err := s.add(fees.FromMinor(1, "EUR")); err == nil || err.Error() != want.Error() {
		t.Errorf("another currency: %v, want %v", err, want)
	}
}

// TestConvertPlainAllocs counts the allocations of converting a plain
// export, per fee, reading, mapping, adding and writing: it guards the
// cuts made to them. It counts allocations, never time.
func TestConvertPlainAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation count")
	}
	const n = 3000
	in := writeTestExport(t, n, nil)
	out := filepath.Join(t.TempDir(), "charges.dat")
	day := time.Date(2026, 9, 14, 0, 0, 0, 0, time.UTC)
	cfg := Default()
	allocs := testing.AllocsPerRun(2, func() {
		if res, err := convertPlain(t.Context(), cfg, in, out, day, nil); err != nil || res.Records != n {
			t.Fatalf("%+v, %v", res, err)
		}
	})
	perFee := allocs / n
	t.Logf("%.2f allocations per fee", perFee)
	if perFee > maxPlainAllocsPerFee {
		t.Errorf("%.2f allocations per fee, want at most %v", perFee, maxPlainAllocsPerFee)
	}
}

const maxPlainAllocsPerFee = 7
