package district

import (
	"time"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/peoplesoft"
	"github.com/feebridge/feebridge/peoplesoft/pstest"
	"github.com/feebridge/feebridge/transport"
)

// NewBursar returns the bursar's side over its folders in drop, as
// [NewPeopleSoft] does, for the student system b: its simulated ledger
// loads the charge files in b's charge layout and writes the payment
// files in b's payment layout (named .dat when fixed-width, .csv when
// delimited). With [peoplesoft.BuiltinBursar]("banner") or ("colleague")
// the district plays a college on Ellucian Banner or Colleague.
func NewBursar(drop *transport.Drop, now func() time.Time, c fees.Currency, seed int64, b peoplesoft.Bursar) *PeopleSoft {
	ext := ".csv"
	if b.Payments.Format == peoplesoft.FormatFixed {
		ext = ".dat"
	}
	return &PeopleSoft{drop: drop, now: now, cur: c, paymentExt: ext,
		ledger: pstest.NewLedger(pstest.Options{Seed: seed, Now: now, Currency: c,
			ChargeLayout: b.Charges, PaymentLayout: b.Payments, RefundItemTypes: pstest.RefundItemTypesOf(b.Mapping)})}
}

// openBursar makes the bursar's side of the district for Options.Bursar.
func (d *District) openBursar() error {
	if d.opt.Bursar == "" || d.opt.Bursar == peoplesoft.BursarPeopleSoft {
		d.ledger = NewPeopleSoft(d.bursar, d.clock.Now, d.cur, d.opt.Seed)
		d.mapping = peoplesoft.DefaultMapping()
		return nil
	}
	b, err := peoplesoft.BuiltinBursar(d.opt.Bursar)
	if err != nil {
		return err
	}
	d.ledger = NewBursar(d.bursar, d.clock.Now, d.cur, d.opt.Seed, b)
	d.mapping = b.Mapping
	return nil
}
