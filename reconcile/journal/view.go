package journal

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/feebridge/feebridge/fees"
)

// View is the journal as a job sees it while it decides one file: one
// transaction, in which the records of the file are claimed, held and
// written, and the charges they are for read with what is left of them.
//
// A view keeps what it read and what was decided in memory, so that a
// record costs no query of its own: [View.Load] reads, in one query each,
// the records under a batch's keys and the charges the batch is for;
// [View.Claim] and [View.Hold] apply a decision to the view at once (a
// record written, the balance of its charge lowered) and queue it, and
// [View.Flush] writes what is queued in multi-row statements. A lookup
// that Load did not foresee writes what is queued and reads the journal
// itself, so the view is always the journal. [View.Insert] claims a batch
// of new keys in one statement, for the bulk of a charges file.
//
// Nothing is kept before [View.Commit]; [View.Rollback] forgets it all.
// A View is used by one goroutine.
type View interface {
	// File returns the file being decided, with its id.
	File() FileRecord
	// Load forgets what the view read and reads the records of kind under
	// keys and the charges of the references, in one query each.
	Load(ctx context.Context, kind string, keys []string, charges []ChargeRef) error
	// Record returns the record of kind and key; ok is false when there
	// is none.
	Record(ctx context.Context, kind, key string) (r Record, ok bool, err error)
	// ChargesOf returns the charges sent for a bursar transaction id.
	ChargesOf(ctx context.Context, txid string) ([]Record, error)
	// Find returns the charge a payment or credit for (txid, typ) is for
	// and what is left of it; ambiguous counts the charges of txid when
	// typ does not say which.
	Find(ctx context.Context, txid string, typ fees.Type, except Record) (charge Record, left fees.Money, ok bool, ambiguous int, err error)
	// Left returns the charge under a charge key and what is left of it,
	// not counting the record except.
	Left(ctx context.Context, chargeKey string, except Record) (charge Record, left fees.Money, ok bool, err error)
	// Paid returns what was paid through the bursar for the charge under
	// chargeKey and what was refunded of it, not counting except (R8).
	Paid(ctx context.Context, chargeKey string, except Record) (paid, refunded fees.Money, err error)
	// StudentCharges returns a student's charges for a fee id, or for an
	// item and fee type.
	StudentCharges(ctx context.Context, user, feeID, barcode string, typ fees.Type) ([]Record, error)
	// Claim records r decided into this file unless its key was decided
	// elsewhere (false).
	Claim(ctx context.Context, r Record) (bool, error)
	// Hold records r as held unless its key was handled elsewhere (false).
	Hold(ctx context.Context, r Record) (bool, error)
	// Refuse records r as held over the record of its key, whatever that
	// record's outcome: a record that went through, then was refused by
	// the bursar's load.
	Refuse(ctx context.Context, r Record) error
	// Whole returns the record of kind and key with every column (Record
	// returns what deciding needs), its output named; ok is false when
	// there is none.
	Whole(ctx context.Context, kind, key string) (r Record, ok bool, err error)
	// Insert records new keys in multi-row statements; false for a key
	// known already.
	Insert(ctx context.Context, recs []Record) ([]bool, error)
	// Flush writes what Claim and Hold queued.
	Flush(ctx context.Context) error
	// Commit writes what is queued and the file's row, and commits.
	Commit(ctx context.Context, f FileRecord) error
	// Rollback forgets everything decided in the view.
	Rollback()
}

var _ View = (*view)(nil)

// view is the View of a SQLite journal.
type view struct {
	j    *Journal
	tx   *tx
	q    *cachedTx
	file FileRecord
	now  time.Time

	records map[recordKey]viewRecord // records read or decided, by kind and key
	charges map[string]*viewCharge   // charges, by charge key
	byTxID  map[string][]Record      // the charges sent for a transaction id

	pending []Record // records decided and not yet written, in order
	// superseding are the records of pending that replace a record held
	// under the same key by another file: their audit trail is written
	// before them (see logSuperseded).
	superseding []Record
	pendingAt   map[recordKey]int // index in pending
	// pendingFresh says, for each record of pending, whether the view
	// looked its key up and found no record: Flush inserts those.
	pendingFresh       []bool
	freshBuf, knownBuf []Record // Flush's buffers
	insertSQL          string   // the statement of Insert, built once
}

