package reconcile

// SetPaymentBatch sets how many payments the payments job decides
// together, for a test, and returns the function that puts it back.
func SetPaymentBatch(n int) (restore func()) {
	old := paymentBatch
	paymentBatch = n
	return func() { paymentBatch = old }
}
