package alma

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/feebridge/feebridge/fees"
)

// Alma's fee transaction types that move money.
const (
	TransactionPayment = "PAYMENT"
	TransactionWaive   = "WAIVE"
	// TransactionRefund gives paid money back to the patron: Alma records
	// it when staff refund a paid fee, and when a lost item whose
	// replacement fee was paid is returned under a terms of use with a
	// "Lost item replacement fee refund ratio". It leaves the balance as
	// it was (an assumption: see alma/testdata/rest/PROVENANCE).
	TransactionRefund = "REFUND"
)

// PayRequest is a payment to record on a fee in Alma.
type PayRequest struct {
	// Amount is positive and at most the fee's balance.
	Amount fees.Money
	// Method is Alma's payment method code: CREDIT_CARD, ONLINE, CASH…
	Method string
	// ExternalTransactionID identifies the payment in the system that
	// took it (for feebridge, the bursar's receipt). Required: it is how a
	// retried payment is recognised as already made.
	ExternalTransactionID string
	Comment               string
}

// WaiveRequest is a waiver to record on a fee in Alma.
type WaiveRequest struct {
	// Amount is positive and at most the fee's balance.
	Amount fees.Money
	// Reason is Alma's waive reason code, required by Alma.
	Reason  string
	Comment string
	// Balance, when valid, is the fee's balance as the caller has just
	// read it (from [Client.ListFees], say): Waive then trusts it instead
	// of reading the fee first, and the waiver costs one call. See
	// [Client.Waive].
	Balance fees.Money
}

// feeList is Alma's answer to GET users/{id}/fees.
type feeList struct {
	Fees        []feeJSON   `json:"fee"`
	TotalCount  int         `json:"total_record_count"`
	TotalSum    json.Number `json:"total_sum"`
	CurrencyRaw string      `json:"currency"`
}

// feeJSON is Alma's fee object.
type feeJSON struct {
	ID                  flexString        `json:"id"`
	Type                codeValue         `json:"type"`
	Status              codeValue         `json:"status"`
	UserPrimaryID       codeValue         `json:"user_primary_id"`
	Balance             json.Number       `json:"balance"`
	RemainingVATAmount  json.Number       `json:"remaining_vat_amount"`
	OriginalAmount      json.Number       `json:"original_amount"`
	OriginalVATAmount   json.Number       `json:"original_vat_amount"`
	CreationTime        string            `json:"creation_time"`
	StatusTime          string            `json:"status_time"`
	Comment             string            `json:"comment"`
	Owner               codeValue         `json:"owner"`
	Title               string            `json:"title"`
	Barcode             codeValue         `json:"barcode"`
	BursarTransactionID flexString        `json:"bursar_transaction_id"`
	Transactions        []transactionJSON `json:"transaction"`
}

// transactionJSON is one entry of a fee's "transaction" list.
type transactionJSON struct {
	Type                  codeValue   `json:"type"`
	Amount                json.Number `json:"amount"`
	VATAmount             json.Number `json:"vat_amount"`
	Reason                codeValue   `json:"reason"`
	Comment               string      `json:"comment"`
	ExternalTransactionID flexString  `json:"external_transaction_id"`
	CreatedBy             string      `json:"created_by"`
	TransactionTime       string      `json:"transaction_time"`
	ReceivedBy            codeValue   `json:"received_by"`
	PaymentMethod         codeValue   `json:"payment_method"`
}

// isCredit reports whether Alma's record is a credit to the patron rather
// than a charge: a negative original amount, or the CREDIT type.
func (f *feeJSON) isCredit() bool {
	if fees.Type(f.Type.Value) == fees.TypeCredit {
		return true
	}
	d := string(f.OriginalAmount)
	return len(d) > 0 && d[0] == '-'
}

