package fees

// ChargeKey returns a fee's identity on the bursar side: its bursar
// transaction id and its type, written as "transactionID/TYPE", for example
// "15216075690006761/OVERDUEFINE".
//
// The transaction id alone is not enough. A real Alma bursar export gives one
// bursarTransactionId to several fees of the same user and item when they
// differ in fine/fee type (an overdue fine, a damaged-item fine and a lost-item
// processing fee, say). The pair (transaction id, type) is unique within an
// export, and PeopleSoft sees both halves on every line (REF1_DESCR and the
// item type), so every adapter keys charges, credits and payments by it.
// Use ChargeKey rather than joining the two by hand, so that journals,
// ledgers and reports agree on the spelling.
func ChargeKey(transactionID string, t Type) string {
	return transactionID + "/" + string(t)
}

// ChargeKey returns f's bursar-side identity; see the function [ChargeKey].
func (f *Fee) ChargeKey() string {
	return ChargeKey(f.TransactionID, f.Type)
}