type recordKey struct{ kind, key string }

// viewRecord is a record of the view; ok is false when the journal has
// none under its key.
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

// Begin starts deciding the file f: it opens the view's transaction and,
// when f.ID is 0, inserts f's row in it. at is the time written on the
// records and the file. It fails when the database does.
func (j *Journal) Begin(ctx context.Context, f FileRecord, at time.Time) (View, error) {
	tx, err := j.begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	v := &view{j: j, tx: tx, q: newCachedTx(tx), file: f, now: at,
		records: map[recordKey]viewRecord{}, charges: map[string]*viewCharge{},
		byTxID: map[string][]Record{}, pendingAt: map[recordKey]int{}}
	if v.file.ID == 0 {
		if v.file.ID, err = insertFile(ctx, tx, f, at); err != nil {
			tx.Rollback()
			return nil, err
		}
	}
	return v, nil
}

// File returns the file being decided, with its id.
func (v *view) File() FileRecord { return v.file }

// Commit writes what is queued and f over the file's row (its status,
// output, counts and total), and commits the transaction. It fails when
// the database does; nothing is kept then.
func (v *view) Commit(ctx context.Context, f FileRecord) error {
	defer v.tx.Rollback()
	if err := v.Flush(ctx); err != nil {
		return err
	}
	f.ID = v.file.ID
	if err := updateFile(ctx, v.tx, f, v.now); err != nil {
		return err
	}
	if err := v.tx.Commit(); err != nil {
		return fmt.Errorf("journal: commit %s: %w", f.Name, err)
	}
	return nil
}

// Rollback forgets everything decided in the view, the file's new row
// included. It is a no-op after Commit.
func (v *view) Rollback() { v.tx.Rollback() }

// Load forgets what the view read before and reads, in one query each,
// the records of kind under keys and the charges that payments or credits
// for the pairs (transaction id, fee type) in charges are for (see
// [View.Find]), each with what is left of it. Queued records are kept.
// It fails when the database does.
func (v *view) Load(ctx context.Context, kind string, keys []string, charges []ChargeRef) error {
	if err := v.Flush(ctx); err != nil {
		return err
	}
	clear(v.records)
	clear(v.charges)
	clear(v.byTxID)
	chargeKeys := make([]string, 0, len(charges))
	for _, c := range charges {
		if c.Type != "" && c.Type != fees.TypeCredit {
			chargeKeys = append(chargeKeys, fees.ChargeKey(c.TxID, c.Type))
			continue
		}
		cands, err := v.ChargesOf(ctx, c.TxID)
		if err != nil {
			return err
		}
		if len(cands) == 1 {
			chargeKeys = append(chargeKeys, cands[0].Key)
		}
	}
	if err := v.readRecords(ctx, kind, keys); err != nil {
		return err
	}
	return v.readCharges(ctx, chargeKeys)
}

// ChargeRef names a charge as a payment or a credit does: by bursar
// transaction id and, when it says, fee type.
type ChargeRef struct {
	TxID string
	Type fees.Type
}

// Record returns what the view knows of the record of kind and key: its
// outcome, file (id and name), line, charge (ref), amount, student, fee,
// fee type and date; ok is false when there is none. It fails when the
// database does.
func (v *view) Record(ctx context.Context, kind, key string) (r Record, ok bool, err error) {
	k := recordKey{kind, key}
	if vr, found := v.records[k]; found {
		return vr.rec, vr.ok, nil
	}
	if err := v.Flush(ctx); err != nil {
		return Record{}, false, err
	}
	if err := v.readRecords(ctx, kind, []string{key}); err != nil {
		return Record{}, false, err
	}
	vr := v.records[k]
	return vr.rec, vr.ok, nil
}