// toFee maps Alma's fee object to a [fees.Fee] as the doc of
// [Client.ListFees] says.
func (f *feeJSON) toFee(userID string, cur fees.Currency) (*fees.Fee, error) {
	id := string(f.ID)
	if id == "" {
		return nil, fees.Errorf(fees.EINVALID, "Alma sent a fee with no id")
	}
	typ, err := fees.ParseType(f.Type.Value)
	if err != nil {
		return nil, badFee(id, "type: %v", err)
	}
	status, err := fees.ParseAlmaStatus(f.Status.Value)
	if err != nil {
		return nil, badFee(id, "status: %v", err)
	}
	original, balance, err := f.amounts(cur)
	if err != nil {
		return nil, err
	}
	paid, waived, err := f.settled(cur, original, balance)
	if err != nil {
		return nil, err
	}
	refunded, err := f.refunded(cur)
	if err != nil {
		return nil, err
	}
	if waived, err = waived.Add(refunded); err != nil {
		return nil, badFee(id, "%v", err)
	}
	created, updated, err := f.times()
	if err != nil {
		return nil, err
	}
	fee := &fees.Fee{
		ID:            id,
		TransactionID: string(f.BursarTransactionID),
		UserID:        f.UserPrimaryID.Value,
		Type:          typ,
		Status:        status,
		Original:      original,
		Balance:       balance,
		Transferred:   fees.Zero(cur),
		Paid:          paid,
		Waived:        waived,
		Item:          fees.Item{Barcode: f.Barcode.Value, Title: f.Title},
		Owner:         f.Owner.Value,
		Comment:       f.Comment,
		Created:       created,
		Updated:       updated,
	}
	if fee.UserID == "" {
		fee.UserID = userID
	}
	if status == fees.StatusTransferred {
		fee.Transferred = balance
	}
	if refunded.IsPositive() {
		fee.Refunded = refunded // unset when nothing was refunded, as fees.NewFee leaves it
	}
	if err := fee.Check(); err != nil {
		return nil, err
	}
	return fee, nil
}

// badFee is the EINVALID error of a fee Alma sent that cannot be read.
func badFee(id, format string, args ...any) error {
	e := fees.Errorf(fees.EINVALID, format, args...)
	e.Fee = id
	return e
}

// amounts reads the fee's original amount, which must not be a credit,
// and its balance.
func (f *feeJSON) amounts(cur fees.Currency) (original, balance fees.Money, err error) {
	id := string(f.ID)
	if original, err = money(f.OriginalAmount, cur); err != nil {
		return original, balance, badFee(id, "original_amount: %v", err)
	}
	if original.IsNegative() {
		return original, balance, badFee(id, "original_amount %s is a credit, not a fee", original)
	}
	if balance, err = money(f.Balance, cur); err != nil {
		return original, balance, badFee(id, "balance: %v", err)
	}
	return original, balance, nil
}

// settled adds up the payments and waivers Alma lists on the fee. What
// was taken off the original beyond them counts as paid (Alma leaves the
// transaction list out of some answers); more listed than taken off is an
// ESTATE error.
func (f *feeJSON) settled(cur fees.Currency, original, balance fees.Money) (paid, waived fees.Money, err error) {
	id := string(f.ID)
	paid, waived = fees.Zero(cur), fees.Zero(cur)
	for i, t := range f.Transactions {
		var sum *fees.Money
		switch t.Type.Value {
		case TransactionPayment:
			sum = &paid
		case TransactionWaive:
			sum = &waived
		default:
			continue
		}
		a, err := money(t.Amount, cur)
		if err != nil {
			return paid, waived, badFee(id, "transaction %d (%s): %v", i+1, t.Type.Value, err)
		}
		if *sum, err = sum.Add(a); err != nil {
			return paid, waived, badFee(id, "transaction %d: %v", i+1, err)
		}
	}
	moved, _ := original.Sub(balance)
	listed, _ := paid.Add(waived)
	gap, _ := moved.Sub(listed)
	switch {
	case gap.IsPositive():
		paid, _ = paid.Add(gap)
	case gap.IsNegative():
		e := fees.Errorf(fees.ESTATE, "Alma lists payments %s and waivers %s, more than the %s taken off the original %s", paid, waived, moved, original)
		e.Fee, e.Amount, e.Balance = id, listed, balance
		return paid, waived, e
	}
	return paid, waived, nil
}

// refunded is the sum of the fee's REFUND transactions (R8).
func (f *feeJSON) refunded(cur fees.Currency) (fees.Money, error) {
	sum := fees.Zero(cur)
	for i, t := range f.Transactions {
		if t.Type.Value != TransactionRefund {
			continue
		}
		a, err := money(t.Amount, cur)
		if err == nil {
			sum, err = sum.Add(a.Abs())
		}
		if err != nil {
			return sum, badFee(string(f.ID), "transaction %d (%s): %v", i+1, t.Type.Value, err)
		}
	}
	return sum, nil
}

// times reads the fee's creation and status times.
func (f *feeJSON) times() (created, updated time.Time, err error) {
	if created, err = almaTime(f.CreationTime); err != nil {
		return created, updated, badFee(string(f.ID), "creation_time: %v", err)
	}
	if updated, err = almaTime(f.StatusTime); err != nil {
		return created, updated, badFee(string(f.ID), "status_time: %v", err)
	}
	return created, updated, nil
}

