package reconcile

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/feebridge/feebridge/fees"
)

// paymentView is the journal as the payments job sees it while it decides
// one batch of payments, so that a payment costs no query of its own.
//
// load reads, in one query each, the payment records under the batch's
// keys and the charges the batch pays, each with what the bursar still
// holds of it. Each decision of the batch is applied to the view at once
// (a record written, the balance of its charge lowered) and written to the
// journal by flush, at the end of the batch, inside the file's
// transaction. Until then the view is the journal: a lookup that load did
// not foresee writes what is pending and reads the journal itself.
type paymentView struct {
	d       *decision
	records map[string]viewRecord  // payment records, by key
	charges map[string]*viewCharge // charges, by charge key
	byTxID  map[string][]Record    // the charges sent for a transaction id, for payments that name no fee type

	pending   []Record       // records decided and not yet written, in order
	pendingAt map[string]int // index in pending, by key
}

// viewRecord is a payment record of the view; ok is false when the
// journal has none under its key.
type viewRecord struct {
	rec Record
	ok  bool
}

// viewCharge is a charge of the view: its record, and what payments
// forwarded and credits sent for it took of it, in minor units of its
// currency. ok is false when no charge was sent under its key.
type viewCharge struct {
	rec   Record
	taken int64
	ok    bool
}

func newPaymentView(d *decision) *paymentView {
	return &paymentView{d: d, records: map[string]viewRecord{}, charges: map[string]*viewCharge{},
		byTxID: map[string][]Record{}, pendingAt: map[string]int{}}
}

// load forgets the previous batch and reads what deciding batch needs.
func (v *paymentView) load(ctx context.Context, batch []ahead[PaymentRecord]) error {
	clear(v.records)
	clear(v.charges)
	clear(v.byTxID)
	var keys, chargeKeys []string
	for _, it := range batch {
		if it.err != nil {
			continue
		}
		key, legacy := v.d.paymentKeys(it.item)
		keys = append(keys, key)
		if legacy != "" {
			keys = append(keys, legacy)
		}
		p, typ := it.item.Payment, it.item.FeeType
		switch {
		case it.item.Err != nil || p.TransactionID == "":
		case typ != "" && typ != fees.TypeCredit:
			chargeKeys = append(chargeKeys, fees.ChargeKey(p.TransactionID, typ))
		default:
			cands, err := v.chargesOf(ctx, p.TransactionID)
			if err != nil {
				return err
			}
			if len(cands) == 1 {
				chargeKeys = append(chargeKeys, cands[0].Key)
			}
		}
	}
	if err := v.readRecords(ctx, keys); err != nil {
		return err
	}
	return v.readCharges(ctx, chargeKeys)
}

// readRecords reads the payment records under keys into the view: what
// deciding a payment needs of them (outcome, file, line, charge, amount).
func (v *paymentView) readRecords(ctx context.Context, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	for _, k := range keys {
		v.records[k] = viewRecord{}
	}
	return v.query(ctx, `SELECT r.key, r.outcome, COALESCE(r.file_id, 0), r.line, r.ref, r.amount, r.currency
		FROM records r WHERE r.kind = 'payment' AND r.key IN (SELECT value FROM json_each(?))`, keys,
		func(rows *sql.Rows) error {
			r := Record{Kind: KindPayment}
			var amount int64
			var cur string
			if err := rows.Scan(&r.Key, &r.Outcome, &r.FileID, &r.Line, &r.Ref, &amount, &cur); err != nil {
				return err
			}
			r.Amount = amountOf(amount, cur)
			v.records[r.Key] = viewRecord{r, true}
			return nil
		})
}

// readCharges reads the charges under keys into the view, each with what
// was taken of it: the payments forwarded and the credits sent that name
// it, in its currency (see [outstanding]).
func (v *paymentView) readCharges(ctx context.Context, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	for _, k := range keys {
		v.charges[k] = &viewCharge{}
	}
	// "p.ref != ''" lets SQLite use the partial index records_ref.
	return v.query(ctx, `SELECT r.key, r.outcome, r.user_id, r.fee_id, r.fee_type, r.barcode, r.amount, r.currency,
		(SELECT COALESCE(SUM(p.amount), 0) FROM records p
			WHERE p.ref = r.key AND p.ref != '' AND p.outcome IN ('forwarded', 'credited') AND p.currency = r.currency)
		FROM records r WHERE r.kind = 'charge' AND r.key IN (SELECT value FROM json_each(?))`, keys,
		func(rows *sql.Rows) error {
			c := viewCharge{rec: Record{Kind: KindCharge}, ok: true}
			var amount int64
			var typ, cur string
			if err := rows.Scan(&c.rec.Key, &c.rec.Outcome, &c.rec.UserID, &c.rec.FeeID, &typ, &c.rec.Barcode,
				&amount, &cur, &c.taken); err != nil {
				return err
			}
			c.rec.FeeType, c.rec.Amount = fees.Type(typ), amountOf(amount, cur)
			v.charges[c.rec.Key] = &c
			return nil
		})
}

