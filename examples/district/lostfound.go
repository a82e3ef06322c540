package district

import (
	"context"
	"fmt"
	"time"

	"github.com/feebridge/feebridge/alma/almatest"
	"github.com/feebridge/feebridge/fees"
)

// Return is a lost item brought back: its loan, its student and its
// barcode, what Alma's loan-returned webhook names.
type Return struct {
	Loan, User, Barcode string
}

// LostAndFound is the scenario of flow F5 at scale, without the rest of a
// day: n students (ids "S0000000" on) each check out a book ("LB0000000"
// on), due in 14 days, that staff declare lost at once; Alma's export at
// exportAt transfers the lost-item fees to the bursar; and at 09:00 the
// next morning every book comes back. It returns the lost-item fees as
// Alma assessed them and the returns, in the order of the students; the
// clock is left at the returns. Alma queues no webhook for them unless
// the district has a listener: the caller hands the returns to the
// lost-returns handler itself, as fast as it wants to measure.
func (d *District) LostAndFound(ctx context.Context, n int, exportAt time.Time) ([]fees.Fee, []Return, error) {
	var lost []fees.Fee
	returns := make([]Return, n)
	for i := range n {
		user, barcode := fmt.Sprintf("S%07d", i), fmt.Sprintf("LB%07d", i)
		if err := d.alma.AddUser(almatest.User{ID: user, FirstName: "Student", LastName: "Number " + fmt.Sprint(i)}); err != nil {
			return nil, nil, err
		}
		if err := d.alma.AddItem(almatest.Item{Barcode: barcode, Title: "Lost book " + fmt.Sprint(i)}); err != nil {
			return nil, nil, err
		}
		loan, err := d.alma.CheckOut(user, barcode, d.clock.Now().AddDate(0, 0, 14))
		if err != nil {
			return nil, nil, err
		}
		fs, err := d.alma.DeclareLost(loan)
		if err != nil {
			return nil, nil, err
		}
		lost = append(lost, fs...)
		returns[i] = Return{Loan: loan, User: user, Barcode: barcode}
	}
	d.clock.Set(exportAt)
	if err := d.AlmaExport(ctx); err != nil {
		return nil, nil, err
	}
	next := exportAt.AddDate(0, 0, 1)
	d.clock.Set(time.Date(next.Year(), next.Month(), next.Day(), 9, 0, 0, 0, next.Location()))
	for i, r := range returns {
		loan, err := d.alma.Return(r.Barcode)
		if err != nil {
			return nil, nil, err
		}
		returns[i].Loan = loan
	}
	return lost, returns, nil
}