// toCredit maps a credit record (negative original_amount or type CREDIT)
// to a [fees.Credit]: Key is its bursar transaction id or, without one,
// its fee id; Amount is the absolute original amount; Reason is its
// comment; Date its creation time. The charge it reverses is not named by
// Alma's fee object, so TransactionID is left empty.
func (f *feeJSON) toCredit(userID string, cur fees.Currency) (fees.Credit, error) {
	id := string(f.ID)
	original, err := money(f.OriginalAmount, cur)
	if err != nil {
		return fees.Credit{}, &fees.Error{Code: fees.EINVALID, Fee: id, Message: "original_amount: " + err.Error()}
	}
	created, err := almaTime(f.CreationTime)
	if err != nil {
		return fees.Credit{}, &fees.Error{Code: fees.EINVALID, Fee: id, Message: "creation_time: " + err.Error()}
	}
	cr := fees.Credit{
		Key:    string(f.BursarTransactionID),
		FeeID:  id,
		UserID: f.UserPrimaryID.Value,
		Type:   fees.Type(f.Type.Value),
		Amount: original.Abs(),
		Reason: f.Comment,
		Date:   created,
		Owner:  f.Owner.Value,
	}
	if cr.Key == "" {
		cr.Key = id
	}
	if cr.UserID == "" {
		cr.UserID = userID
	}
	return cr, nil
}

// openStatuses are the statuses ListFees asks for when given none.
var openStatuses = []fees.Status{fees.StatusActive, fees.StatusTransferred, fees.StatusInDispute}

// listFeeRecords fetches the user's fee records with status, or every
// open one when status is 0 (one call per status).
func (c *Client) listFeeRecords(ctx context.Context, userID string, status fees.Status) ([]feeJSON, fees.Currency, error) {
	statuses := []fees.Status{status}
	if status == 0 {
		statuses = openStatuses
	}
	cur := c.currency
	var all []feeJSON
	for _, s := range statuses {
		code := s.AlmaCode()
		if code == "" {
			return nil, "", fmt.Errorf("alma: list fees: unknown status %d", s)
		}
		var l feeList
		err := c.do(ctx, &request{
			op:     "list_fees",
			method: http.MethodGet,
			path:   []string{"users", userID, "fees"},
			query:  url.Values{"status": {code}, "user_id_type": {"all_unique"}},
			out:    &l,
		})
		if err != nil {
			return nil, "", err
		}
		if l.CurrencyRaw != "" {
			got, err := fees.ParseCurrency(l.CurrencyRaw)
			if err != nil {
				return nil, "", fmt.Errorf("alma: fees of user %s: %w", fees.MaskID(userID), err)
			}
			cur = got
		}
		all = append(all, l.Fees...)
	}
	return all, cur, nil
}

// ListFees returns the user's fees with status, or all open fees (Active,
// Transferred and In dispute, one call each) when status is 0. Credits are
// left out: see [Client.ListCredits].
//
// Alma's fee objects map to [fees.Fee] this way:
//
//   - Original is original_amount and Balance is balance, read exactly
//     from the JSON number's digits (never through a float); an amount
//     with more decimal places than the currency has is an error. VAT
//     amounts are not used.
//   - Waived is the sum of the WAIVE transactions, Paid the sum of the
//     PAYMENT transactions. Refunded is the sum of the REFUND
//     transactions, and is added to Waived as well: a refund gives paid
//     money back without changing the balance, and the fee keeps
//     Original = Paid + Waived + Balance − Refunded (R8). Other
//     transaction types (EXPORT, DISPUTE, RESTORE…) are not counted.
//   - When those do not account for all of Original − Balance (Alma
//     leaves the transaction list out of some answers), the rest counts
//     as paid, so that Original = Paid + Waived + Balance (R3) always
//     holds. When the listed transactions exceed Original − Balance, the
//     fee is an error with code [fees.ESTATE] rather than a guess.
//   - Transferred is the whole Balance when the status is EXPORTED, zero
//     otherwise; TransactionID is bursar_transaction_id; Item holds the
//     barcode and title; Owner the owning library's code.
//   - The currency is the one the fee list names, else
//     [ClientOptions.Currency].
//
// A fee that does not map fails the whole call with an error naming the
// fee: nothing is skipped silently. An unknown user is an *[Error] for
// which [IsNotFound] is true.
func (c *Client) ListFees(ctx context.Context, userID string, status fees.Status) ([]fees.Fee, error) {
	recs, cur, err := c.listFeeRecords(ctx, userID, status)
	if err != nil {
		return nil, err
	}
	out := make([]fees.Fee, 0, len(recs))
	for i := range recs {
		if recs[i].isCredit() {
			continue
		}
		f, err := recs[i].toFee(userID, cur)
		if err != nil {
			return nil, fmt.Errorf("alma: fees of user %s: %w", fees.MaskID(userID), err)
		}
		out = append(out, *f)
	}
	return out, nil
}

