// Package psport is PeopleSoft's side of the jobs: it adapts package
// peoplesoft's charge and payment files to the interfaces of package
// reconcile.
//
// Package reconcile never imports an adapter, and this package imports
// only peoplesoft on the vendor side; Alma's side is package
// reconcile/almaport. Each adapter type here asserts at compile time the
// interface it stands for. A district with another bursar writes its own
// small package like this one.
//
// # Adapters
//
//   - [ChargeFormat]: a peoplesoft.Mapping and charge Layout as a
//     reconcile.ChargeFormat.
//   - [PaymentFormat]: a peoplesoft payment Layout as a
//     reconcile.PaymentFormat.
//   - [ResultFormat]: a peoplesoft results Layout (the load's verdict on
//     each line of a charge file) as a reconcile.ResultFormat.
package psport

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/peoplesoft"
	"github.com/feebridge/feebridge/reconcile"
)

// Compile-time checks that the adapters fit reconcile's interfaces.
var (
	_ reconcile.ChargeFormat  = ChargeFormat{}
	_ reconcile.PaymentFormat = PaymentFormat{}
	_ reconcile.RefundFormat  = ChargeFormat{}
	_ reconcile.ResultFormat  = ResultFormat{}
)

// ChargeFormat writes PeopleSoft charge files: Mapping turns fees and
// credits into charge lines, Layout says how they are written.
type ChargeFormat struct {
	Mapping peoplesoft.Mapping
	Layout  *peoplesoft.Layout // nil means peoplesoft.ReferenceChargeLayout()
}

// MapCharge maps a fee; a *peoplesoft.RejectError holds the fee.
func (f ChargeFormat) MapCharge(fee fees.Fee, asOf time.Time) (reconcile.ChargeLine, error) {
	ch, err := f.Mapping.ChargeFor(fee, asOf)
	if err != nil {
		return reconcile.ChargeLine{}, err
	}
	return f.line(ch, fee.Owner), nil
}

// MapCredit maps a credit to a (negative) charge line.
func (f ChargeFormat) MapCredit(c fees.Credit, asOf time.Time) (reconcile.ChargeLine, error) {
	ch, err := f.Mapping.CreditFor(c, asOf)
	if err != nil {
		return reconcile.ChargeLine{}, err
	}
	return f.line(ch, c.Owner), nil
}

// MapRefund maps a refund to a (negative) refund line (R8).
func (f ChargeFormat) MapRefund(r fees.Refund, asOf time.Time) (reconcile.ChargeLine, error) {
	ch, err := f.Mapping.RefundFor(r, asOf)
	if err != nil {
		return reconcile.ChargeLine{}, err
	}
	return f.line(ch, r.Owner), nil
}

// line is the charge line of ch, for a record owned by library: it names
// the library's college, and its business unit as the part of a
// separate charge file, when colleges are configured.
func (f ChargeFormat) line(ch peoplesoft.Charge, library string) reconcile.ChargeLine {
	l := reconcile.ChargeLine{Amount: ch.Amount, Value: ch}
	if c, ok := f.Mapping.CollegeOf(library); ok {
		l.College, l.Part = c.Name, c.BusinessUnit
	}
	return l
}

// NewChargeWriter starts a charge file created at asOf.
func (f ChargeFormat) NewChargeWriter(w io.Writer, asOf time.Time) reconcile.ChargeWriter {
	l := f.Layout
	if l == nil {
		l = peoplesoft.ReferenceChargeLayout()
	}
	return chargeWriter{peoplesoft.NewChargeEncoder(w, l, asOf)}
}

type chargeWriter struct{ enc *peoplesoft.ChargeEncoder }

func (w chargeWriter) Write(line reconcile.ChargeLine) error {
	ch, ok := line.Value.(peoplesoft.Charge)
	if !ok {
		return fmt.Errorf("psport: a charge line holds %T, not a peoplesoft.Charge", line.Value)
	}
	err := w.enc.Encode(ch)
	if err == nil {
		return nil // before errors.As, whose target would escape for every line
	}
	var ee *peoplesoft.EncodeError
	if errors.As(err, &ee) {
		return fmt.Errorf("%w: %w", reconcile.ErrReject, err)
	}
	return err
}

func (w chargeWriter) Close() error { return w.enc.Close() }

