package reconcile

// SetPaymentBatch sets how many payments the payments job decides
// together, for a test, and returns the function that puts it back.
func SetPaymentBatch(n int) (restore func()) {
	old := paymentBatch
	paymentBatch = n
	return func() { paymentBatch = old }
}

// PlainReason is plainReason, for the tests of the report's words.
var PlainReason = plainReason

// ReportText is the report's mail text.
func ReportText(r Report) string { return r.text() }
