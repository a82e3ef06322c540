package almaport

import (
	"context"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile"
)

// OpenFees runs the open fees report (FeesReport) and calls fn with each
// row: one call to Alma per 1,000 rows. It returns
// reconcile.ErrUnsupported when FeesReport is empty. A row that cannot be
// read stops the run with an error naming the row and the column.
func (a AlmaAPI) OpenFees(ctx context.Context, fn func(reconcile.ReportFee) error) error {
	if a.FeesReport == "" {
		return reconcile.ErrUnsupported
	}
	o := alma.FeesReportOptions{Currency: a.Currency, Location: a.Location}
	err := a.Client.FeesReport(ctx, a.FeesReport, o, func(r alma.FeesReportRow) error {
		return fn(reconcile.ReportFee{
			Fee: fees.Fee{ID: r.FeeID, TransactionID: r.TransactionID, UserID: r.UserID, Type: r.Type, Status: r.Status,
				Original: r.Original, Balance: r.Remaining, Item: fees.Item{Barcode: r.Barcode}, Updated: r.Modified},
			ItemKnown: r.HasProcessType, ItemLost: r.ItemLost(), Refreshed: r.Refreshed,
		})
	})
	return permanent(err) // a 429 DAILY_THRESHOLD is the quota's, as on any other call
}