// ChargesOf returns the charges sent for the bursar transaction id txid,
// of any fee type, in key order. It fails when the database does.
func (v *view) ChargesOf(ctx context.Context, txid string) ([]Record, error) {
	if cands, ok := v.byTxID[txid]; ok {
		return cands, nil
	}
	if err := v.Flush(ctx); err != nil {
		return nil, err
	}
	// Keys of the form txid + "/" + type sort between txid+"/" and
	// txid+"0", as '0' follows '/'.
	cands, err := queryRecords(ctx, v.q, `WHERE r.kind = 'charge' AND r.outcome = 'charged' AND r.key > ? AND r.key < ? ORDER BY r.key`,
		txid+"/", txid+"0")
	if err != nil {
		return nil, err
	}
	v.byTxID[txid] = cands
	return cands, nil
}

// Find returns the charge that a payment or credit for (txid, typ) is
// for, and what the bursar still holds of it, not counting the record
// except (see [View.Left]). With a fee type, the charge key names it.
// Without one (typ "" or CREDIT: an adapter that cannot tell), the
// transaction id is enough when one charge was sent for it; when several
// were, ambiguous is how many, and nothing is guessed. ok is false when
// no charge is found. It fails when the database does.
func (v *view) Find(ctx context.Context, txid string, typ fees.Type, except Record) (charge Record, left fees.Money, ok bool, ambiguous int, err error) {
	key := fees.ChargeKey(txid, typ)
	if typ == "" || typ == fees.TypeCredit {
		cands, err := v.ChargesOf(ctx, txid)
		if err != nil || len(cands) == 0 {
			return Record{}, fees.Money{}, false, 0, err
		}
		if len(cands) > 1 {
			return Record{}, fees.Money{}, false, len(cands), nil
		}
		key = cands[0].Key
	}
	charge, left, ok, err = v.Left(ctx, key, except)
	return charge, left, ok, 0, err
}

// Left returns the charge under chargeKey and what the bursar still holds
// of it: the amount charged, less the payments forwarded and the credits
// sent for it, but not the record of except's kind and key (so that
// re-deciding a record does not count itself). ok is false when no charge
// was sent under that key. It fails when the database does.
func (v *view) Left(ctx context.Context, chargeKey string, except Record) (charge Record, left fees.Money, ok bool, err error) {
	c, err := v.charge(ctx, chargeKey)
	if err != nil || !c.ok || c.rec.Outcome != OutcomeCharged {
		return c.rec, fees.Money{}, false, err
	}
	taken := c.taken
	if except.Key != "" {
		self, selfOK, err := v.Record(ctx, except.Kind, except.Key)
		if err != nil {
			return c.rec, fees.Money{}, false, err
		}
		if selfOK {
			taken -= c.share(self)
		}
	}
	u, _ := c.rec.Amount.MinorUnits()
	return c.rec, fees.FromMinor(u-taken, c.rec.Amount.Currency()), true, nil
}

// Paid returns, in the charge's currency, the payments forwarded for the
// charge under chargeKey and the refunds sent for it (R8), leaving out
// the record of except's kind and key (so that re-deciding a refund does
// not count itself). Both are zero for a charge never sent. It fails
// when the database does.
func (v *view) Paid(ctx context.Context, chargeKey string, except Record) (paid, refunded fees.Money, err error) {
	c, err := v.charge(ctx, chargeKey)
	if err != nil {
		return paid, refunded, err
	}
	if err := v.Flush(ctx); err != nil {
		return paid, refunded, err
	}
	cur := c.rec.Amount.Currency()
	var p, r int64
	err = v.q.QueryRowContext(ctx, `SELECT
		COALESCE(SUM(CASE WHEN kind = 'payment' AND outcome = 'forwarded' THEN amount ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN kind = 'refund' AND outcome = 'refunded' AND NOT (kind = ? AND key = ?) THEN amount ELSE 0 END), 0)
		FROM records WHERE ref = ? AND ref != '' AND currency = ?`, except.Kind, except.Key, chargeKey, string(cur)).Scan(&p, &r)
	if err != nil {
		return paid, refunded, fmt.Errorf("journal: %w", err)
	}
	return fees.FromMinor(p, cur), fees.FromMinor(r, cur), nil
}