// ListCredits returns the user's credits (Alma fee records with a negative
// original amount, or of type CREDIT) with status, or all open ones when
// status is 0. Amounts are positive, as [fees.Credit] wants them.
func (c *Client) ListCredits(ctx context.Context, userID string, status fees.Status) ([]fees.Credit, error) {
	recs, cur, err := c.listFeeRecords(ctx, userID, status)
	if err != nil {
		return nil, err
	}
	var out []fees.Credit
	for i := range recs {
		if !recs[i].isCredit() {
			continue
		}
		cr, err := recs[i].toCredit(userID, cur)
		if err != nil {
			return nil, fmt.Errorf("alma: credits of user %s: %w", fees.MaskID(userID), err)
		}
		out = append(out, cr)
	}
	return out, nil
}

func (c *Client) getFeeRecord(ctx context.Context, userID, feeID string) (*feeJSON, error) {
	var f feeJSON
	err := c.do(ctx, &request{
		op:     "get_fee",
		method: http.MethodGet,
		path:   []string{"users", userID, "fees", feeID},
		query:  url.Values{"user_id_type": {"all_unique"}},
		out:    &f,
	})
	if err != nil {
		return nil, err
	}
	return &f, nil
}

// GetFee returns one fee of the user, mapped as [Client.ListFees] says. A
// credit record is an error ([fees.EINVALID]); read credits with
// [Client.ListCredits].
func (c *Client) GetFee(ctx context.Context, userID, feeID string) (*fees.Fee, error) {
	f, err := c.getFeeRecord(ctx, userID, feeID)
	if err != nil {
		return nil, err
	}
	return f.toFee(userID, c.currency)
}

// feeOp posts op on a fee and maps the answer. settled is as in request.
func (c *Client) feeOp(ctx context.Context, userID, feeID string, q url.Values, settled func(ctx context.Context) (*feeJSON, error)) (*fees.Fee, error) {
	q.Set("user_id_type", "all_unique")
	var out feeJSON
	var done *feeJSON
	r := &request{
		op:     q.Get("op") + "_fee",
		method: http.MethodPost,
		path:   []string{"users", userID, "fees", feeID},
		query:  q,
		out:    &out,
	}
	if settled != nil {
		r.settled = func(ctx context.Context) (bool, error) {
			f, err := settled(ctx)
			done = f
			return f != nil, err
		}
	}
	err := c.do(ctx, r)
	switch {
	case errors.Is(err, errSettled):
		out = *done
	case err != nil:
		return nil, err
	}
	return out.toFee(userID, c.currency)
}

func (c *Client) checkAmount(op string, feeID string, m fees.Money) error {
	if !m.Valid() || !m.IsPositive() {
		return &fees.Error{Code: fees.EINVALID, Fee: feeID, Amount: m, Message: fmt.Sprintf("%s amount %s must be positive", op, m)}
	}
	if m.Currency() != c.currency {
		return &fees.Error{Code: fees.ECURRENCY, Fee: feeID, Amount: m, Message: fmt.Sprintf("%s amount %s is not in the institution's currency %s", op, m, c.currency)}
	}
	return nil
}

// Pay records a payment on a fee (POST users/{id}/fees/{fee}?op=pay) and
// returns the fee as Alma then holds it.
//
// If an attempt fails in a way that leaves it unknown whether Alma took
// the payment (no answer, or a 5xx), Pay reads the fee again before any
// new attempt and stops if a transaction with p.ExternalTransactionID is
// there: the payment is never recorded twice.
func (c *Client) Pay(ctx context.Context, userID, feeID string, p PayRequest) (*fees.Fee, error) {
	if err := c.checkAmount("payment", feeID, p.Amount); err != nil {
		return nil, err
	}
	if p.Method == "" {
		return nil, &fees.Error{Code: fees.EINVALID, Fee: feeID, Message: "payment with no method"}
	}
	if p.ExternalTransactionID == "" {
		return nil, &fees.Error{Code: fees.EINVALID, Fee: feeID, Message: "payment with no external transaction id"}
	}
	q := url.Values{
		"op":                      {"pay"},
		"amount":                  {p.Amount.Amount()},
		"method":                  {p.Method},
		"external_transaction_id": {p.ExternalTransactionID},
	}
	if p.Comment != "" {
		q.Set("comment", p.Comment)
	}
	return c.feeOp(ctx, userID, feeID, q, func(ctx context.Context) (*feeJSON, error) {
		f, err := c.getFeeRecord(ctx, userID, feeID)
		if err != nil {
			return nil, err
		}
		for _, t := range f.Transactions {
			if t.Type.Value == TransactionPayment && string(t.ExternalTransactionID) == p.ExternalTransactionID {
				return f, nil
			}
		}
		return nil, nil
	})
}

