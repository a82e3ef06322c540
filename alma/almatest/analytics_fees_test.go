package almatest_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/alma/almatest"
	"github.com/feebridge/feebridge/fees"
)

const feesReport = "/shared/Feebridge College/Reports/feebridge open fees"

// TestFeesReportLagsTheRefresh serves the open fees report as of 02:00:
// a fee made or paid after the refresh shows only after the next one, and
// the report costs one call per 1,000 rows.
func TestFeesReportLagsTheRefresh(t *testing.T) {
	w := newWorld(t, &almatest.Options{Analytics: &almatest.AnalyticsOptions{FeesReportPath: feesReport}})
	const n = 1500
	var first fees.Fee
	for i := range n {
		f, err := w.srv.AddFee("0987654", almatest.FeeSpec{Type: fees.TypeOverdueFine, Amount: usd(fmt.Sprintf("%d.50", 1+i%9))})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = f
		}
	}
	read := func() ([]alma.FeesReportRow, int) {
		t.Helper()
		before := w.srv.APICalls()["GET analytics/reports"]
		var rows []alma.FeesReportRow
		err := w.client(t, 0).FeesReport(t.Context(), feesReport, alma.FeesReportOptions{}, func(r alma.FeesReportRow) error {
			rows = append(rows, r)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return rows, w.srv.APICalls()["GET analytics/reports"] - before
	}
	// start is 09:00: the last refresh was at 02:00, before the fees.
	if rows, calls := read(); len(rows) != 0 || calls != 1 {
		t.Fatalf("before the refresh: %d rows in %d calls, want 0 in 1", len(rows), calls)
	}
	w.clock.Set(time.Date(2026, 9, 15, 1, 0, 0, 0, time.UTC))
	if _, err := w.srv.PayAtDesk("0987654", first.ID, usd("1.00"), "CASH", ""); err != nil {
		t.Fatal(err)
	}
	w.clock.Set(time.Date(2026, 9, 15, 6, 30, 0, 0, time.UTC))
	if _, err := w.srv.PayAtDesk("0987654", first.ID, usd("0.50"), "CASH", ""); err != nil {
		t.Fatal(err)
	}
	rows, calls := read()
	if len(rows) != n || calls != 2 {
		t.Fatalf("after the refresh: %d rows in %d calls, want %d in 2", len(rows), calls, n)
	}
	r := rows[0]
	refreshed := time.Date(2026, 9, 15, 2, 0, 0, 0, time.UTC)
	if r.FeeID != first.ID || r.UserID != "0987654" || r.Status != fees.StatusActive || r.Remaining.Amount() != "0.50" ||
		r.Original.Amount() != "1.50" || !r.Refreshed.Equal(refreshed) || !r.HasProcessType {
		t.Errorf("first row %+v: want the 01:00 payment (0.50 left), refreshed at %v", r, refreshed)
	}
	if got := w.srv.AnalyticsRefreshed(); !got.Equal(refreshed) {
		t.Errorf("AnalyticsRefreshed %v, want %v", got, refreshed)
	}
}

// TestFeesReportBadRow names the row and the column of a value that
// cannot be read.
func TestFeesReportBadRow(t *testing.T) {
	row := map[string]string{"Primary Identifier": "1", "Fine Fee Id": "2", "Fine Fee Type": "OVERDUEFINE",
		"Fine Fee Status": "Transferred", "Remaining Amount": "12.5"}
	r, err := alma.DecodeFeesReportRow(1, row, alma.FeesReportOptions{})
	if err != nil || r.Remaining.Amount() != "12.50" || r.Status != fees.StatusTransferred {
		t.Fatalf("got %+v, %v; want 12.50 Transferred", r, err)
	}
	row["Remaining Amount"] = "12.345"
	if _, err := alma.DecodeFeesReportRow(7, row, alma.FeesReportOptions{}); err == nil ||
		!contains(err.Error(), `row 7, column "Remaining Amount"`) {
		t.Errorf("error %v, want one naming row 7 and the column", err)
	}
	delete(row, "Fine Fee Status")
	if _, err := alma.DecodeFeesReportRow(3, row, alma.FeesReportOptions{}); err == nil ||
		!contains(err.Error(), `row 3, column "Fine Fee Status": no such column`) {
		t.Errorf("error %v, want a missing column", err)
	}
}