// StudentCharges returns the charges sent for the student user that are
// for the fee feeID, or for the item barcode with the fee type typ (any
// type when typ is ""), oldest first. It fails when the database does.
func (v *view) StudentCharges(ctx context.Context, user, feeID, barcode string, typ fees.Type) ([]Record, error) {
	if err := v.Flush(ctx); err != nil {
		return nil, err
	}
	return queryRecords(ctx, v.q, `WHERE r.kind = 'charge' AND r.outcome = 'charged' AND r.user_id = ?
		AND ((? != '' AND r.fee_id = ?) OR (? != '' AND r.barcode = ? AND (? = '' OR r.fee_type = ?)))
		ORDER BY r.created_at, r.key`, user, feeID, feeID, barcode, barcode, string(typ), string(typ))
}

// Claim decides whether r, a record decided into this file's output at
// line r.Line, belongs there: when its key is new, was held before (it is
// retried), or was decided into this same file and line (a rerun after a
// crash). It then records r (with r's outcome, in this file) and returns
// true; it returns false when the key was decided elsewhere, a duplicate
// to skip. It fails when the database does.
func (v *view) Claim(ctx context.Context, r Record) (bool, error) {
	old, ok, err := v.Record(ctx, r.Kind, r.Key)
	if err != nil {
		return false, err
	}
	if ok && !reopens(old.Outcome) && !v.same(old, r.Line) {
		return false, nil
	}
	r.FileID = v.file.ID
	v.put(r)
	return true, nil
}

// Hold records r as held (outcome rejected, with r.Reason and r.Code) in
// this file and returns true, unless its key was handled through another
// file or line: then it is a duplicate, not a new problem, and Hold
// returns false. It fails when the database does.
func (v *view) Hold(ctx context.Context, r Record) (bool, error) {
	old, ok, err := v.Record(ctx, r.Kind, r.Key)
	if err != nil {
		return false, err
	}
	if ok && !reopens(old.Outcome) && !v.same(old, r.Line) {
		return false, nil
	}
	r.Outcome, r.FileID = OutcomeRejected, v.file.ID
	v.put(r)
	return true, nil
}

// Refuse records r as held (outcome rejected, with r.Reason and r.Code)
// in this file, over the record of its key whatever its outcome: a
// charge or credit sent to the bursar whose load then refused it. The
// record is held again, to be re-driven, and no longer counts as sent.
// It fails when the database does.
func (v *view) Refuse(ctx context.Context, r Record) error {
	// Read first, so that what the view knows of the charge follows.
	if _, _, err := v.Record(ctx, r.Kind, r.Key); err != nil {
		return err
	}
	r.Outcome, r.FileID = OutcomeRejected, v.file.ID
	v.put(r)
	return nil
}

// Whole returns the record of kind and key as [Journal.Get] does, within
// the view: every column, the output of a charge named from its file.
func (v *view) Whole(ctx context.Context, kind, key string) (Record, bool, error) {
	if err := v.Flush(ctx); err != nil {
		return Record{}, false, err
	}
	return getRecord(ctx, v.q, kind, key)
}

// reopens reports whether a record of outcome leaves its key open to the
// next record under it: held (it is retried), or a held record closed
// without going through (dismissed, superseded).
func reopens(outcome string) bool {
	return outcome == OutcomeRejected || outcome == OutcomeDismissed || outcome == OutcomeSuperseded
}

// same reports whether old is the journal's record of the record at line
// of this file, decided before a crash: a key seen again at another line,
// or in another file, is a duplicate.
func (v *view) same(old Record, line int) bool {
	return old.FileID == v.file.ID && old.Line == line
}