// Waive records a waiver on a fee (POST users/{id}/fees/{fee}?op=waive)
// and returns the fee as Alma then holds it.
//
// Waive first reads the fee and counts its WAIVE transactions of the same
// amount, reason and comment. If an attempt then fails in a way that
// leaves it unknown whether Alma took the waiver, Waive reads the fee
// again before any new attempt and stops if there is one such waiver more
// than before: the waiver is never recorded twice. A waiver therefore
// costs two calls.
//
// When w.Balance is valid, the caller has just read the fee and Waive
// does not read it first: a waiver costs one call. After an attempt that
// may have reached Alma, Waive reads the fee and stops if it shows a
// WAIVE of the same amount, reason and comment and a balance that went
// down by at least w.Amount from w.Balance: what the waiver would have
// left. A balance that went down by as much in another way (a payment of
// the same amount in those seconds) beside an older waiver just like it
// would be taken for this waiver; the caller that passes Balance accepts
// that, since a second waiver is then refused by Alma anyway when the
// amount is the whole balance.
func (c *Client) Waive(ctx context.Context, userID, feeID string, w WaiveRequest) (*fees.Fee, error) {
	if err := c.checkAmount("waiver", feeID, w.Amount); err != nil {
		return nil, err
	}
	if w.Reason == "" {
		return nil, &fees.Error{Code: fees.EINVALID, Fee: feeID, Message: "waiver with no reason"}
	}
	matching := func(f *feeJSON) int {
		n := 0
		for _, t := range f.Transactions {
			if t.Type.Value != TransactionWaive || t.Reason.Value != w.Reason || t.Comment != w.Comment {
				continue
			}
			if a, err := money(t.Amount, c.currency); err == nil && a.Equal(w.Amount) {
				n++
			}
		}
		return n
	}
	done, err := c.waiveTaken(ctx, userID, feeID, w, matching)
	if err != nil {
		return nil, err
	}
	q := url.Values{
		"op":     {"waive"},
		"amount": {w.Amount.Amount()},
		"reason": {w.Reason},
	}
	if w.Comment != "" {
		q.Set("comment", w.Comment)
	}
	return c.feeOp(ctx, userID, feeID, q, func(ctx context.Context) (*feeJSON, error) {
		f, err := c.getFeeRecord(ctx, userID, feeID)
		if err != nil || !done(f) {
			return nil, err
		}
		return f, nil
	})
}

// waiveTaken returns the test that tells, from the fee read again after an
// uncertain attempt, whether Alma took the waiver w: one matching waiver
// more than the fee had before (read now, one call), or, when w.Balance
// is given, a matching waiver and the balance w would leave (no call).
func (c *Client) waiveTaken(ctx context.Context, userID, feeID string, w WaiveRequest, matching func(*feeJSON) int) (func(*feeJSON) bool, error) {
	if w.Balance.Valid() {
		left, err := w.Balance.Sub(w.Amount)
		if err != nil {
			return nil, &fees.Error{Code: fees.EINVALID, Fee: feeID, Amount: w.Amount, Message: "waiver: " + err.Error()}
		}
		return func(f *feeJSON) bool {
			bal, err := money(f.Balance, c.currency)
			if err != nil || matching(f) == 0 {
				return false
			}
			cmp, err := bal.Cmp(left)
			return err == nil && cmp <= 0
		}, nil
	}
	before, err := c.getFeeRecord(ctx, userID, feeID)
	if err != nil {
		return nil, err
	}
	had := matching(before)
	return func(f *feeJSON) bool { return matching(f) > had }, nil
}

// Restore ends a dispute on a fee (POST users/{id}/fees/{fee}?op=restore).
// If an attempt may have reached Alma before failing, Restore reads the
// fee again and stops if it is no longer in dispute.
func (c *Client) Restore(ctx context.Context, userID, feeID string) (*fees.Fee, error) {
	return c.feeOp(ctx, userID, feeID, url.Values{"op": {"restore"}}, func(ctx context.Context) (*feeJSON, error) {
		f, err := c.getFeeRecord(ctx, userID, feeID)
		if err != nil || f.Status.Value == fees.StatusInDispute.AlmaCode() {
			return nil, err
		}
		return f, nil
	})
}