// PaymentFormat reads PeopleSoft payment files in Layout.
//
// PeopleSoft names the charge a payment is for by REF1_DESCR (the bursar
// transaction id) and ITEM_TYPE together, since Alma gives one transaction
// id to fees of different types. Mapping, the same one the [ChargeFormat]
// writes charges with, maps ITEM_TYPE back to the fee type
// ([peoplesoft.Mapping.FeeTypeOf]), which the reader passes on as
// reconcile.PaymentRecord.FeeType, so that the payment is matched to its
// charge by charge key. With a nil Mapping (or an item type that maps to
// no fee type, or to several) the fee type is left empty, and the charges
// job matches by transaction id alone, holding a payment whose id was
// sent as several charges.
type PaymentFormat struct {
	Layout  *peoplesoft.Layout // nil means peoplesoft.ReferencePaymentLayout()
	Options *peoplesoft.DecodeOptions
	Mapping *peoplesoft.Mapping
}

// NewPaymentReader returns a reader of one payment file.
func (f PaymentFormat) NewPaymentReader(r io.Reader) reconcile.PaymentReader {
	l := f.Layout
	if l == nil {
		l = peoplesoft.ReferencePaymentLayout()
	}
	// The payments job finds a payment repeated in a file through its
	// journal (and holds it, naming the line it repeats), so the decoder
	// keeps no set of the file's keys.
	var opts peoplesoft.DecodeOptions
	if f.Options != nil {
		opts = *f.Options
	}
	opts.AllowDuplicates = true
	return &paymentReader{dec: peoplesoft.NewPaymentDecoder(r, l, &opts), mapping: f.Mapping}
}

type paymentReader struct {
	dec     *peoplesoft.PaymentDecoder
	mapping *peoplesoft.Mapping
}

// feeType is the fee type of the charge a payment of item type itemType
// pays, or "" when the mapping cannot tell.
func (r *paymentReader) feeType(itemType string) fees.Type {
	if r.mapping == nil {
		return ""
	}
	t, _ := r.mapping.FeeTypeOf(itemType)
	return t
}

// Next returns the next payment. A bad record comes back as a held record;
// an error that concerns the whole file ([peoplesoft.IsFileError]: a bad
// header, a trailer that disagrees, a file too large, a read error) ends
// the file.
func (r *paymentReader) Next() (reconcile.PaymentRecord, error) {
	p, err := r.dec.Decode()
	if err == io.EOF {
		return reconcile.PaymentRecord{}, io.EOF
	}
	if err != nil {
		var pe *peoplesoft.ParseError
		if !errors.As(err, &pe) {
			return reconcile.PaymentRecord{}, err
		}
		if peoplesoft.IsFileError(err) {
			return reconcile.PaymentRecord{}, err
		}
		fp := p.FeesPayment()
		fp.Key = p.Key()
		return reconcile.PaymentRecord{Line: pe.Line, Payment: fp, FeeType: r.feeType(p.ItemType), Err: err}, nil
	}
	fp := p.FeesPayment()
	fp.Key = p.Key()
	return reconcile.PaymentRecord{Line: p.Line, Payment: fp, FeeType: r.feeType(p.ItemType)}, nil
}

// ResultFormat reads the results of PeopleSoft's loads of charge files in
// Layout (nil means peoplesoft.ReferenceResultLayout()). Mapping, when
// set, maps each line's item type back to its fee type, so that a line
// names its charge by charge key; without it, a reference sent as several
// charges cannot be told apart and its lines are held.
type ResultFormat struct {
	Layout  *peoplesoft.Layout
	Options *peoplesoft.DecodeOptions
	Mapping *peoplesoft.Mapping
}

// NewResultReader returns a reader of one results file.
func (f ResultFormat) NewResultReader(r io.Reader) reconcile.ResultReader {
	l := f.Layout
	if l == nil {
		l = peoplesoft.ReferenceResultLayout()
	}
	return &resultReader{dec: peoplesoft.NewResultDecoder(r, l, f.Options), mapping: f.Mapping}
}

type resultReader struct {
	dec     *peoplesoft.ResultDecoder
	mapping *peoplesoft.Mapping
}

// Next returns the next line. A bad line comes back held; an error that
// concerns the whole file ends it.
func (r *resultReader) Next() (reconcile.LoadResult, error) {
	res, err := r.dec.Decode()
	if err == io.EOF {
		return reconcile.LoadResult{}, io.EOF
	}
	out := reconcile.LoadResult{Line: res.Line, Ref: res.Ref, Credit: res.Credit(), Refused: res.Refused, Message: res.Message}
	if r.mapping != nil {
		out.FeeType, _ = r.mapping.FeeTypeOf(res.ItemType)
		if t, ok := r.mapping.RefundTypeOf(res.ItemType); ok && out.FeeType == "" {
			out.FeeType, out.Refund = t, true
		}
	}
	if err != nil {
		var pe *peoplesoft.ParseError
		if !errors.As(err, &pe) || peoplesoft.IsFileError(err) {
			return reconcile.LoadResult{}, err
		}
		out.Line, out.Err = pe.Line, err
	}
	return out, nil
}
