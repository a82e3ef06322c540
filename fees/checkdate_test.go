package fees_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/feebridge/feebridge/fees"
)

func TestCheckPaymentDate(t *testing.T) {
	chicago, err := time.LoadLocation("America/Chicago")
	if err != nil {
		t.Skip(err)
	}
	// 23:30 in Chicago on 5 March is already 6 March in UTC.
	now := time.Date(2026, 3, 5, 23, 30, 0, 0, chicago)
	sent := time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC) // 28 February in Chicago
	day := func(s string) time.Time {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for _, tt := range []struct {
		name     string
		date     time.Time
		sent     time.Time
		wantCode string
		wantIn   []string
	}{
		{"today", day("2026-03-05"), sent, "", nil},
		{"tomorrow", day("2026-03-06"), sent, "", nil},
		{"two days ahead", day("2026-03-07"), sent, fees.EDATE, []string{"R1/BT1", "2026-03-07", "2026-03-06"}},
		{"far future", day("2099-01-01"), sent, fees.EDATE, []string{"R1/BT1", "2099-01-01", "2026-03-06"}},
		{"zero date", time.Time{}, sent, fees.EDATE, []string{"R1/BT1", "0001-01-01"}},
		{"zero date, charge time unknown", time.Time{}, time.Time{}, fees.EDATE, []string{"0001-01-01"}},
		{"day the charge was sent", day("2026-02-28"), sent, "", nil},
		{"day before the charge was sent", day("2026-02-27"), sent, fees.EDATE, []string{"R1/BT1", "2026-02-27", "2026-02-28"}},
		{"charge time unknown", day("2020-01-01"), time.Time{}, "", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := cashier("10.00")
			p.FeeID, p.Key, p.Date = "F1", "R1/BT1", tt.date
			err := fees.CheckPaymentDate(p, tt.sent, now)
			if got := fees.ErrorCode(err); got != tt.wantCode {
				t.Fatalf("code = %q (%v), want %q", got, err, tt.wantCode)
			}
			for _, w := range tt.wantIn {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
		})
	}
}

func ExampleCheckPaymentDate() {
	now := time.Date(2026, 3, 5, 14, 0, 0, 0, time.UTC)
	sent := time.Date(2026, 3, 1, 18, 0, 0, 0, time.UTC)
	p := fees.Payment{Key: "G-345/BT1", Date: time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)}
	err := fees.CheckPaymentDate(p, sent, now)
	fmt.Println(fees.ErrorCode(err))
	fmt.Println(err)

	p.Date = time.Date(2026, 3, 6, 0, 0, 0, 0, time.UTC)
	fmt.Println(fees.CheckPaymentDate(p, sent, now))
	// Output:
	// implausible_date
	// payment G-345/BT1 is dated 2099-01-01, after 2026-03-06 (one day after today)
	// <nil>
}