// query runs query with keys, as a JSON array, for its one parameter
// (json_each reads it back: a batch binds one value, not one per key), and
// calls scan for each row.
func (v *paymentView) query(ctx context.Context, query string, keys []string, scan func(*sql.Rows) error) error {
	list, err := json.Marshal(keys)
	if err != nil {
		return err
	}
	rows, err := v.d.tx.QueryContext(ctx, query, string(list))
	if err != nil {
		return fmt.Errorf("reconcile: journal: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return fmt.Errorf("reconcile: journal: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reconcile: journal: %w", err)
	}
	return nil
}

// chargesOf returns the charges sent for the transaction id txid (see
// [chargesOf]), read once per batch. The payments job writes no charge,
// so nothing pending changes them.
func (v *paymentView) chargesOf(ctx context.Context, txid string) ([]Record, error) {
	if cands, ok := v.byTxID[txid]; ok {
		return cands, nil
	}
	cands, err := chargesOf(ctx, v.d.tx, txid)
	if err != nil {
		return nil, err
	}
	v.byTxID[txid] = cands
	return cands, nil
}

// record returns the payment record under key, and false if there is none.
func (v *paymentView) record(ctx context.Context, key string) (Record, bool, error) {
	if vr, ok := v.records[key]; ok {
		return vr.rec, vr.ok, nil
	}
	if err := v.flush(ctx); err != nil {
		return Record{}, false, err
	}
	if err := v.readRecords(ctx, []string{key}); err != nil {
		return Record{}, false, err
	}
	vr := v.records[key]
	return vr.rec, vr.ok, nil
}

// charge returns the charge under key.
func (v *paymentView) charge(ctx context.Context, key string) (*viewCharge, error) {
	if c, ok := v.charges[key]; ok {
		return c, nil
	}
	if err := v.flush(ctx); err != nil {
		return nil, err
	}
	if err := v.readCharges(ctx, []string{key}); err != nil {
		return nil, err
	}
	return v.charges[key], nil
}

// findCharge is [findCharge] over the view.
func (v *paymentView) findCharge(ctx context.Context, txid string, typ fees.Type, exceptKey string) (charge Record, left fees.Money, ok bool, ambiguous int, err error) {
	key := fees.ChargeKey(txid, typ)
	if typ == "" || typ == fees.TypeCredit {
		cands, err := v.chargesOf(ctx, txid)
		if err != nil || len(cands) == 0 {
			return Record{}, fees.Money{}, false, 0, err
		}
		if len(cands) > 1 {
			return Record{}, fees.Money{}, false, len(cands), nil
		}
		key = cands[0].Key
	}
	charge, left, ok, err = v.outstanding(ctx, key, exceptKey)
	return charge, left, ok, 0, err
}

// outstanding is [outstanding] over the view: what the bursar still holds
// of the charge under key, not counting the payment record under
// exceptKey.
func (v *paymentView) outstanding(ctx context.Context, key, exceptKey string) (charge Record, left fees.Money, ok bool, err error) {
	c, err := v.charge(ctx, key)
	if err != nil || !c.ok || c.rec.Outcome != OutcomeCharged {
		return c.rec, fees.Money{}, false, err
	}
	taken := c.taken
	self, selfOK, err := v.record(ctx, exceptKey)
	if err != nil {
		return c.rec, fees.Money{}, false, err
	}
	if selfOK {
		taken -= c.share(self)
	}
	u, _ := c.rec.Amount.MinorUnits()
	return c.rec, fees.FromMinor(u-taken, c.rec.Amount.Currency()), true, nil
}

// share is what the payment record r takes of the charge c, in minor
// units: its amount when it is forwarded for c, in c's currency.
func (c *viewCharge) share(r Record) int64 {
	if r.Ref == "" || r.Ref != c.rec.Key || (r.Outcome != OutcomeForwarded && r.Outcome != OutcomeCredited) {
		return 0
	}
	u, cur := minor(r.Amount)
	if cur != string(c.rec.Amount.Currency()) {
		return 0
	}
	return u
}

// put applies the payment record r to the view and queues it for flush.
// r's key must have been looked up in the view first.
func (v *paymentView) put(r Record) {
	if old := v.records[r.Key]; old.ok {
		if c := v.charges[old.rec.Ref]; c != nil && c.ok {
			c.taken -= c.share(old.rec)
		}
	}
	if c := v.charges[r.Ref]; c != nil && c.ok {
		c.taken += c.share(r)
	}
	v.records[r.Key] = viewRecord{r, true}
	if i, ok := v.pendingAt[r.Key]; ok {
		v.pending[i] = r
		return
	}
	v.pendingAt[r.Key] = len(v.pending)
	v.pending = append(v.pending, r)
}

// flush writes the records pending to the journal.
func (v *paymentView) flush(ctx context.Context) error {
	if err := putRecords(ctx, v.d.tx, v.pending, v.d.now); err != nil {
		return err
	}
	v.pending = v.pending[:0]
	clear(v.pendingAt)
	return nil
}

// claim is [decision.claimKey] over the view: it records r, a payment to
// forward, unless its key was decided into another file or line.
func (v *paymentView) claim(ctx context.Context, r Record) (bool, error) {
	old, ok, err := v.record(ctx, r.Key)
	if err != nil {
		return false, err
	}
	if !v.d.claimable(old, ok, r.Line) {
		v.d.result.Skipped++
		return false, nil
	}
	r.FileID, r.Output = v.d.file.ID, v.d.output
	v.put(r)
	return true, nil
}

// reject is [decision.reject] over the view: it holds r with its reason,
// unless its key was handled through another file or line.
func (v *paymentView) reject(ctx context.Context, r Record) error {
	old, ok, err := v.record(ctx, r.Key)
	if err != nil {
		return err
	}
	if v.d.handledElsewhere(old, ok, r.Line) {
		v.d.result.Skipped++
		return nil
	}
	r.Outcome, r.FileID = OutcomeRejected, v.d.file.ID
	v.put(r)
	v.d.held(r)
	return nil
}