// Flush writes the records queued by Claim and Hold, in multi-row
// statements. It fails when the database does.
func (v *view) Flush(ctx context.Context) error {
	if len(v.pending) == 0 {
		return nil
	}
	if err := v.logSuperseded(ctx); err != nil {
		return err
	}
	// The records the view looked up and found none of are inserted, the
	// others replaced.
	fresh, known := v.freshBuf[:0], v.knownBuf[:0]
	for i, r := range v.pending {
		if v.pendingFresh[i] {
			fresh = append(fresh, r)
		} else {
			known = append(known, r)
		}
	}
	v.freshBuf, v.knownBuf = fresh, known
	if err := insertRecords(ctx, v.q, fresh, v.now); err != nil {
		return err
	}
	if err := putRecords(ctx, v.q, known, v.now); err != nil {
		return err
	}
	if err := v.supersedeLines(ctx, v.pending); err != nil {
		return err
	}
	v.pending, v.pendingFresh = v.pending[:0], v.pendingFresh[:0]
	clear(v.pendingAt)
	return nil
}

// put applies r to the view and queues it for Flush. r's key must have
// been looked up in the view first.
func (v *view) put(r Record) {
	k := recordKey{r.Kind, r.Key}
	old, looked := v.records[k]
	if old.ok {
		if c := v.charges[old.rec.Ref]; c != nil && c.ok {
			c.taken -= c.share(old.rec)
		}
		if old.rec.Outcome == OutcomeRejected && wentThrough(r.Outcome) && old.rec.FileID != v.file.ID {
			v.superseding = append(v.superseding, r)
		}
	}
	if c := v.charges[r.Ref]; c != nil && c.ok {
		c.taken += c.share(r)
	}
	if r.Kind == KindCharge {
		// What is known of the charge and of its transaction id changes.
		delete(v.charges, r.Key)
		clear(v.byTxID)
	}
	v.records[k] = viewRecord{r, true}
	if i, ok := v.pendingAt[k]; ok {
		v.pending[i] = r
		return
	}
	v.pendingAt[k] = len(v.pending)
	v.pending = append(v.pending, r)
	// Looked up and not found: the journal has no record of that key
	// (the view's transaction holds the journal's write lock).
	v.pendingFresh = append(v.pendingFresh, looked && !old.ok)
}

// charge returns the charge under key.
func (v *view) charge(ctx context.Context, key string) (*viewCharge, error) {
	if c, ok := v.charges[key]; ok {
		return c, nil
	}
	if err := v.Flush(ctx); err != nil {
		return nil, err
	}
	if err := v.readCharges(ctx, []string{key}); err != nil {
		return nil, err
	}
	return v.charges[key], nil
}

// share is what the record r takes of the charge c, in minor units: its
// amount when it is a payment forwarded or a credit sent for c, in c's
// currency.
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

// readRecords reads the records of kind under keys into the view: what
// deciding a record needs of them (outcome, file, line, charge, amount).
func (v *view) readRecords(ctx context.Context, kind string, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	for _, k := range keys {
		v.records[recordKey{kind, k}] = viewRecord{}
	}
	// The kind, one of the Kind… constants (any other is refused), is
	// written into the query as a literal, which SQLite plans better than
	// a parameter: a batch of payments is read in less time.
	if !knownKind(kind) {
		return fmt.Errorf("journal: no kind of record %q", kind)
	}
	// The file's name is read for the records found alone (a batch of new
	// keys finds none), to name the earlier file of a conflict.
	from, where := v.underKeys(kind)
	return v.query(ctx, `SELECT r.key, r.outcome, COALESCE(r.file_id, 0), r.line, r.ref, r.amount, r.currency,
		r.user_id, r.fee_id, r.fee_type, r.dated, COALESCE(f.name, '')
		FROM `+from+` LEFT JOIN files f ON f.id = r.file_id
		WHERE `+where, keys,
		func(rows *sql.Rows) error {
			r := Record{Kind: kind}
			var amount int64
			var cur, typ, dated string
			if err := rows.Scan(&r.Key, &r.Outcome, &r.FileID, &r.Line, &r.Ref, &amount, &cur,
				&r.UserID, &r.FeeID, &typ, &dated, &r.File); err != nil {
				return err
			}
			r.Amount, r.FeeType, r.Date = amountOf(amount, cur), fees.Type(typ), parseDay(dated)
			v.records[recordKey{kind, r.Key}] = viewRecord{r, true}
			return nil
		})
}

