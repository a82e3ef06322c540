package alma

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/feebridge/feebridge/fees"
)

// FeesReportColumns are the column headings of the open fees report, an
// Alma Analytics report in the "Fines and Fees" subject area that a
// district saves once (README, "The Analytics report for the nightly
// reconciliation"). Its filter keeps the fees whose status is Active,
// Transferred or In Dispute and whose remaining amount is above zero.
//
// UserID, FeeID, Type, Status and Remaining are required; a report
// without one of them is refused. The others are optional: Original and
// Modified are read when present, Barcode and ProcessType (the item's
// process type, such as LOST_LOAN) let the daily report find returned
// lost items in the same report, and Refreshed ("Data Updated as of",
// under the subject area's Institution folder) says when Alma's data was
// extracted for Analytics.
var FeesReportColumns = struct {
	UserID, FeeID, Type, Status, Original, Remaining, TransactionID, Modified, Barcode, ProcessType, Refreshed string
}{
	UserID: "Primary Identifier", FeeID: "Fine Fee Id", Type: "Fine Fee Type", Status: "Fine Fee Status",
	Original: "Original Amount", Remaining: "Remaining Amount", TransactionID: "Bursar Transaction Id",
	Modified: "Fine Fee Status Date", Barcode: "Barcode", ProcessType: "Process Type", Refreshed: "Data Updated as of",
}

// FeesReportRow is one row of the open fees report.
type FeesReportRow struct {
	Row           int // 1-based, in the order Alma sent the rows
	UserID        string
	FeeID         string
	Type          fees.Type
	Status        fees.Status
	Original      fees.Money // invalid (zero Money) when the report has no Original column
	Remaining     fees.Money
	TransactionID string
	Modified      time.Time // zero when the report has no such column or it is empty
	Barcode       string
	// ProcessType is the item's process type ("LOST_LOAN" while lost);
	// HasProcessType is false when the report has no such column.
	ProcessType    string
	HasProcessType bool
	// Refreshed is when Alma's data was extracted for Analytics; zero
	// when the report does not say.
	Refreshed time.Time
}

// ItemLost reports whether the row's item is still lost, as of the
// report's data: its process type is LOST_LOAN (or reads "Lost").
func (r FeesReportRow) ItemLost() bool {
	p := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(r.ProcessType), " ", "_"))
	return p == "LOST_LOAN" || p == "LOST" || p == "LOST_AND_PAID"
}

// FeesReportOptions say how to read the report's values.
type FeesReportOptions struct {
	Currency fees.Currency  // of every amount; empty means USD
	Location *time.Location // of the report's dates, Alma's time zone; nil means UTC
}

// DecodeFeesReportRow turns one row of the open fees report, as
// [Client.RunReport] gives it, into a FeesReportRow. n is the row's
// 1-based number. A missing required column or a value that cannot be
// read is an error naming the row, the column and the value.
func DecodeFeesReportRow(n int, row map[string]string, o FeesReportOptions) (FeesReportRow, error) {
	c := FeesReportColumns
	cur := o.Currency
	if cur == "" {
		cur = fees.USD
	}
	loc := o.Location
	if loc == nil {
		loc = time.UTC
	}
	out := FeesReportRow{Row: n}
	bad := func(col string, err error) error {
		return fmt.Errorf("alma: open fees report, row %d, column %q: %w", n, col, err)
	}
	for _, col := range []string{c.UserID, c.FeeID, c.Type, c.Status, c.Remaining} {
		v, ok := row[col]
		if !ok {
			return out, bad(col, fmt.Errorf("no such column in the report (its columns must be named as alma.FeesReportColumns says)"))
		}
		if strings.TrimSpace(v) == "" {
			return out, bad(col, fmt.Errorf("empty"))
		}
	}
	out.UserID, out.FeeID = strings.TrimSpace(row[c.UserID]), strings.TrimSpace(row[c.FeeID])
	out.Type = fees.Type(strings.TrimSpace(row[c.Type]))
	out.TransactionID = strings.TrimSpace(row[c.TransactionID])
	out.Barcode = strings.TrimSpace(row[c.Barcode])
	out.ProcessType, out.HasProcessType = row[c.ProcessType]
	var err error
	if out.Status, err = parseReportStatus(row[c.Status]); err != nil {
		return out, bad(c.Status, err)
	}
	if out.Remaining, err = parseReportMoney(row[c.Remaining], cur); err != nil {
		return out, bad(c.Remaining, err)
	}
	if v := row[c.Original]; strings.TrimSpace(v) != "" {
		if out.Original, err = parseReportMoney(v, cur); err != nil {
			return out, bad(c.Original, err)
		}
	}
	if out.Modified, err = parseReportTime(row[c.Modified], loc); err != nil {
		return out, bad(c.Modified, err)
	}
	if out.Refreshed, err = parseReportTime(row[c.Refreshed], loc); err != nil {
		return out, bad(c.Refreshed, err)
	}
	return out, nil
}

// FeesReport runs the open fees report at path and calls fn with each
// row, decoded by [DecodeFeesReportRow]; it costs one call per 1,000
// rows. An error from fn, or a row that cannot be read, stops the run
// and is returned.
func (c *Client) FeesReport(ctx context.Context, path string, o FeesReportOptions, fn func(FeesReportRow) error) error {
	n := 0
	return c.RunReport(ctx, path, func(row map[string]string) error {
		n++
		r, err := DecodeFeesReportRow(n, row, o)
		if err != nil {
			return err
		}
		return fn(r)
	})
}

// parseReportStatus reads a fee status as Analytics shows it ("Active",
// "Transferred", "In Dispute", "Closed") or as Alma's API codes it.
func parseReportStatus(v string) (fees.Status, error) {
	s := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(v), " ", ""))
	switch s {
	case "DISPUTED":
		s = "INDISPUTE"
	case "TRANSFERRED":
		s = "EXPORTED"
	}
	return fees.ParseAlmaStatus(s)
}

// parseReportMoney reads an amount as Analytics writes a number: "12.5"
// and "100" are 12.50 and 100.00; more decimal places than the currency
// has are an error, never a rounding.
func parseReportMoney(v string, cur fees.Currency) (fees.Money, error) {
	v = strings.TrimSpace(v)
	places, _ := cur.MinorUnits()
	if i := strings.IndexByte(v, '.'); places > 0 && i < 0 && v != "" {
		v += "." + strings.Repeat("0", places)
	} else if i >= 0 && len(v)-i-1 < places && len(v)-i-1 > 0 {
		v += strings.Repeat("0", places-(len(v)-i-1))
	}
	return fees.ParseMoney(v, cur)
}

// reportTimeLayouts are the ways Analytics writes a date and time.
var reportTimeLayouts = []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02", "1/2/2006 3:04:05 PM", "1/2/2006"}

func parseReportTime(v string, loc *time.Location) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	for _, l := range reportTimeLayouts {
		if t, err := time.ParseInLocation(l, v, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("date %q: want 2006-01-02T15:04:05 or 2006-01-02", v)
}
