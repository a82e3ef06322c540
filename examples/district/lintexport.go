package district

import (
	"context"
	"fmt"
	"time"

	"github.com/feebridge/feebridge/alma/exportlint"
	"github.com/feebridge/feebridge/fees"
)

// districtMinimum is the smallest fee the district means to bill, as its
// [export_policy] states; the simulated Alma's profile sets no minimum,
// as many real profiles do not.
const districtMinimum = "5.00"

// lintFirstExport checks the week's first export file against the
// district's policy, as staff run `feesync lint-export` on a sample
// export, and notes what it found. It only reads: the charges job sends
// every fee of the file all the same, and the week reconciles with them.
func (d *District) lintFirstExport(ctx context.Context, file string) error {
	if d.linted || file == "" {
		return nil
	}
	d.linted = true
	rc, err := d.almaSide.Open(ctx, file)
	if err != nil {
		return fmt.Errorf("lint-export: %w", err)
	}
	defer rc.Close()
	policy := exportlint.Policy{MinimumAmount: fees.MustParseMoney(districtMinimum, d.cur)}
	var below []fees.Money
	s, err := exportlint.Lint(rc, policy, &exportlint.Options{File: file, Location: d.clock.Now().Location()},
		func(w exportlint.Warning) { below = append(below, w.Amount) })
	if err != nil {
		return fmt.Errorf("lint-export: %w", err)
	}
	if len(s.Errors) > 0 {
		return fmt.Errorf("lint-export: %s: %v", file, s.Errors[0])
	}
	text := fmt.Sprintf("lint-export: the %s exported are all at or above the district's %s minimum", plural(s.Fees, "fee", "fees"), districtMinimum)
	if s.Warned > 0 {
		sum, err := fees.Sum(d.cur, below...)
		if err != nil {
			return err
		}
		text = fmt.Sprintf("lint-export: %d of the %s exported are below the district's %s minimum (%s in all); Alma's profile sets no threshold, feesync sends them all",
			s.Warned, plural(s.Fees, "fee", "fees"), districtMinimum, sum.Amount())
	}
	// Staff look at the file a few minutes after Alma wrote it.
	d.today.note("export lint", "staff", d.clock.Now().Add(5*time.Minute), text)
	return nil
}
