package reconcile_test

import (
	"strings"
	"testing"

	"github.com/feebridge/feebridge/fees"
)

// Case 5 of issue 15: a payment dated after tomorrow, before its charge
// was sent, or with no date (0001-01-01) is held with the date reason;
// today and tomorrow go through.
func TestPaymentsHoldImplausibleDates(t *testing.T) {
	e := newEnv(t)
	charged(t, e)  // sent on 2026-03-02
	e.now = day(1) // the payments run on 2026-03-03
	e.put(e.bursar, "outbound/pay-dates.csv",
		"R1|T1|S001|10.00|CASHIER|CASH||2099-01-01",
		"R2|T1|S001|10.00|CASHIER|CASH||0001-01-01",
		"R3|T1|S001|10.00|CASHIER|CASH||2026-03-01", // the day before T1 was sent
		"R4|T1|S001|10.00|CASHIER|CASH||2026-03-03", // today
		"R5|T1|S001|10.00|CASHIER|CASH||2026-03-04", // tomorrow
		"end|5")
	res, err := e.jobs(nil).Payments(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"R1/T1": "2099-01-01", "R2/T1": "0001-01-01", "R3/T1": "2026-03-01"}
	for _, r := range res.Rejected {
		date, ok := want[r.Key]
		if !ok {
			t.Errorf("%s held: %s", r.Key, r.Reason)
			continue
		}
		delete(want, r.Key)
		if r.Code != fees.EDATE || !strings.Contains(r.Reason, r.Key) || !strings.Contains(r.Reason, date) {
			t.Errorf("%s held with code %q, reason %q; want %s naming the key and %s", r.Key, r.Code, r.Reason, fees.EDATE, date)
		}
	}
	if len(want) != 0 {
		t.Errorf("not held: %v", want)
	}
	if res.Records != 2 || !res.Total.Equal(usd("20.00")) {
		t.Errorf("result = %+v, want R4 and R5 forwarded (20.00)", res)
	}
	imp := ""
	for _, s := range files(t, e.library) {
		imp += s
	}
	if n := strings.Count(imp, "P|T1|S001|F1|10.00|CASHIER"); n != 2 {
		t.Errorf("import files carry %d payments, want 2:\n%s", n, imp)
	}
}
