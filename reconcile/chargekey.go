package reconcile

import (
	"context"
	"strings"

	"github.com/feebridge/feebridge/fees"
)

// Charges, and the credits that reverse them, are journaled under their
// charge key, fees.ChargeKey(transaction id, fee type): Alma gives one
// bursar transaction id to several fees of different types, and only the
// pair tells them apart. Payments and credits name the charge they are for
// by that key in their ref column. Journals written before charge keys
// are brought to them by the schema migration 4.

// chargeTxID returns the bursar transaction id of the charge record r.
func chargeTxID(r Record) string {
	if r.FeeType != "" {
		if id, ok := strings.CutSuffix(r.Key, "/"+string(r.FeeType)); ok {
			return id
		}
	}
	return r.Key
}

// chargesOf returns the charge records sent for the bursar transaction id
// txid, of any fee type, in key order.
func chargesOf(ctx context.Context, q querier, txid string) ([]Record, error) {
	// Keys of the form txid + "/" + type sort between txid+"/" and
	// txid+"0", as '0' follows '/'.
	return queryRecords(ctx, q, `WHERE r.kind = 'charge' AND r.outcome = 'charged' AND r.key > ? AND r.key < ? ORDER BY r.key`,
		txid+"/", txid+"0")
}

// findCharge returns the charge that a payment or credit for (txid, typ)
// is for, and what the bursar still holds of it. With a fee type, the
// charge key names it. Without one (an adapter that cannot tell), the
// transaction id is enough when one charge was sent for it; when several
// were, ambiguous is how many, and nothing is guessed.
func findCharge(ctx context.Context, q querier, txid string, typ fees.Type, exceptKind, exceptKey string) (charge Record, left fees.Money, ok bool, ambiguous int, err error) {
	if typ != "" && typ != fees.TypeCredit {
		charge, left, ok, err = outstanding(ctx, q, fees.ChargeKey(txid, typ), exceptKind, exceptKey)
		return charge, left, ok, 0, err
	}
	cands, err := chargesOf(ctx, q, txid)
	if err != nil || len(cands) == 0 {
		return Record{}, fees.Money{}, false, 0, err
	}
	if len(cands) > 1 {
		return Record{}, fees.Money{}, false, len(cands), nil
	}
	charge, left, ok, err = outstanding(ctx, q, cands[0].Key, exceptKind, exceptKey)
	return charge, left, ok, 0, err
}