// readCharges reads the charges under keys into the view, each with when
// it was sent (its record's creation time) and what was taken of it: the payments forwarded and the credits sent that name
// it, in its currency.
func (v *view) readCharges(ctx context.Context, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	for _, k := range keys {
		v.charges[k] = &viewCharge{}
	}
	// "p.ref != ''" lets SQLite use the partial index records_ref.
	from, where := v.underKeys(KindCharge)
	return v.query(ctx, `SELECT r.key, r.outcome, r.user_id, r.fee_id, r.fee_type, r.barcode, r.amount, r.currency,
		(SELECT COALESCE(SUM(p.amount), 0) FROM records p
			WHERE p.ref = r.key AND p.ref != '' AND p.outcome IN ('forwarded', 'credited') AND p.currency = r.currency),
		r.created_at
		FROM `+from+` WHERE `+where, keys,
		func(rows *sql.Rows) error {
			c := viewCharge{rec: Record{Kind: KindCharge}, ok: true}
			var amount int64
			var typ, cur, created string
			if err := rows.Scan(&c.rec.Key, &c.rec.Outcome, &c.rec.UserID, &c.rec.FeeID, &typ, &c.rec.Barcode,
				&amount, &cur, &c.taken, &created); err != nil {
				return err
			}
			c.rec.FeeType, c.rec.Amount = fees.Type(typ), amountOf(amount, cur)
			c.rec.Created = parseTime(created) // when the charge was sent
			v.charges[c.rec.Key] = &c
			return nil
		})
}

// underKeys returns the FROM item "records r" limited to the records of
// kind (one of the Kind… constants, written as a literal) under a batch
// of keys bound as one JSON array, and the WHERE condition that goes with
// it. A key listed twice may give its row twice.
//
// On SQLite, the keys are a list the primary key is probed with. On
// PostgreSQL, each key is looked up on its own, in a subquery the planner
// may not merge into the rest (OFFSET 0): a nested loop of primary-key
// probes, whatever the statistics say. Planned as one query, the list was
// probed well while the journal's statistics were right, but a journal
// filled in one run has statistics that are not: after the autovacuum's
// ANALYZE of a journal of a million charges and no payment yet, the
// payments job's own file (one transaction) adds payments the statistics
// do not know, and the planner, expecting one payment, read the index of
// every payment and filtered the batch's keys out of them, each batch
// slower than the one before (seconds a batch, past 300,000 payments).
func (v *view) underKeys(kind string) (from, where string) {
	if v.j.db.pg == nil {
		return `records r`, `r.kind = '` + kind + `' AND r.key IN (SELECT value FROM json_each(?))`
	}
	return `json_each(?) k CROSS JOIN LATERAL (SELECT * FROM records r
		WHERE r.kind = '` + kind + `' AND r.key = k.value OFFSET 0) r`, `TRUE`
}

// query runs query with keys, as a JSON array, for its one parameter
// (json_each reads it back: a batch binds one value, not one per key),
// and calls scan for each row.
func (v *view) query(ctx context.Context, query string, keys []string, scan func(*sql.Rows) error) error {
	list, err := json.Marshal(keys)
	if err != nil {
		return err
	}
	rows, err := v.q.QueryContext(ctx, query, string(list))
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return fmt.Errorf("journal: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	return nil
}

// knownKind reports whether kind is one of the Kind… constants.
func knownKind(kind string) bool {
	switch kind {
	case KindCharge, KindCredit, KindPayment, KindWaiver, KindEvent, KindRefund, KindResult:
		return true
	}
	return false
}
