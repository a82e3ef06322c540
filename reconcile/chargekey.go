package reconcile

import "strings"

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
