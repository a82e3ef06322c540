package reconcile

// ahead is one item read ahead of its decision, or the error that ended
// the input: io.EOF at its end, or a fatal one.
type ahead[T any] struct {
	item T
	err  error
}

// readAhead calls next in a goroutine of its own until it returns an
// error, so that reading (the adapters' work: decoding, mapping) overlaps
// with deciding (the journal's). Items come out in order, in slices of up
// to chunk (one hand-over per slice, not per item); the last item carries
// io.EOF or the error that ended the input. stop ends the goroutine early
// and waits for it.
func readAhead[T any](chunk int, next func() (T, error)) (items <-chan []ahead[T], stop func()) {
	ch := make(chan []ahead[T], 4)
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(ch)
		buf := make([]ahead[T], 0, chunk)
		for {
			it, err := next()
			buf = append(buf, ahead[T]{it, err})
			if len(buf) == chunk || err != nil {
				select {
				case ch <- buf:
				case <-quit:
					return
				}
				buf = make([]ahead[T], 0, chunk)
			}
			if err != nil {
				return
			}
		}
	}()
	return ch, func() {
		close(quit)
		<-done
	}
}

// each ranges over the items of the slices received from ch.
func each[T any](ch <-chan []ahead[T]) func(yield func(ahead[T]) bool) {
	return func(yield func(ahead[T]) bool) {
		for items := range ch {
			for _, it := range items {
				if !yield(it) {
					return
				}
			}
		}
	}
}
